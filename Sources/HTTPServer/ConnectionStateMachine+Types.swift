/// The events, actions and settings of `ConnectionStateMachine`.
extension ConnectionStateMachine {
    enum Phase: Equatable {
        /// TLS handshake in progress (the header time-out applies; no HTTP answer is possible yet).
        case handshake
        /// Between requests (keep-alive idle time-out applies).
        case idle
        /// Receiving a header block (header time-out applies from its first byte).
        case head
        /// The route's admission decides on the head on a worker; nothing more is read until it has.
        case admitting
        /// The body came with the head: the route's admission and then its handler run in one worker job.
        /// As in `admitting`, nothing more is read until it answers; as in `processing`, no time-out.
        case admittingWithBody
        /// Receiving a body (idle time-out and the body deadline apply).
        case body
        /// A handler owns the request; no time-out (long polls wait up to their own limit).
        case processing
        /// The last answer is being written; the connection closes (or lingers) once it is.
        case closing
        /// The answer is written and our side shut down; the rest of what the client sends is read and
        /// dropped for a moment, so that closing does not reset the connection before it read the answer.
        case lingering
    }

    /// What happened, as the event loop saw it.
    enum Event {
        /// epoll reported the socket ready (edge-triggered). TLS: any event may unblock a write.
        case socketReady(readable: Bool, writable: Bool, now: UInt64)
        /// epoll reported an error on the socket.
        case socketFailed
        /// A TLS handshake step waits for the socket.
        case handshakeProgressed(now: UInt64)
        case handshakeFinished(now: UInt64)
        /// Bytes read; `drained` when the read shows that the socket holds no more.
        case received(UnsafeRawBufferPointer, drained: Bool, now: UInt64)
        /// Bytes read and dropped while lingering.
        case discarded(Int)
        case readWouldBlock(now: UInt64)
        /// The client closed its sending side.
        case endOfStream(now: UInt64)
        /// A read or write failed (reset, TLS error): the connection cannot go on.
        case ioFailed
        case wrote(Int, now: UInt64)
        case writeWouldBlock(now: UInt64)
        /// The request's route is known; its body may be `bodyLimit` bytes at most.
        case routed(bodyLimit: Int, now: UInt64)
        /// The route's admission runs on a worker; its outcome comes back as `accessGranted` or a refusal.
        case admissionStarted
        /// The route's admission is to run with its handler in one worker job, on the body that came with
        /// the head (`bodyArrivedWithHead`): the machine takes the body (`admitAndDispatch`).
        case admissionWithHandler(now: UInt64)
        /// The body may come (no admission, or it admitted).
        case accessGranted(now: UInt64)
        /// A handler owns the request; `parked` when it answers later from elsewhere (a long poll).
        case handlerStarted(parked: Bool)
        /// An answer, serialized with `keepsAlive(after:)`, is ready to be written.
        case responseQueued([UInt8], ResponseKind, now: UInt64)
        /// The periodic time-out check.
        case timerFired(now: UInt64)
        /// The server shuts down gracefully.
        case serverDraining
    }

    /// What the event loop must do next; its result comes back as the next event.
    enum Action {
        /// Nothing until the next event from epoll, a worker or the timer.
        case wait
        /// Close the socket (and cancel a waiting handler).
        case close
        /// One TLS handshake step.
        case handshake
        /// Read into the input (`received`, `readWouldBlock`, `endOfStream` or `ioFailed`).
        case read
        /// Read and drop (`discarded`, …).
        case discard
        /// Write the pending output (`withPendingOutput`; `wrote`, `writeWouldBlock` or `ioFailed`).
        case write
        /// Shut down our sending side, then `discard`.
        case linger
        /// Match the route of this head (`routed`).
        case route(RequestHead)
        /// Decide from the head whether the body may come (`accessGranted`, `admissionStarted`, or a refusal).
        case decideAccess
        /// Hand the complete request to its handler (`handlerStarted`, or an answer).
        case dispatch(body: [UInt8])
        /// Run the route's admission and, if it admits, the handler on this body, in one worker job
        /// (`handlerStarted`, or an answer; an admission's refusal is answered as a `.refusal`).
        case admitAndDispatch(body: [UInt8])
        /// Answer with this error without reading the rest of the input (`responseQueued` with `.refusal`).
        case answerError(HTTPParseError)
    }

    /// How an answer leaves the input behind.
    enum ResponseKind: Equatable {
        /// The request was read in full: the connection may carry the next one.
        case answer
        /// Answered without reading the body (or after a framing error): close after writing, lingering.
        case refusal
    }

    /// Limits and time-outs, in nanoseconds.
    struct Configuration {
        var parserLimits = HTTPParserLimits()
        var headerTimeout: UInt64 = 10_000_000_000
        var bodyIdleTimeout: UInt64 = 10_000_000_000
        var bodyTimeout: UInt64 = 60_000_000_000
        var keepAliveTimeout: UInt64 = 60_000_000_000
        /// How long a connection answered before its body was read keeps draining what the client still sends.
        var lingerTimeout: UInt64 = 2_000_000_000
        /// How much it drains (a flood of refused bodies must not cost more than reading their first bytes).
        var lingerBytes = 64 * 1024
        /// Most unparsed bytes held while an answer is pending (pipelined requests); beyond it reading
        /// pauses until the answer is written.
        var maxBufferedInput = 64 * 1024
    }
}
