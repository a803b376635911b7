import Foundation
import HTTPServer
import Logging
import Synchronization

/// A real HTTP SMS gateway on 127.0.0.1 in the shapes of the three providers — `webhook` (`POST /sms`),
/// `seven` (`POST /seven/sms`) and `twilio` (`POST /2010-04-01/Accounts/{sid}/Messages.json`) — for tests
/// and the SMS benchmark.
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

    /// `script(reference, attempt)`: attempt counts from 1 for each reference. With `deduplicates`, the
    /// gateway behaves like a provider that deduplicates by our reference (webhook `Idempotency-Key`,
    /// seven `foreign_id`): a reference accepted before is answered as accepted again but not delivered again.
    public init(token: String = "gateway-token", workerThreads: Int = 8, port: Int = 0, deduplicates: Bool = false,
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
        /// Counts, runs the script, records an accepted message; `accepted` is the provider's success body.
        @Sendable func answer(reference: String, to: String, text: String, accepted: (String) -> Response) -> Response {
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
                    if deduplicates && s.acceptedCount[reference] != nil { return }
                    s.accepted.append(Message(reference: reference, to: to, text: text))
                    s.acceptedCount[reference, default: 0] += 1
                }
                return accepted(reference)
            case .status(let code, let retryAfter):
                var headers: HTTPHeaders = ["Content-Type": "application/json"]
                if let retryAfter { headers = ["Content-Type": "application/json", "Retry-After": String(retryAfter)] }
                return Response(status: HTTPStatus(code: code, reason: "Scripted"), headers: headers, body: Array("{\"error\":\"scripted\"}".utf8))
            }
        }
        @Sendable func unauthorized() -> Response {
            shared.mutex.withLock { $0.unauthorized += 1 }
            return .error(HTTPStatus(code: 401, reason: "Unauthorized"), code: "unauthorized", message: "bad credentials")
        }
        let badRequest = Response.error(HTTPStatus(code: 400, reason: "Bad Request"), code: "bad_request", message: "not a message")
        let basic = "Basic " + Data("\(Self.twilioAccount):\(token)".utf8).base64EncodedString()
        server = HTTPServer(configuration: configuration, router: Router([
            // webhook: JSON {to, text, reference}, bearer token; answers {"id"}.
            Route(.POST, "/sms") { request in
                guard request.headers["Authorization"] == "Bearer " + token else { return unauthorized() }
                guard let object = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any],
                      let reference = object["reference"] as? String, let to = object["to"] as? String, let text = object["text"] as? String else {
                    return badRequest
                }
                return answer(reference: reference, to: to, text: text) { .json(bytes: Array("{\"id\":\"gw-\($0)\"}".utf8)) }
            },
            // seven: JSON {to, text, foreign_id, from?}, X-Api-Key; answers {"success": "100", "messages": [{"id", "success"}]}.
            Route(.POST, "/seven/sms") { request in
                guard request.headers["X-Api-Key"] == token else { return unauthorized() }
                guard let object = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any],
                      let reference = object["foreign_id"] as? String, let to = object["to"] as? String, let text = object["text"] as? String else {
                    return badRequest
                }
                return answer(reference: reference, to: to, text: text) {
                    .json(bytes: Array("{\"success\":\"100\",\"messages\":[{\"id\":\"77\($0.utf8.count)\",\"success\":true}]}".utf8))
                }
            },
            // twilio: form To/From/Body, basic auth; answers 201 {"sid"}. Twilio carries no reference of ours:
            // the text stands for it (the tests' texts are unique).
            Route(.POST, "/2010-04-01/Accounts/{account}/Messages.json") { request in
                guard request.parameter("account") == Self.twilioAccount, request.headers["Authorization"] == basic else { return unauthorized() }
                var form: [String: String] = [:]
                for pair in String(decoding: request.body, as: UTF8.self).split(separator: "&") {
                    let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
                    if parts.count == 2 { form[parts[0]] = parts[1] }
                }
                guard let to = form["To"], let text = form["Body"] else { return badRequest }
                return answer(reference: text, to: to, text: text) { _ in
                    Response(status: HTTPStatus(code: 201, reason: "Created"), headers: ["Content-Type": "application/json"],
                             body: Array("{\"sid\":\"SM\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())\"}".utf8))
                }
            },
        ]), logger: logger)
        try server.start()
    }

    /// The account SID the Twilio-shaped endpoint expects (`SMS_TOKEN=<this>:<token>`).
    public static let twilioAccount = "AC0000000000000000000000000000test"

    public var port: Int { server.port }
    /// webhook: `SMS_URL`.
    public var url: String { "http://127.0.0.1:\(port)/sms" }
    /// seven: `SMS_URL`.
    public var sevenURL: String { "http://127.0.0.1:\(port)/seven/sms" }
    /// twilio: the API base (`SMS_URL`).
    public var twilioBaseURL: String { "http://127.0.0.1:\(port)" }

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
