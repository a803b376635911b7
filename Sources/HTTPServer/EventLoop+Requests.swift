import Synchronization

/// The requests of a connection: routing a head, the access decision before the body, handing the
/// request to its handler, and serializing (and logging) the answer.
extension EventLoop {
    func route(_ connection: Connection, head: RequestHead, now: UInt64) -> Event {
        let path = head.target.firstIndex(of: "?").map { head.target[..<$0] } ?? head.target[...]
        let match = core.router.match(method: head.method, path: path)
        var limit = core.configuration.maxBodyBytes
        if case .found(let index, _) = match, let routeLimit = core.router.routes[index].maxBodyBytes { limit = routeLimit }
        connection.current = Connection.Current(head: head, match: match, requestID: requestID(from: head.headers), started: now, responder: nil)
        return .routed(bodyLimit: limit, now: now)
    }

    /// Decides from the head whether the body may come: an unknown route, the route's screen or its
    /// admission (on a worker) may refuse before a byte of it is read.
    func decideAccess(_ connection: Connection, now: UInt64) -> Event? {
        guard let current = connection.current else { return nil }
        guard case .found(let index, let parameters) = current.match else {
            return answer(connection, unmatchedResponse(current.match), .refusal, now: now)
        }
        let route = core.router.routes[index]
        guard let admission = route.admission else { return .accessGranted(now: now) }
        let request = makeRequest(connection, current, route: route, parameters: parameters, body: [], admitted: nil)
        if let refusal = admission.screen?(request) {
            return answer(connection, refusal, .refusal, now: now)
        }
        guard let admit = admission.admit else { return .accessGranted(now: now) }
        if route.execution == .worker, case .respond = route.handler, connection.machine.bodyArrivedWithHead {
            return .admissionWithHandler(now: now)
        }
        let ref = ConnectionRef(connection: connection)
        let sequence = connection.machine.sequence
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
        return submitted ? .admissionStarted : answer(connection, Self.busy, .refusal, now: now)
    }

    func dispatch(_ connection: Connection, body: [UInt8], now: UInt64) -> Event? {
        guard var current = connection.current else { return nil }
        if body.count >= 64 * 1024 { core.largeBodies.wrappingAdd(1, ordering: .relaxed) }
        guard case .found(let routeIndex, let parameters) = current.match else {
            return answer(connection, unmatchedResponse(current.match), .answer, now: now)
        }
        let route = core.router.routes[routeIndex]
        let request = makeRequest(connection, current, route: route, parameters: parameters, body: body, admitted: current.admitted)
        let handler = route.handler
        if route.execution == .eventLoop, case .respond(let respond) = handler {
            // Inline: no responder, no wake-up, no thread hop.
            let response: Response
            do { response = try respond(request) } catch { response = core.renderer.response(for: error, request: request) }
            return answer(connection, response, .answer, now: now)
        }
        let responder = Responder(request: request, loop: self, connection: ConnectionRef(connection: connection), sequence: connection.machine.sequence, renderer: core.renderer)
        current.responder = responder
        connection.current = current
        let job: @Sendable () -> Void = {
            do {
                switch handler {
                case .respond(let respond): responder.respond(try respond(request))
                case .deferred(let deferred), .asynchronous(let deferred): try deferred(request, responder)
                }
            } catch {
                responder.fail(error)
            }
        }
        switch route.execution {
        case .eventLoop:
            job()
            // Its answer (if it gave one) waits in the task queue until this step is done.
            tasksDue = true
        case .worker:
            if !core.workers.trySubmit(job) { return answer(connection, Self.busy, .answer, now: now) }
        }
        if case .deferred = handler { return .handlerStarted(parked: true) }
        return .handlerStarted(parked: false)
    }

