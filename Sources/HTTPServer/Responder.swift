import Logging
import Synchronization

/// Answers one request, once, from any thread. A `.deferred` handler keeps it and answers later
/// (a long poll waits for a notification without holding a worker thread or a database connection).
public final class Responder: Sendable {
    /// The request being answered.
    public let request: Request
    private let loop: EventLoop
    private let connection: ConnectionRef
    private let sequence: UInt64
    private let renderer: ErrorRenderer
    private let state = Mutex(State())

    private struct State {
        var finished = false
        var cancelled = false
        var cancelHandlers: [@Sendable () -> Void] = []
    }

    init(request: Request, loop: EventLoop, connection: ConnectionRef, sequence: UInt64, renderer: ErrorRenderer) {
        self.request = request
        self.loop = loop
        self.connection = connection
        self.sequence = sequence
        self.renderer = renderer
    }

    /// Sends the response; later calls are ignored. Safe from any thread.
    public func respond(_ response: Response) {
        let first = state.withLock { s -> Bool in
            guard !s.finished && !s.cancelled else { return false }
            s.finished = true
            s.cancelHandlers = []
            return true
        }
        guard first else { return }
        loop.submit(.complete(connection, sequence, response))
    }

    /// Answers with the error's response (an `HTTPResponseError`, or an opaque 500 that is logged).
    public func fail(_ error: any Error) {
        respond(renderer.response(for: error, request: request))
    }

    /// True once answered or cancelled.
    public var isFinished: Bool { state.withLock { $0.finished || $0.cancelled } }

    /// Runs `handler` once if the connection closes before an answer (the client went away, or the
    /// server is shutting down). Runs it at once if that already happened.
    public func onCancel(_ handler: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { s -> Bool in
            if s.cancelled { return true }
            if !s.finished { s.cancelHandlers.append(handler) }
            return false
        }
        if runNow { handler() }
    }

    func cancel() {
        let handlers = state.withLock { s -> [@Sendable () -> Void] in
            guard !s.finished && !s.cancelled else { return [] }
            s.cancelled = true
            defer { s.cancelHandlers = [] }
            return s.cancelHandlers
        }
        for h in handlers { h() }
    }
}

/// Turns a thrown error into a response: `HTTPResponseError`s answer themselves, the application's
/// mapper gets a say, and anything else is an opaque 500 logged with the request id.
struct ErrorRenderer: Sendable {
    let mapper: (@Sendable (any Error, Request) -> Response?)?
    let logger: Logger

    func response(for error: any Error, request: Request) -> Response {
        if let e = error as? any HTTPResponseError { return e.response }
        if let mapped = mapper?(error, request) { return mapped }
        // Only the type: an error's description may quote input (personal data must not reach logs).
        // Errors known to be safe are logged in full by the application's mapper.
        logger.error("unhandled error", metadata: [
            "request.id": "\(request.requestID)",
            "http.route": "\(request.route)",
            "error.type": "\(String(reflecting: type(of: error)))",
        ])
        return .error(.internalServerError, code: "internal_error", message: "An internal error occurred. Quote the request id \(request.requestID) when reporting it.")
    }
}
