#if canImport(Glibc)
import Glibc
#endif
import CSystem
import Foundation
import Logging
import Synchronization

/// State shared by all loops of one server.
final class ServerCore: Sendable {
    let configuration: ServerConfiguration
    let router: Router
    let workers: WorkerPool
    let renderer: ErrorRenderer
    let observer: (@Sendable (RequestRecord) -> Void)?
    let logger: Logger
    let openConnections = Atomic<Int>(0)
    let acceptedConnections = Atomic<Int>(0)
    let rejectedConnections = Atomic<Int>(0)
    /// nil when there is no per-address limit.
    let addressConnections: AddressConnections?
    /// Request bodies of 64 KiB or more received.
    let largeBodies = Atomic<Int>(0)

    init(configuration: ServerConfiguration, router: Router, workers: WorkerPool, renderer: ErrorRenderer,
         observer: (@Sendable (RequestRecord) -> Void)?, logger: Logger) {
        self.configuration = configuration
        self.router = router
        self.workers = workers
        self.renderer = renderer
        self.observer = observer
        self.logger = logger
        self.addressConnections = configuration.maxConnectionsPerAddress > 0 ? AddressConnections(limit: configuration.maxConnectionsPerAddress) : nil
    }

    /// Sent to a connection over the cap, then closed, without reading anything. The length is counted,
    /// not written by hand (it once said 78 for a body of 79 bytes).
    static let overloaded: [UInt8] = {
        let body = ErrorBody.encode(code: "overloaded", message: "Too many connections; try again in a moment.", field: nil, extra: [:])
        return Array(("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\n"
            + "Content-Length: \(body.count)\r\n\r\n").utf8) + body
    }()
}

/// One epoll loop on its own thread: accepts on its own SO_REUSEPORT listener, reads, parses,
/// dispatches to the worker pool, writes, and enforces time-outs.
///
/// `@unchecked Sendable`: all stored state except `tasks`, `wakeArmed` and the eventfd is touched only
/// on the loop's thread; those three are the thread-safe way in (`submit`).
final class EventLoop: @unchecked Sendable {
    enum Task {
        case complete(ConnectionRef, UInt64, Response)
        /// The route's admission decided on a head (see `Admission`).
        case admitted(ConnectionRef, UInt64, AdmissionOutcome)
        case shutdown(deadline: UInt64)
    }

    enum AdmissionOutcome {
        case admitted((any Sendable)?)
        case refused(Response)
    }

    /// How long, and how much, a connection answered before its body was read keeps draining what the
    /// client still sends (a flood of refused bodies must not cost more than reading their first bytes).
    private static let lingerNanoseconds: UInt64 = 2_000_000_000
    private static let lingerBytes = 64 * 1024
    /// A trusted reverse proxy (`isExemptFromAddressLimit`) buffers the client's whole body and then sends
    /// it on, up to its own limit (nginx: 2 MB): it is drained in full, or closing on it resets the
    /// connection mid-body and the proxy answers 502 instead of our 413.
    private static let proxyLingerBytes = 16 * 1024 * 1024

    private let core: ServerCore
    private let index: Int
    /// TLS on this listener, or nil for plain HTTP.
    private let tls: TLSContext?
    private let epfd: Int32
    private let wakefd: Int32
    private var listener: ListeningSocket?
    private let tasks = Mutex<[Task]>([])
    private let wakeArmed = Atomic<Bool>(false)
    private var connections: [Int32: Connection] = [:]
    private var writer: ResponseWriter
    private var accessLine = AccessLogLine()
    /// This loop's own buffer in the log sink (made on first use).
    private var accessLane: LogSink.Lane?
    private var draining = false
    private var drainDeadline: UInt64 = 0
    private var acceptPausedUntil: UInt64 = 0
    private var lastSweep: UInt64 = 0
    private var requestCounter: UInt64 = 0
    private let requestPrefix: String
    private let scratchSize = 64 * 1024
    private let scratch: UnsafeMutableRawPointer
    let finished = Mutex<Bool>(false)

