#if canImport(Glibc)
import Glibc
#endif

/// Serializes responses (RFC 9112 §4, §6) and keeps the `Date` value of the current second.
struct ResponseWriter {
    private var cachedSecond = -1
    private var cachedDate: [UInt8] = []

    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// IMF-fixdate (RFC 9110 §5.6.7).
    mutating func dateHeaderValue() -> [UInt8] {
        var now = time(nil)
        if now == cachedSecond { return cachedDate }
        var t = tm()
        gmtime_r(&now, &t)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let s = "\(Self.days[Int(t.tm_wday)]), \(two(t.tm_mday)) \(Self.months[Int(t.tm_mon)]) \(t.tm_year + 1900) \(two(t.tm_hour)):\(two(t.tm_min)):\(two(t.tm_sec)) GMT"
        cachedSecond = now
        cachedDate = Array(s.utf8)
        return cachedDate
    }

    /// The bytes of one response. `keepAlive` false adds `Connection: close`; HEAD and 204/304 carry no body.
    mutating func serialize(_ response: Response, method: HTTPMethod, minorVersion: Int, keepAlive: Bool, requestID: String) -> [UInt8] {
        var out: [UInt8] = []
        let code = response.status.code
        let bodyAllowed = method != .HEAD && code != 204 && code != 304 && code >= 200
        out.reserveCapacity(256 + (bodyAllowed ? response.body.count : 0))
        out.append(contentsOf: "HTTP/1.1 \(code) \(response.status.reason)\r\nDate: ".utf8)
        out.append(contentsOf: dateHeaderValue())
        out.append(contentsOf: "\r\n".utf8)
        var hasContentType = false, hasCacheControl = false, hasNosniff = false, hasReferrer = false, hasFrame = false
        for (name, value) in response.headers {
            switch name.lowercased() {
            case "content-length", "transfer-encoding", "connection", "date", "x-request-id", "keep-alive", "server":
                continue  // the server owns these
            case "content-type": hasContentType = true
            case "cache-control": hasCacheControl = true
            case "x-content-type-options": hasNosniff = true
            case "referrer-policy": hasReferrer = true
            case "x-frame-options": hasFrame = true
            default: break
            }
            appendField(&out, name, value)
        }
        if code != 204 && code != 304 {
            out.append(contentsOf: "Content-Length: \(response.body.count)\r\n".utf8)
            if !hasContentType && !response.body.isEmpty {
                out.append(contentsOf: "Content-Type: application/octet-stream\r\n".utf8)
            }
        }
        if !hasNosniff { out.append(contentsOf: "X-Content-Type-Options: nosniff\r\n".utf8) }
        if !hasReferrer { out.append(contentsOf: "Referrer-Policy: no-referrer\r\n".utf8) }
        if !hasFrame { out.append(contentsOf: "X-Frame-Options: DENY\r\n".utf8) }
        if !hasCacheControl { out.append(contentsOf: "Cache-Control: no-store\r\n".utf8) }
        out.append(contentsOf: "X-Request-Id: ".utf8)
        out.append(contentsOf: requestID.utf8)
        out.append(contentsOf: "\r\n".utf8)
        if !keepAlive {
            out.append(contentsOf: "Connection: close\r\n".utf8)
        } else if minorVersion == 0 {
            out.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        out.append(contentsOf: "\r\n".utf8)
        if bodyAllowed { out.append(contentsOf: response.body) }
        return out
    }

    /// Appends a field line; control bytes in a handler's header would split the response, so they are dropped.
    private func appendField(_ out: inout [UInt8], _ name: String, _ value: String) {
        for b in name.utf8 where ASCII.tchar[Int(b)] { out.append(b) }
        out.append(contentsOf: ": ".utf8)
        for b in value.utf8 where ASCII.fieldValueByte[Int(b)] { out.append(b) }
        out.append(contentsOf: "\r\n".utf8)
    }
}
