import Foundation

/// A response a handler returns. The server adds `Date`, `Content-Length`, `Connection`,
/// `X-Request-Id` and the default security headers.
public struct Response: Sendable {
    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Plain text, UTF-8.
    public static func text(_ text: String, status: HTTPStatus = .ok, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(status: status, headers: ["Content-Type": contentType], body: Array(text.utf8))
    }

    /// A JSON body encoded with the shared encoder (camelCase keys as declared, ISO 8601 dates).
    public static func json<T: Encodable>(_ value: T, status: HTTPStatus = .ok) throws -> Response {
        Response(status: status, headers: ["Content-Type": "application/json"], body: try JSONCoding.encode(value))
    }

    /// JSON bytes already encoded.
    /// 503 `overloaded` with `Retry-After: 1`: the worker queue is full.
    public static var serverBusy: Response {
        var r = Response.error(.serviceUnavailable, code: "overloaded", message: "The server is busy; try again in a moment.")
        r.headers.set("Retry-After", "1")
        return r
    }

    public static func json(bytes: [UInt8], status: HTTPStatus = .ok) -> Response {
        Response(status: status, headers: ["Content-Type": "application/json"], body: bytes)
    }

    /// The one error shape: `{"error": code, "message": …, "field": …}`.
    public static func error(_ status: HTTPStatus, code: String, message: String, field: String? = nil, extra: [String: String] = [:]) -> Response {
        Response(status: status, headers: ["Content-Type": "application/json"], body: ErrorBody.encode(code: code, message: message, field: field, extra: extra))
    }
}

/// Encodes the error body by hand so that it cannot fail and costs nothing on hot error paths.
enum ErrorBody {
    static func encode(code: String, message: String, field: String?, extra: [String: String]) -> [UInt8] {
        var s = "{\"error\":" + JSONCoding.quote(code) + ",\"message\":" + JSONCoding.quote(message)
        if let field { s += ",\"field\":" + JSONCoding.quote(field) }
        for (k, v) in extra.sorted(by: { $0.key < $1.key }) { s += "," + JSONCoding.quote(k) + ":" + JSONCoding.quote(v) }
        s += "}"
        return Array(s.utf8)
    }
}

/// An error that carries its own HTTP answer. Handlers throw these for bad input; everything else
/// becomes an opaque 500 that is logged with the request id.
public protocol HTTPResponseError: Error {
    var status: HTTPStatus { get }
    /// Machine-readable code, snake_case.
    var code: String { get }
    /// Human-readable, safe to show (never echoes personal data).
    var message: String { get }
    var field: String? { get }
    /// Extra headers (e.g. `Allow`, `Retry-After`).
    var headers: HTTPHeaders { get }
    /// Extra string members of the error body (e.g. `"state"` for an illegal transition).
    var extra: [String: String] { get }
}

extension HTTPResponseError {
    public var field: String? { nil }
    public var headers: HTTPHeaders { [:] }
    public var extra: [String: String] { [:] }

    public var response: Response {
        var r = Response.error(status, code: code, message: message, field: field, extra: extra)
        for (n, v) in headers { r.headers.set(n, v) }
        return r
    }
}

/// A ready-made `HTTPResponseError`.
public struct HTTPError: HTTPResponseError, CustomStringConvertible {
    public let status: HTTPStatus
    public let code: String
    public let message: String
    public let field: String?
    public let headers: HTTPHeaders

    public init(_ status: HTTPStatus, code: String, message: String, field: String? = nil, headers: HTTPHeaders = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers
    }

    public var description: String { "HTTPError(\(status.code) \(code))" }
}