    init(core: ServerCore, index: Int, listener: ListeningSocket, tls: TLSContext? = nil) throws {
        self.core = core
        self.index = index
        self.tls = tls
        writer = ResponseWriter(strictTransportSecurity: core.configuration.strictTransportSecurity)
        self.listener = listener
        guard let ep = try syscall("epoll_create1", blocking: true, { csystem_epoll_create() }) else { throw SystemError(call: "epoll_create1", errno: EAGAIN) }
        epfd = ep
        guard let wfd = try syscall("eventfd", blocking: true, { csystem_eventfd() }) else { throw SystemError(call: "eventfd", errno: EAGAIN) }
        wakefd = wfd
        scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchSize, alignment: 16)
        requestPrefix = String(UInt32.random(in: 0x1000_0000...UInt32.max), radix: 16) + "\(index)"
        do {
            try epollControl(epfd, CSYSTEM_EPOLL_CTL_ADD, listener.fd, events: CSYSTEM_EPOLLIN)
            try epollControl(epfd, CSYSTEM_EPOLL_CTL_ADD, wakefd, events: CSYSTEM_EPOLLIN)
        } catch {
            // A loop that cannot watch its listener would never accept: the server does not start.
            closeDescriptor(wakefd)
            closeDescriptor(epfd)
            throw error
        }
    }

    deinit {
        scratch.deallocate()
    }

    /// Hands work to the loop from any thread.
    func submit(_ task: Task) {
        tasks.withLock { $0.append(task) }
        if !wakeArmed.exchange(true, ordering: .acquiringAndReleasing) {
            var one: UInt64 = 1
            _ = write(wakefd, &one, 8)
        }
    }

    // MARK: - The loop

    func run() {
        let maxEvents: Int32 = 1024
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: Int(maxEvents))
        defer { events.deallocate() }
        let sweepMs = core.configuration.sweepIntervalMilliseconds
        lastSweep = MonotonicClock.now()
        while true {
            let n = csystem_epoll_wait(epfd, events, maxEvents, sweepMs)
            if n < 0 && csystem_errno() != EINTR {
                core.logger.critical("epoll_wait failed", metadata: ["errno": "\(csystem_errno())"])
                break
            }
            var now = MonotonicClock.now()
            for i in 0..<Int(max(n, 0)) {
                let ev = events.advanced(by: i)
                let fd = Int32(truncatingIfNeeded: csystem_epoll_event_data(ev))
                let flags = csystem_epoll_event_events(ev)
                if let l = listener, fd == l.fd {
                    acceptConnections(now: now)
                } else if fd == wakefd {
                    var value: UInt64 = 0
                    _ = read(wakefd, &value, 8)
                    runTasks(now: now)
                } else if let connection = connections[fd] {
                    handle(connection, flags: flags, now: now)
                }
            }
            now = MonotonicClock.now()
            if now &- lastSweep >= UInt64(sweepMs) * 1_000_000 {
                sweep(now: now)
                lastSweep = now
            }
            if draining && (connections.isEmpty || now >= drainDeadline) {
                break
            }
        }
        for connection in Array(connections.values) { close(connection) }
        if let l = listener { closeDescriptor(l.fd); listener = nil }
        closeDescriptor(wakefd)
        closeDescriptor(epfd)
        finished.withLock { $0 = true }
    }

    private func runTasks(now: UInt64) {
        wakeArmed.store(false, ordering: .releasing)
        let batch = tasks.withLock { t -> [Task] in
            let b = t
            t.removeAll(keepingCapacity: true)
            return b
        }
        for task in batch {
            switch task {
            case .complete(let ref, let sequence, let response):
                let connection = ref.connection
                guard !connection.isClosed, connection.sequence == sequence, connection.current != nil else { continue }
                finish(connection, response: response, now: now)
            case .admitted(let ref, let sequence, let outcome):
                let connection = ref.connection
                guard !connection.isClosed, connection.sequence == sequence, connection.phase == .admitting, var current = connection.current else { continue }
                switch outcome {
                case .admitted(let value):
                    current.admitted = value
                    connection.current = current
                    continueWithBody(connection, now: now)
                    if !connection.isClosed { readAvailable(connection, now: now) }
                case .refused(let response):
                    refuseBeforeBody(connection, response: response, now: now)
                }
            case .shutdown(let deadline):
                beginDrain(deadline: deadline)
            }
        }
    }

    // MARK: - Accept

    private func acceptConnections(now: UInt64) {
        guard let l = listener else { return }
        for _ in 0..<256 {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = csystem_accept4_addr(l.fd, &storage, &length, CSYSTEM_SOCK_NONBLOCK | CSYSTEM_SOCK_CLOEXEC)
            if fd < 0 {
                let err = csystem_errno()
                if err == EINTR || err == ECONNABORTED { continue }
                if err == EMFILE || err == ENFILE {
                    // Out of descriptors: stop accepting for a moment instead of spinning on a ready listener.
                    core.logger.warning("out of file descriptors; pausing accept", metadata: ["errno": "\(err)"])
                    acceptPausedUntil = now + 100_000_000
                    do {
                        try epollControl(epfd, CSYSTEM_EPOLL_CTL_MOD, l.fd, events: 0)
                    } catch {
                        core.logger.warning("cannot pause accepting", metadata: ["errno": "\(error.errno)"])
                    }
                }
                return
            }
            let open = core.openConnections.wrappingAdd(1, ordering: .relaxed).newValue
            if open > core.configuration.maxConnections {
                core.openConnections.wrappingSubtract(1, ordering: .relaxed)
                core.rejectedConnections.wrappingAdd(1, ordering: .relaxed)
                // A TLS client could not read a plain answer: it is only closed.
                if tls == nil { ServerCore.overloaded.withUnsafeBytes { _ = send(fd, $0.baseAddress, $0.count, CSYSTEM_MSG_NOSIGNAL) } }
                closeDescriptor(fd)
                continue
            }
            let remoteAddress = formatAddress(&storage)
            var addressKey: String?
            let trustedProxy = core.configuration.isExemptFromAddressLimit?(remoteAddress) == true
            if let perAddress = core.addressConnections, !trustedProxy {
                let key = AddressConnections.key(&storage, formatted: remoteAddress)
                guard perAddress.admit(key) else {
                    // One client (a flood of slow connections) must not take the places of all others.
                    core.openConnections.wrappingSubtract(1, ordering: .relaxed)
                    core.rejectedConnections.wrappingAdd(1, ordering: .relaxed)
                    var refusal = Response.error(.tooManyRequests, code: "too_many_connections", message: "Too many open connections from this address; close some and try again.")
                    refusal.headers.set("Retry-After", "1")
                    // A TLS client could not read a plain answer: it is only closed.
                    if tls == nil {
                        let bytes = writer.serialize(refusal, method: .GET, minorVersion: 1, keepAlive: false, requestID: requestID(from: [:]))
                        bytes.withUnsafeBytes { _ = send(fd, $0.baseAddress, $0.count, CSYSTEM_MSG_NOSIGNAL) }
                    }
                    closeDescriptor(fd)
                    continue
                }
                addressKey = key
            }
            var session: TLSSession?
            if let tls {
                session = TLSSession(context: tls, fd: fd)
                guard session != nil else {
                    core.openConnections.wrappingSubtract(1, ordering: .relaxed)
                    if let addressKey { core.addressConnections?.release(addressKey) }
                    closeDescriptor(fd)
                    continue
                }
            }
            core.acceptedConnections.wrappingAdd(1, ordering: .relaxed)
            do {
                try setSocketOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
            } catch {
                // Only latency suffers (Nagle's algorithm stays on): the connection is served all the same.
                core.logger.warning("cannot set TCP_NODELAY", metadata: ["errno": "\(error.errno)"])
            }
            let connection = Connection(fd: fd, remoteAddress: remoteAddress, addressKey: addressKey, limits: core.configuration.parserLimits, now: now, tls: session)
            connection.fromTrustedProxy = trustedProxy
            connections[fd] = connection
            // Edge-triggered, registered once: no epoll_ctl per request. Reads drain to EAGAIN.
            do {
                try epollControl(epfd, CSYSTEM_EPOLL_CTL_ADD, fd, events: CSYSTEM_EPOLLIN | CSYSTEM_EPOLLOUT | CSYSTEM_EPOLLRDHUP | CSYSTEM_EPOLLET)
            } catch {
                // Unwatched, the connection would never be read (ENOMEM, or the user's epoll watch limit).
                core.logger.warning("cannot watch a new connection; closing it", metadata: ["errno": "\(error.errno)"])
                close(connection)
            }
        }
    }

    // MARK: - Events

    private func handle(_ connection: Connection, flags: UInt32, now: UInt64) {
        if flags & CSYSTEM_EPOLLERR != 0 {
            close(connection)
            return
        }
        if let session = connection.tls, !session.established {
            continueHandshake(connection, session, now: now)
            return
        }
        // A TLS write can wait for the socket either way; plain writes wait for EPOLLOUT only.
        if (flags & CSYSTEM_EPOLLOUT != 0 || connection.tls != nil) && connection.hasPendingOutput {
            flush(connection, now: now)
            if connection.isClosed { return }
        }
        if flags & (CSYSTEM_EPOLLIN | CSYSTEM_EPOLLRDHUP | CSYSTEM_EPOLLHUP) != 0 {
            readAvailable(connection, now: now)
        }
    }

    /// One non-blocking handshake step; a finished handshake goes on to read what the client sent with it.
    private func continueHandshake(_ connection: Connection, _ session: TLSSession, now: UInt64) {
        switch session.handshake() {
        case .done:
            connection.phase = .idle
            connection.phaseStarted = now
            connection.lastProgress = now
            readAvailable(connection, now: now)
        case .wantRead, .wantWrite:
            connection.lastProgress = now
        case .bytes, .closed, .failed:
            // Plain HTTP to the TLS port, a certificate of another CA or an expired one, a bad record.
            close(connection)
        }
    }

    /// What one receive did.
    private enum Received {
        case bytes(Int)
        case endOfStream
        case wouldBlock
        case interrupted
        case failed
    }

    /// Reads into the scratch buffer from the socket, or through TLS.
    private func receive(_ connection: Connection) -> Received {
        if let session = connection.tls {
            switch session.read(into: scratch, count: scratchSize) {
            case .bytes(let n): return .bytes(n)
            case .closed: return .endOfStream
            case .wantRead, .wantWrite: return .wouldBlock
            case .done, .failed: return .failed
            }
        }
        let n = recv(connection.fd, scratch, scratchSize, 0)
        if n > 0 { return .bytes(n) }
        if n == 0 { return .endOfStream }
        let err = csystem_errno()
        if err == EINTR { return .interrupted }
        if err == EAGAIN || err == EWOULDBLOCK { return .wouldBlock }
        return .failed
    }

    /// What one send did.
    private enum Sent {
        case bytes(Int)
        case wouldBlock
        case interrupted
        case failed
    }

    /// Writes from `bytes` to the socket, or through TLS.
    private func transmit(_ connection: Connection, _ bytes: UnsafeRawPointer, count: Int) -> Sent {
        if let session = connection.tls {
            switch session.write(bytes, count: count) {
            case .bytes(let n): return .bytes(n)
            case .wantRead, .wantWrite: return .wouldBlock
            case .done, .closed, .failed: return .failed
            }
        }
        let n = send(connection.fd, bytes, count, CSYSTEM_MSG_NOSIGNAL)
        if n > 0 { return .bytes(n) }
        let err = csystem_errno()
        if n < 0 && err == EINTR { return .interrupted }
        if n < 0 && (err == EAGAIN || err == EWOULDBLOCK) { return .wouldBlock }
        return .failed
    }

    /// Most unparsed bytes held for a connection whose current request is still being answered
    /// (pipelined requests); beyond it reading pauses until the answer is written.
    private static let maxBufferedInput = 64 * 1024

    /// Reads until EAGAIN (edge-triggered), then parses.
    private func readAvailable(_ connection: Connection, now: UInt64) {
        if connection.phase == .lingering {
            drainLingering(connection)
            return
        }
        connection.readPaused = false
        while true {
            if connection.phase == .admitting {
                // Nothing of the body is taken in before the route's admission has decided.
                connection.readPaused = true
                break
            }
            if (connection.phase == .processing || connection.hasPendingOutput) && connection.input.count >= Self.maxBufferedInput {
                connection.readPaused = true
                break
            }
            let received = receive(connection)
            if case .bytes(let n) = received {
                connection.input.append(UnsafeRawBufferPointer(start: scratch, count: n))
                connection.lastProgress = now
                // A short read drained the socket; data that arrives later raises a new edge
                // (as nginx relies on), so the extra recv that would only say EAGAIN is skipped.
                // Not so with TLS: a read returns one record, and OpenSSL may hold more (decrypted or not).
                if connection.tls == nil && n < scratchSize { break }
                continue
            }
            if case .endOfStream = received {
                // A parked request (a long poll) whose client closed its side: the client is gone, as every
                // long-polling client that stops waiting closes the connection. Dropping it now frees the
                // socket and cancels the responder (the handler's `onCancel` runs) instead of holding both
                // until the wait ends.
                if connection.phase == .processing && !connection.hasPendingOutput && isParked(connection) {
                    close(connection)
                    return
                }
                // The client finished sending. A request being answered still gets its answer.
                if connection.phase == .processing || connection.hasPendingOutput {
                    connection.closeAfterWrite = true
                    break
                }
                if connection.input.isEmpty {
                    close(connection)
                    return
                }
                connection.closeAfterWrite = true
                break
            }
            if case .interrupted = received { continue }
            if case .wouldBlock = received { break }
            close(connection)
            return
        }
        processInput(connection, now: now)
        if connection.closeAfterWrite && !connection.isClosed && connection.phase != .processing && connection.phase != .admitting
            && connection.phase != .lingering && !connection.hasPendingOutput {
            // EOF in the middle of a request: nothing more will come.
            close(connection)
        }
    }

    /// True while the connection's request is with a `.deferred` handler (answered later from elsewhere).
    private func isParked(_ connection: Connection) -> Bool {
        guard let current = connection.current, current.responder != nil, case .found(let index, _) = current.match,
              core.router.routes.indices.contains(index), case .deferred = core.router.routes[index].handler else { return false }
        return true
    }

    /// Parses as many requests as the buffer holds, one at a time: the next request of a pipeline is
    /// parsed only after the previous answer is written, which keeps answers in order.
    private func processInput(_ connection: Connection, now: UInt64) {
        while !connection.isClosed && !connection.hasPendingOutput
                && (connection.phase == .idle || connection.phase == .head || connection.phase == .body) {
            switch connection.parser.next(&connection.input) {
            case .needMore:
                if connection.parser.isIdle && connection.input.isEmpty {
                    if connection.phase != .idle {
                        connection.phase = .idle
                        connection.phaseStarted = now
                    }
                    connection.input.releaseIfEmpty()
                } else if connection.phase == .idle {
                    connection.phase = .head
                    connection.phaseStarted = now
                }
                return
            case .head(let head):
                startRequest(connection, head: head, now: now)
            case .complete(let body):
                dispatch(connection, body: body, now: now)
            case .error(let error):
                respondToProtocolError(connection, status: error.status, code: error.code, message: error.message, now: now)
                return
            }
        }
    }

    private func startRequest(_ connection: Connection, head: RequestHead, now: UInt64) {
        let path = head.target.firstIndex(of: "?").map { head.target[..<$0] } ?? head.target[...]
        let match = core.router.match(method: head.method, path: path)
        var limit = core.configuration.maxBodyBytes
        if case .found(let index, _) = match, let routeLimit = core.router.routes[index].maxBodyBytes { limit = routeLimit }
        connection.current = Connection.Current(head: head, match: match, requestID: requestID(from: head.headers), started: now, responder: nil)
        connection.phase = .body
        connection.phaseStarted = now
        connection.lastProgress = now
        if case .length(let n) = head.framing, n > limit {
            // Refused before the body is read (RFC 9110 §15.5.14).
            respondToProtocolError(connection, status: .contentTooLarge, code: "body_too_large", message: "The request body is larger than \(limit) bytes.", now: now)
            return
        }
        connection.parser.bodyLimit = limit
        guard head.framing != .none && head.framing != .length(0) else { return }
        // Access is decided from the head before any of the body is read: a client without credentials
        // cannot make the server hold its body, and gets no "100 Continue".
        guard case .found(let index, let parameters) = match else {
            refuseBeforeBody(connection, response: unmatchedResponse(match), now: now)
            return
        }
        let route = core.router.routes[index]
        if let admission = route.admission, let requestID = connection.current?.requestID {
            let request = Request(
                method: head.method, target: head.target, minorVersion: head.minorVersion, headers: head.headers, body: [],
                parameters: parameters, route: route.pattern, requestID: requestID, remoteAddress: connection.remoteAddress,
                transport: connection.transport
            )
            if let refusal = admission.screen?(request) {
                refuseBeforeBody(connection, response: refusal, now: now)
                return
            }
            if let admit = admission.admit {
                connection.phase = .admitting
                let ref = ConnectionRef(connection: connection)
                let sequence = connection.sequence
                let renderer = core.renderer
                let submitted = core.workers.trySubmit { [self] in
                    let outcome: AdmissionOutcome
                    do {
                        outcome = .admitted(try admit(request))
                    } catch {
                        outcome = .refused(renderer.response(for: error, request: request))
                    }
                    submit(.admitted(ref, sequence, outcome))
                }
                if !submitted { refuseBeforeBody(connection, response: Self.busy, now: now) }
                return
            }
        }
        continueWithBody(connection, now: now)
    }

    /// The body may come: its deadline starts now, and a client that asked gets "100 Continue".
    private func continueWithBody(_ connection: Connection, now: UInt64) {
        connection.phase = .body
        connection.phaseStarted = now
        connection.lastProgress = now
        if connection.current?.head.expectContinue == true {
            connection.output.append(contentsOf: "HTTP/1.1 100 Continue\r\n\r\n".utf8)
            flush(connection, now: now)
        }
    }

    /// Answers a request whose body was not read; the unread body makes the connection unusable.
    private func refuseBeforeBody(_ connection: Connection, response: Response, now: UInt64) {
        connection.closeAfterWrite = true
        connection.lingerOnClose = true
        finish(connection, response: response, now: now)
    }

    private static var busy: Response {
        var r = Response.error(.serviceUnavailable, code: "overloaded", message: "The server is busy; try again in a moment.")
        r.headers.set("Retry-After", "1")
        return r
    }

    private func unmatchedResponse(_ match: Router.Match) -> Response {
        switch match {
        case .found, .notFound:
            return .error(.notFound, code: "not_found", message: "No such resource.")
        case .badPath:
            return .error(.badRequest, code: "invalid_path", message: "The path has a malformed percent-encoding.")
        case .methodNotAllowed(let allow):
            var r = Response.error(.methodNotAllowed, code: "method_not_allowed", message: "The method is not allowed for this resource.")
            r.headers.set("Allow", allow.map(\.rawValue).joined(separator: ", "))
            return r
        }
    }

    private func requestID(from headers: HTTPHeaders) -> String {
        if let given = headers["X-Request-Id"], (1...64).contains(given.utf8.count),
           given.utf8.allSatisfy({ ASCII.tchar[Int($0)] && $0 != UInt8(ascii: "%") }) {
            return given
        }
        requestCounter &+= 1
        return requestPrefix + "-" + String(requestCounter, radix: 16)
    }

    private func dispatch(_ connection: Connection, body: [UInt8], now: UInt64) {
        guard var current = connection.current else { return }
        if body.count >= 64 * 1024 { core.largeBodies.wrappingAdd(1, ordering: .relaxed) }
        connection.phase = .processing
        connection.phaseStarted = now
        let head = current.head
        let routeIndex: Int
        let parameters: [String: String]
        switch current.match {
        case .found(let i, let p):
            routeIndex = i
            parameters = p
        case .notFound, .badPath, .methodNotAllowed:
            finish(connection, response: unmatchedResponse(current.match), now: now)
            return
        }
        let route = core.router.routes[routeIndex]
        let request = Request(
            method: head.method, target: head.target, minorVersion: head.minorVersion, headers: head.headers, body: body,
            parameters: parameters, route: route.pattern, requestID: current.requestID, remoteAddress: connection.remoteAddress,
            admitted: current.admitted, transport: connection.transport
        )
        let handler = route.handler
        if route.execution == .eventLoop, case .respond(let respond) = handler {
            // Inline: no responder, no wake-up, no thread hop.
            let response: Response
            do { response = try respond(request) } catch { response = core.renderer.response(for: error, request: request) }
            connection.current = current
            finish(connection, response: response, now: now)
            return
        }
        let responder = Responder(request: request, loop: self, connection: ConnectionRef(connection: connection), sequence: connection.sequence, renderer: core.renderer)
        current.responder = responder
        connection.current = current
        let job: @Sendable () -> Void = {
            do {
                switch handler {
                case .respond(let respond): responder.respond(try respond(request))
                case .deferred(let deferred): try deferred(request, responder)
                }
            } catch {
                responder.fail(error)
            }
        }
        switch route.execution {
        case .eventLoop:
            job()
            runTasks(now: now)
        case .worker:
            if !core.workers.trySubmit(job) {
                finish(connection, response: Self.busy, now: now)
            }
        }
    }

    private func respondToProtocolError(_ connection: Connection, status: HTTPStatus, code: String, message: String, now: UInt64) {
        // After a framing error the rest of the stream cannot be trusted: answer and close (RFC 9112 §11.2).
        connection.closeAfterWrite = true
        connection.lingerOnClose = true
        if connection.current == nil {
            let head = RequestHead(method: .GET, target: "/", minorVersion: 1, headers: [:], keepAlive: false, expectContinue: false, framing: .none)
            connection.current = Connection.Current(head: head, match: .notFound, requestID: requestID(from: [:]), started: now, responder: nil)
        }
        finish(connection, response: .error(status, code: code, message: message), now: now, route: "unparsed")
    }

    /// Writes the answer to the current request and moves on to the next one.
    private func finish(_ connection: Connection, response: Response, now: UInt64, route: String? = nil) {
        guard let current = connection.current else { return }
        let head = current.head
        let keepAlive = head.keepAlive && !connection.closeAfterWrite && !draining
        if !keepAlive { connection.closeAfterWrite = true }
        let bytes = writer.serialize(response, method: head.method, minorVersion: head.minorVersion, keepAlive: keepAlive, requestID: current.requestID)
        if connection.output.isEmpty { connection.output = bytes } else { connection.output.append(contentsOf: bytes) }
        connection.current = nil
        connection.sequence &+= 1
        connection.phase = .idle
        connection.phaseStarted = now
        let routeName: String
        if let route { routeName = route } else if case .found(let i, _) = current.match { routeName = core.router.routes[i].pattern } else { routeName = "unmatched" }
        let duration = MonotonicClock.now() &- current.started
        if core.configuration.accessLog {
            let c = core.configuration
            let lane = accessLane ?? c.logSink.makeLane()
            accessLane = lane
            accessLine.write(format: c.logFormat, instance: c.instance, method: head.method, route: routeName, status: response.status.code,
                             durationNanoseconds: duration, requestID: current.requestID, to: c.logSink, lane: lane)
        }
        if let observer = core.observer {
            var routeIndex = -1
            if route == nil, case .found(let i, _) = current.match { routeIndex = i }
            observer(RequestRecord(method: head.method, route: routeName, routeIndex: routeIndex, status: response.status.code, durationNanoseconds: duration, requestID: current.requestID))
        }
        flush(connection, now: now)
    }

    /// Sends pending output; afterwards either closes, waits for writability, or reads the next request.
    private func flush(_ connection: Connection, now: UInt64) {
        while connection.hasPendingOutput {
            let sent = connection.output.withUnsafeBytes { raw in
                transmit(connection, raw.baseAddress! + connection.outputOffset, count: raw.count - connection.outputOffset)
            }
            switch sent {
            case .bytes(let n):
                connection.outputOffset += n
                connection.lastProgress = now
            case .interrupted:
                continue
            case .wouldBlock:
                // Edge-triggered EPOLLOUT tells us when there is room again.
                return
            case .failed:
                close(connection)
                return
            }
        }
        connection.output.removeAll(keepingCapacity: connection.output.capacity <= 16 * 1024)
        connection.outputOffset = 0
        // Only "100 Continue" was written, or a handler or an admission still runs: nothing else to do now.
        if connection.phase == .processing || connection.phase == .body || connection.phase == .admitting || connection.phase == .lingering { return }
        if connection.closeAfterWrite {
            if connection.lingerOnClose { startLingering(connection, now: now) } else { close(connection) }
            return
        }
        if connection.readPaused {
            readAvailable(connection, now: now)
        } else if !connection.input.isEmpty {
            processInput(connection, now: now)
        } else if draining {
            close(connection)
        }
    }

    /// Our side is done (FIN after the answer); what the client still sends — the body we refused — is read
    /// and dropped until it closes, for `lingerNanoseconds` or `lingerBytes`. Closing with unread input at once would send a
    /// reset, which can destroy the answer before the client reads it (RFC 9112 §9.6).
    private func startLingering(_ connection: Connection, now: UInt64) {
        connection.phase = .lingering
        connection.phaseStarted = now
        connection.input = InputBuffer()
        connection.current = nil
        _ = Glibc.shutdown(connection.fd, Int32(SHUT_WR))
        drainLingering(connection)
    }

    private func drainLingering(_ connection: Connection) {
        let limit = connection.fromTrustedProxy ? Self.proxyLingerBytes : Self.lingerBytes
        while connection.lingerDrained < limit {
            let n = recv(connection.fd, scratch, scratchSize, 0)
            if n > 0 {
                connection.lingerDrained += n
                continue
            }
            if n < 0 {
                let err = csystem_errno()
                if err == EINTR { continue }
                if err == EAGAIN || err == EWOULDBLOCK { return }
            }
            close(connection)
            return
        }
        close(connection)
    }

    private func close(_ connection: Connection) {
        guard !connection.isClosed else { return }
        connection.isClosed = true
        connections[connection.fd] = nil
        connection.tls?.shutdown()
        closeDescriptor(connection.fd)
        core.openConnections.wrappingSubtract(1, ordering: .relaxed)
        if let key = connection.addressKey { core.addressConnections?.release(key) }
        connection.current?.responder?.cancel()
        connection.current = nil
    }

    // MARK: - Time-outs and shutdown

    private func sweep(now: UInt64) {
        let config = core.configuration
        if acceptPausedUntil != 0 && now >= acceptPausedUntil, let l = listener {
            acceptPausedUntil = 0
            do {
                try epollControl(epfd, CSYSTEM_EPOLL_CTL_MOD, l.fd, events: CSYSTEM_EPOLLIN)
            } catch {
                core.logger.warning("cannot resume accepting; trying again", metadata: ["errno": "\(error.errno)"])
                acceptPausedUntil = now + 100_000_000
            }
        }
        let headerTimeout = config.headerTimeout.nanoseconds
        let bodyIdleTimeout = config.bodyIdleTimeout.nanoseconds
        let bodyTimeout = config.bodyTimeout.nanoseconds
        let keepAliveTimeout = config.keepAliveTimeout.nanoseconds
        for connection in Array(connections.values) {
            if connection.hasPendingOutput {
                if now &- connection.lastProgress > bodyIdleTimeout { close(connection) }
                continue
            }
            switch connection.phase {
            case .handshake:
                // No HTTP answer is possible before the handshake: a client that does not finish it is dropped.
                if draining || now &- connection.phaseStarted > headerTimeout { close(connection) }
            case .idle:
                if draining || now &- connection.phaseStarted > keepAliveTimeout { close(connection) }
            case .head:
                if now &- connection.phaseStarted > headerTimeout {
                    connection.current = nil
                    respondToProtocolError(connection, status: .requestTimeout, code: "request_timeout", message: "The request headers did not arrive in time.", now: now)
                }
            case .body:
                if now &- connection.lastProgress > bodyIdleTimeout {
                    respondToProtocolError(connection, status: .requestTimeout, code: "request_timeout", message: "The request body stalled.", now: now)
                } else if now &- connection.phaseStarted > bodyTimeout {
                    // An absolute deadline: a body trickling a byte at a time would otherwise hold the connection for ever.
                    respondToProtocolError(connection, status: .requestTimeout, code: "request_timeout", message: "The request body did not arrive in time.", now: now)
                }
            case .processing, .admitting:
                break
            case .lingering:
                if now &- connection.phaseStarted > Self.lingerNanoseconds { close(connection) }
            }
        }
    }

    private func beginDrain(deadline: UInt64) {
        draining = true
        drainDeadline = deadline
        if let l = listener {
            // Closing removes it from the epoll set as well; the explicit DEL only makes the order certain.
            try? epollControl(epfd, CSYSTEM_EPOLL_CTL_DEL, l.fd, events: 0)
            closeDescriptor(l.fd)
            listener = nil
        }
        for connection in Array(connections.values)
        where (connection.phase == .idle || connection.phase == .handshake) && !connection.hasPendingOutput && connection.input.isEmpty {
            close(connection)
        }
    }
}
