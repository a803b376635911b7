#if canImport(Glibc)
import Glibc
#endif

/// Serializes responses (RFC 9112 §4, §6) and keeps the `Date` value of the current second.
struct ResponseWriter {
    private var cachedSecond = -1
    private var cachedDate: [UInt8] = []
    /// Header lines every response carries (`Strict-Transport-Security`), serialized once.
    private let fixedLines: [UInt8]

    init(strictTransportSecurity: String? = nil) {
        fixedLines = strictTransportSecurity.map { Array("Strict-Transport-Security: \($0)\r\n".utf8) } ?? []
    }

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
        out.reserveCapacity(320 + (bodyAllowed ? response.body.count : 0))
        out.append(contentsOf: Self.statusLinePrefix)
        appendDecimal(&out, code)
        out.append(ASCII.space)
        out.append(contentsOf: response.status.reason.utf8)
        out.append(contentsOf: Self.dateName)
        out.append(contentsOf: dateHeaderValue())
        out.append(contentsOf: Self.crlf)
        var seen: UInt8 = 0
        for (name, value) in response.headers {
            guard let kind = Self.classify(name) else {
                appendField(&out, name, value)
                continue
            }
            if kind.isOwnedByServer { continue }
            seen |= kind.rawValue
            appendField(&out, name, value)
        }
        if code != 204 && code != 304 {
            out.append(contentsOf: Self.contentLengthName)
            appendDecimal(&out, response.body.count)
            out.append(contentsOf: Self.crlf)
            if seen & HeaderKind.contentType.rawValue == 0 && !response.body.isEmpty {
                out.append(contentsOf: Self.defaultContentType)
            }
        }
        for kind in HeaderKind.defaults where seen & kind.rawValue == 0 {
            out.append(contentsOf: kind.defaultLine)
        }
        out.append(contentsOf: fixedLines)
        out.append(contentsOf: Self.requestIDName)
        out.append(contentsOf: requestID.utf8)
        out.append(contentsOf: Self.crlf)
        if !keepAlive {
            out.append(contentsOf: Self.connectionClose)
        } else if minorVersion == 0 {
            out.append(contentsOf: Self.connectionKeepAlive)
        }
        out.append(contentsOf: Self.crlf)
        if bodyAllowed { out.append(contentsOf: response.body) }
        return out
    }

    private static let statusLinePrefix = Array("HTTP/1.1 ".utf8)
    private static let dateName = Array("\r\nDate: ".utf8)
    private static let crlf = Array("\r\n".utf8)
    private static let contentLengthName = Array("Content-Length: ".utf8)
    private static let defaultContentType = Array("Content-Type: application/octet-stream\r\n".utf8)
    private static let requestIDName = Array("X-Request-Id: ".utf8)
    private static let connectionClose = Array("Connection: close\r\n".utf8)
    private static let connectionKeepAlive = Array("Connection: keep-alive\r\n".utf8)

    /// Headers the server sets itself, or adds with a default when the handler did not.
    enum HeaderKind: UInt8 {
        case owned = 0
        case contentType = 1
        case cacheControl = 2
        case nosniff = 4
        case referrerPolicy = 8
        case frameOptions = 16

        var isOwnedByServer: Bool { self == .owned }

        static let defaults: [HeaderKind] = [.nosniff, .referrerPolicy, .frameOptions, .cacheControl]

        var defaultLine: [UInt8] {
            switch self {
            case .nosniff: return Array("X-Content-Type-Options: nosniff\r\n".utf8)
            case .referrerPolicy: return Array("Referrer-Policy: no-referrer\r\n".utf8)
            case .frameOptions: return Array("X-Frame-Options: DENY\r\n".utf8)
            case .cacheControl: return Array("Cache-Control: no-store\r\n".utf8)
            default: return []
            }
        }
    }

    private static let ownedNames = ["content-length", "transfer-encoding", "connection", "date", "x-request-id", "keep-alive", "server"]

    static func classify(_ name: String) -> HeaderKind? {
        switch name.utf8.count {
        case 12 where name.asciiCaseInsensitiveEquals("content-type"): return .contentType
        case 13 where name.asciiCaseInsensitiveEquals("cache-control"): return .cacheControl
        case 22 where name.asciiCaseInsensitiveEquals("x-content-type-options"): return .nosniff
        case 15 where name.asciiCaseInsensitiveEquals("referrer-policy"): return .referrerPolicy
        case 15 where name.asciiCaseInsensitiveEquals("x-frame-options"): return .frameOptions
        default:
            for owned in ownedNames where name.asciiCaseInsensitiveEquals(owned) { return .owned }
            return nil
        }
    }

    private func appendDecimal(_ out: inout [UInt8], _ value: Int) {
        precondition(value >= 0, "negative number in a response head")
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = value
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buf in
            repeat {
                buf[count] = UInt8(48 + n % 10)
                n /= 10
                count += 1
            } while n > 0
            while count > 0 {
                count -= 1
                out.append(buf[count])
            }
        }
    }

    /// Appends a field line; control bytes in a handler's header would split the response, so they are dropped.
    private func appendField(_ out: inout [UInt8], _ name: String, _ value: String) {
        for b in name.utf8 where ASCII.tchar[Int(b)] { out.append(b) }
        out.append(contentsOf: ": ".utf8)
        for b in value.utf8 where ASCII.fieldValueByte[Int(b)] { out.append(b) }
        out.append(contentsOf: "\r\n".utf8)
    }
}
