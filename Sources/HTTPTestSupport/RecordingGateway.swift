import Foundation
import HTTPServer
import Logging
import Synchronization

/// A real HTTP SMS gateway on 127.0.0.1 in the shape of the `webhook` provider (`POST /sms` with
/// `{"to", "text", "reference"}` and a bearer token; answers `{"id"}`), for tests and the SMS benchmark.
/// It counts every request per reference and records the messages it accepted; `script` decides the
/// answer to each request (accept, an HTTP status with optional `Retry-After`, or a delay first).
public final class RecordingGateway: Sendable {
    public enum Behaviour: Sendable {
        case accept
        case status(Int, retryAfter: Int? = nil)
        /// Wait, then answer `status` (200 accepts): time-outs and slow gateways.
        case slow(Duration, status: Int)
    }

    public struct Message: Sendable {
        public let reference: String
        public let to: String
        public let text: String
    }

    private struct State {
        var attempts: [String: Int] = [:]
        var accepted: [Message] = []
        var acceptedCount: [String: Int] = [:]
        var unauthorized = 0
    }

    private final class Shared: Sendable {
        let mutex = Mutex(State())
    }

    private let shared = Shared()
    private let server: HTTPServer
    public let token: String

    /// `script(reference, attempt)`: attempt counts from 1 for each reference.
    public init(token: String = "gateway-token", workerThreads: Int = 8, port: Int = 0,
                script: @escaping @Sendable (_ reference: String, _ attempt: Int) -> Behaviour = { _, _ in .accept }) throws {
        self.token = token
        var configuration = ServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = port
        configuration.eventLoops = 1
        configuration.workerThreads = workerThreads
        configuration.accessLog = false
        var logger = Logger(label: "recording-gateway")
        logger.logLevel = .critical
        let shared = self.shared
        let expected = "Bearer " + token
        server = HTTPServer(configuration: configuration, router: Router([
            Route(.POST, "/sms") { request in
                guard request.headers["Authorization"] == expected else {
                    shared.mutex.withLock { $0.unauthorized += 1 }
                    return .error(HTTPStatus(code: 401, reason: "Unauthorized"), code: "unauthorized", message: "bad token")
                }
                guard let object = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any],
                      let reference = object["reference"] as? String, let to = object["to"] as? String, let text = object["text"] as? String else {
                    return .error(HTTPStatus(code: 400, reason: "Bad Request"), code: "bad_request", message: "not a message")
                }
                let attempt = shared.mutex.withLock { s -> Int in
                    s.attempts[reference, default: 0] += 1
                    return s.attempts[reference] ?? 1
                }
                var behaviour = script(reference, attempt)
                if case .slow(let pause, let status) = behaviour {
                    Thread.sleep(forTimeInterval: Double(pause.components.seconds) + Double(pause.components.attoseconds) / 1e18)
                    behaviour = status == 200 ? .accept : .status(status)
                }
                switch behaviour {
                case .accept, .slow:
                    shared.mutex.withLock { s in
                        s.accepted.append(Message(reference: reference, to: to, text: text))
                        s.acceptedCount[reference, default: 0] += 1
                    }
                    return .json(bytes: Array("{\"id\":\"gw-\(reference)\"}".utf8))
                case .status(let code, let retryAfter):
                    var headers: HTTPHeaders = ["Content-Type": "application/json"]
                    if let retryAfter { headers = ["Content-Type": "application/json", "Retry-After": String(retryAfter)] }
                    return Response(status: HTTPStatus(code: code, reason: "Scripted"), headers: headers, body: Array("{\"error\":\"scripted\"}".utf8))
                }
            },
        ]), logger: logger)
        try server.start()
    }

    public var port: Int { server.port }
    public var url: String { "http://127.0.0.1:\(port)/sms" }

    /// Messages accepted, in arrival order.
    public var accepted: [Message] { shared.mutex.withLock { $0.accepted } }
    /// How often each reference was accepted (more than 1 = delivered twice).
    public var acceptedCounts: [String: Int] { shared.mutex.withLock { $0.acceptedCount } }
    /// Requests per reference, accepted or not.
    public var attempts: [String: Int] { shared.mutex.withLock { $0.attempts } }
    public var unauthorizedRequests: Int { shared.mutex.withLock { $0.unauthorized } }

    public func shutdown() {
        server.shutdown()
    }
}
