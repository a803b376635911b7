/// The HTTP/1.1 protocol of one connection as a pure state machine: the event loop reports what happened
/// (`Event`, with the time it read from the clock), performs what the machine answers (`Action`), and
/// reports the result as the next event. No sockets, no epoll, no clock inside: its transitions are tested
/// by feeding events (`ConnectionStateMachineTests`).
///
/// It owns what the protocol decides on: the unparsed input and the parser, the unwritten output, the
/// phase and its time-outs, keep-alive, and whether the socket may still hold data (edge-triggered epoll
/// reports readiness once; the machine remembers it until a read says "would block").
struct ConnectionStateMachine {
    let configuration: Configuration
    private(set) var phase: Phase
    private(set) var phaseStarted: UInt64
    private(set) var lastProgress: UInt64
    /// Received and not yet parsed.
    private(set) var input = InputBuffer()
    private var parser: HTTPRequestParser
    private var output: [UInt8] = []
    private var outputOffset = 0
    /// Increases with every answer, so that a late answer to an earlier request is dropped.
    private(set) var sequence: UInt64 = 0
    /// epoll said readable and no read has said "would block" since.
    private var readable = false
    /// No write has said "would block" since epoll last said writable.
    private var writable = true
    /// The client closed its sending side.
    private var peerClosed = false
    private var closeAfterWrite = false
    /// The request was answered before its input was read: linger instead of closing at once.
    private var lingerOnClose = false
    private var lingerDrained = 0
    private(set) var draining = false
    /// The current request's handler answers later from elsewhere (a long poll).
    private var parked = false
    private var head = RequestFlags()

    /// What the machine keeps of the current request's head.
    private struct RequestFlags {
        var keepAlive = false
        var expectContinue = false
        var framing = BodyFraming.none
    }

    /// - Parameter tls: the connection starts with a TLS handshake.
    init(configuration: Configuration, tls: Bool, now: UInt64) {
        self.configuration = configuration
        parser = HTTPRequestParser(limits: configuration.parserLimits)
        phase = tls ? .handshake : .idle
        phaseStarted = now
        lastProgress = now
    }

    var hasPendingOutput: Bool { outputOffset < output.count }