    /// The route's admission and its handler in one worker job, for a body that came with its head: one
    /// hand-off to a worker instead of two. The admission sees the head alone, as on its own; its refusal
    /// is answered as then (a `.refusal`: the connection closes), and so is a full queue. A connection
    /// closed while the admission decides gets no handler, as when the admission runs alone.
    func admitAndDispatch(_ connection: Connection, body: [UInt8], now: UInt64) -> Event? {
        guard var current = connection.current, case .found(let index, let parameters) = current.match else { return nil }
        let route = core.router.routes[index]
        guard let admit = route.admission?.admit, case .respond(let respond) = route.handler else {
            preconditionFailure("only a worker route with an admission and an immediate handler admits with its body")
        }
        if body.count >= 64 * 1024 { core.largeBodies.wrappingAdd(1, ordering: .relaxed) }
        let head = makeRequest(connection, current, route: route, parameters: parameters, body: [], admitted: nil)
        let ref = ConnectionRef(connection: connection)
        let sequence = connection.machine.sequence
        let renderer = core.renderer
        // Closing the connection cancels it, which the job sees after the admission.
        let responder = Responder(request: head, loop: self, connection: ref, sequence: sequence, renderer: renderer)
        current.responder = responder
        connection.current = current
        let submitted = core.workers.trySubmit { [self] in
            let admitted: (any Sendable)?
            do {
                admitted = try admit(head)
            } catch {
                submit(.refused(ref, sequence, renderer.response(for: error, request: head)))
                return
            }
            guard !responder.isFinished else { return }
            let request = head.with(body: body, admitted: admitted)
            let response: Response
            do { response = try respond(request) } catch { response = renderer.response(for: error, request: request) }
            responder.respond(response)
        }
        return submitted ? .handlerStarted(parked: false) : answer(connection, Self.busy, .refusal, now: now)
    }

    /// The current request as a handler (or, with an empty body, an admission) sees it.
    func makeRequest(_ connection: Connection, _ current: Connection.Current, route: Route, parameters: [String: String],
                     body: [UInt8], admitted: (any Sendable)?) -> Request {
        let head = current.head
        return Request(
            method: head.method, target: head.target, minorVersion: head.minorVersion, headers: head.headers, body: body,
            parameters: parameters, route: route.pattern, requestID: current.requestID, remoteAddress: connection.remoteAddress,
            admitted: admitted, transport: connection.transport
        )
    }

    /// After a framing error or a time-out the rest of the stream cannot be trusted: answer and close
    /// (RFC 9112 §11.2).
    func answerProtocolError(_ connection: Connection, _ error: HTTPParseError, now: UInt64) -> Event? {
        if connection.current == nil {
            let head = RequestHead(method: .GET, target: "/", minorVersion: 1, headers: [:], keepAlive: false, expectContinue: false, framing: .none)
            connection.current = Connection.Current(head: head, match: .notFound, requestID: requestID(from: [:]), started: now, responder: nil)
        }
        return answer(connection, .error(error.status, code: error.code, message: error.message), .refusal, now: now, route: "unparsed")
    }

    /// Serializes the answer to the current request (keep-alive as the machine decides) and logs it.
    func answer(_ connection: Connection, _ response: Response, _ kind: ConnectionStateMachine.ResponseKind, now: UInt64, route: String? = nil) -> Event? {
        guard let current = connection.current else { return nil }
        let head = current.head
        let keepAlive = connection.machine.keepsAlive(after: kind)
        let bytes = writer.serialize(response, method: head.method, minorVersion: head.minorVersion, keepAlive: keepAlive, requestID: current.requestID)
        connection.current = nil
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
        return .responseQueued(bytes, kind, now: now)
    }

    static var busy: Response { .serverBusy }

    func unmatchedResponse(_ match: Router.Match) -> Response {
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

    func requestID(from headers: HTTPHeaders) -> String {
        if let given = headers["X-Request-Id"], (1...64).contains(given.utf8.count),
           given.utf8.allSatisfy({ ASCII.tchar[Int($0)] && $0 != UInt8(ascii: "%") }) {
            return given
        }
        requestCounter &+= 1
        return requestPrefix + "-" + String(requestCounter, radix: 16)
    }
}
