import DecimalParsing
/// A gateway's answer: status, headers with lower-cased names (in arrival order), and the body (capped).
public struct HTTPReply: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of a header; `name` is compared case-insensitively.
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.0 == lowered }?.1
    }

    /// `Retry-After` as seconds, when it is given as a number (RFC 9110 §10.2.3; the HTTP-date form is ignored).
    var retryAfterSeconds: Int? {
        guard let value = header("retry-after"), let seconds = Int(decimal: value, allowingSign: true), seconds >= 0 else { return nil }
        return seconds
    }
}