    /// Calls `body` with the bytes still to write.
    func withPendingOutput<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        output.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[outputOffset...])) }
    }

    /// Whether an answer of this kind, queued now, keeps the connection open for the next request.
    func keepsAlive(after kind: ResponseKind) -> Bool {
        kind == .answer && head.keepAlive && !closeAfterWrite && !draining
    }

    mutating func receive(_ event: Event) -> Action {
        switch event {
        case .socketReady(let readable, let writable, let now):
            return socketReady(readable: readable, writable: writable, now: now)
        case .socketFailed, .ioFailed:
            return .close
        case .handshakeProgressed(let now):
            lastProgress = now
            return .wait
        case .handshakeFinished(let now):
            return handshakeFinished(now: now)
        case .received(let chunk, let drained, let now):
            input.append(chunk)
            lastProgress = now
            if drained { readable = false }
            return advance(now: now)
        case .discarded(let count):
            lingerDrained += count
            return lingerDrained >= configuration.lingerBytes ? .close : .discard
        case .readWouldBlock(let now):
            readable = false
            return advance(now: now)
        case .endOfStream(let now):
            return endOfStream(now: now)
        case .wrote(let count, let now):
            return wrote(count, now: now)
        case .writeWouldBlock(let now):
            // Edge-triggered EPOLLOUT tells when there is room again.
            writable = false
            return advance(now: now)
        case .routed(let bodyLimit, let now):
            return routed(bodyLimit: bodyLimit, now: now)
        case .admissionStarted:
            phase = .admitting
            return .wait
        case .admissionWithHandler(let now):
            return admissionWithHandler(now: now)
        case .accessGranted(let now):
            return accessGranted(now: now)
        case .handlerStarted(let parked):
            self.parked = parked
            return .wait
        case .responseQueued(let bytes, let kind, let now):
            return responseQueued(bytes, kind, now: now)
        case .timerFired(let now):
            return timeoutAction(now: now)
        case .serverDraining:
            draining = true
            let unused = (phase == .idle || phase == .handshake) && !hasPendingOutput && input.isEmpty
            return unused ? .close : .wait
        }
    }

    private mutating func socketReady(readable: Bool, writable: Bool, now: UInt64) -> Action {
        if phase == .handshake { return .handshake }
        if readable { self.readable = true }
        if writable { self.writable = true }
        return advance(now: now)
    }

    private mutating func handshakeFinished(now: UInt64) -> Action {
        enter(.idle, now: now)
        lastProgress = now
        // The client may have sent its first request with the end of the handshake.
        readable = true
        return advance(now: now)
    }

    private mutating func enter(_ next: Phase, now: UInt64) {
        phase = next
        phaseStarted = now
    }

    /// The next step when nothing in particular happened: write what is pending, read what the socket
    /// holds, parse what was read — in that order, so that answers leave in the order of their requests.
    private mutating func advance(now: UInt64) -> Action {
        let pending = hasPendingOutput
        if pending && writable { return .write }
        let roomForInput = input.count < configuration.maxBufferedInput
        switch phase {
        case .handshake, .admitting, .admittingWithBody:
            // Nothing more is taken in before the route's admission has decided.
            return .wait
        case .lingering:
            return readable ? .discard : .wait
        case .closing where !pending:
            return lingerOnClose ? startLingering(now: now) : .close
        case .processing, .closing:
            return readable && roomForInput ? .read : .wait
        case .idle, .head, .body:
            if readable && (!pending || roomForInput) { return .read }
            return pending ? .wait : parse(now: now)
        }
    }

    /// Parses the next step of a request. The next request of a pipeline is parsed only after the
    /// previous answer is written (`advance` writes first), which keeps answers in order.
    private mutating func parse(now: UInt64) -> Action {
        switch parser.next(&input) {
        case .needMore:
            if parser.isIdle && input.isEmpty {
                if phase != .idle { enter(.idle, now: now) }
                input.releaseIfEmpty()
            } else if phase == .idle {
                enter(.head, now: now)
            }
            // The client closed in the middle of a request: nothing more will come.
            return peerClosed ? .close : .wait
        case .head(let requestHead):
            head = RequestFlags(keepAlive: requestHead.keepAlive, expectContinue: requestHead.expectContinue, framing: requestHead.framing)
            enter(.body, now: now)
            lastProgress = now
            return .route(requestHead)
        case .complete(let body):
            enter(.processing, now: now)
            parked = false
            return .dispatch(body: body)
        case .error(let error):
            return .answerError(error)
        }
    }

    private mutating func routed(bodyLimit: Int, now: UInt64) -> Action {
        if case .length(let n) = head.framing, n > bodyLimit {
            // Refused before the body is read (RFC 9110 §15.5.14).
            return .answerError(HTTPParseError(status: .contentTooLarge, code: "body_too_large", message: "The request body is larger than \(bodyLimit) bytes."))
        }
        parser.bodyLimit = bodyLimit
        if head.framing == .none || head.framing == .length(0) { return advance(now: now) }
        // Access is decided from the head before any of the body is read: a client without credentials
        // cannot make the server hold its body, and gets no "100 Continue".
        return .decideAccess
    }

    /// The current request's whole `Content-Length` body is in the input and the client did not ask for
    /// "100 Continue": holding it back while the admission decides gains nothing, so the admission may run
    /// with the handler (`admissionWithHandler`).
    var bodyArrivedWithHead: Bool {
        guard phase == .body, !head.expectContinue, let length = parser.unreadBodyLength, length > 0 else { return false }
        return input.count >= length
    }

    private mutating func admissionWithHandler(now: UInt64) -> Action {
        precondition(bodyArrivedWithHead, "the admission runs with the handler only on a body that came with the head")
        guard case .complete(let body) = parser.next(&input) else { preconditionFailure("a buffered Content-Length body did not complete") }
        enter(.admittingWithBody, now: now)
        parked = false
        return .admitAndDispatch(body: body)
    }

    /// The body may come: its deadline starts now, and a client that asked gets "100 Continue".
    private mutating func accessGranted(now: UInt64) -> Action {
        enter(.body, now: now)
        lastProgress = now
        if head.expectContinue { output.append(contentsOf: "HTTP/1.1 100 Continue\r\n\r\n".utf8) }
        return advance(now: now)
    }

    private mutating func responseQueued(_ bytes: [UInt8], _ kind: ResponseKind, now: UInt64) -> Action {
        let keepAlive = keepsAlive(after: kind)
        if kind == .refusal {
            // The unread input makes the connection unusable; after a framing error the rest of the
            // stream cannot be trusted either (RFC 9112 §11.2).
            lingerOnClose = true
        }
        if !keepAlive { closeAfterWrite = true }
        if output.isEmpty { output = bytes } else { output.append(contentsOf: bytes) }
        sequence &+= 1
        enter(keepAlive ? .idle : .closing, now: now)
        return advance(now: now)
    }

    private mutating func wrote(_ count: Int, now: UInt64) -> Action {
        outputOffset += count
        lastProgress = now
        if !hasPendingOutput {
            output.removeAll(keepingCapacity: output.capacity <= 16 * 1024)
            outputOffset = 0
        }
        return advance(now: now)
    }

    private mutating func endOfStream(now: UInt64) -> Action {
        readable = false
        if phase == .lingering { return .close }
        peerClosed = true
        let pending = hasPendingOutput
        // A parked request (a long poll) whose client closed its side: the client is gone, as every
        // long-polling client that stops waiting closes the connection. Closing now frees the socket and
        // cancels the responder (the handler's `onCancel` runs) instead of holding both until the wait ends.
        if phase == .processing && !pending && parked { return .close }
        if phase == .processing || phase == .admittingWithBody || pending {
            // A request being answered still gets its answer, and then the connection closes.
            closeAfterWrite = true
            if phase == .idle { phase = .closing }
            return advance(now: now)
        }
        if input.isEmpty { return .close }
        closeAfterWrite = true
        return advance(now: now)
    }

    /// Our side is done (FIN after the answer); what the client still sends — the body we refused — is read
    /// and dropped until it closes, for `lingerTimeout` or `lingerBytes`. Closing with unread input at once
    /// would send a reset, which can destroy the answer before the client reads it (RFC 9112 §9.6).
    private mutating func startLingering(now: UInt64) -> Action {
        enter(.lingering, now: now)
        input = InputBuffer()
        readable = true
        return .linger
    }
}
