/// The request methods pickupbox serves (RFC 9110 §9). Anything else is refused by the parser.
public enum HTTPMethod: String, Sendable, Hashable, CaseIterable, Comparable {
    case GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS

    init?(bytes: ArraySlice<UInt8>) {
        switch bytes.count {
        case 3:
            if bytes.elementsEqual("GET".utf8) { self = .GET; return }
            if bytes.elementsEqual("PUT".utf8) { self = .PUT; return }
        case 4:
            if bytes.elementsEqual("POST".utf8) { self = .POST; return }
            if bytes.elementsEqual("HEAD".utf8) { self = .HEAD; return }
        case 5:
            if bytes.elementsEqual("PATCH".utf8) { self = .PATCH; return }
        case 6:
            if bytes.elementsEqual("DELETE".utf8) { self = .DELETE; return }
        case 7:
            if bytes.elementsEqual("OPTIONS".utf8) { self = .OPTIONS; return }
        default:
            break
        }
        return nil
    }

    public static func < (lhs: HTTPMethod, rhs: HTTPMethod) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A response status: code and reason phrase.
public struct HTTPStatus: Sendable, Hashable, CustomStringConvertible {
    public let code: Int
    public let reason: String

    public init(code: Int, reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code) \(reason)" }

    public static let `continue` = HTTPStatus(code: 100, reason: "Continue")
    public static let ok = HTTPStatus(code: 200, reason: "OK")
    public static let created = HTTPStatus(code: 201, reason: "Created")
    public static let accepted = HTTPStatus(code: 202, reason: "Accepted")
    public static let noContent = HTTPStatus(code: 204, reason: "No Content")
    public static let notModified = HTTPStatus(code: 304, reason: "Not Modified")
    public static let badRequest = HTTPStatus(code: 400, reason: "Bad Request")
    public static let unauthorized = HTTPStatus(code: 401, reason: "Unauthorized")
    public static let forbidden = HTTPStatus(code: 403, reason: "Forbidden")
    public static let notFound = HTTPStatus(code: 404, reason: "Not Found")
    public static let methodNotAllowed = HTTPStatus(code: 405, reason: "Method Not Allowed")
    public static let requestTimeout = HTTPStatus(code: 408, reason: "Request Timeout")
    public static let conflict = HTTPStatus(code: 409, reason: "Conflict")
    public static let lengthRequired = HTTPStatus(code: 411, reason: "Length Required")
    public static let contentTooLarge = HTTPStatus(code: 413, reason: "Content Too Large")
    public static let uriTooLong = HTTPStatus(code: 414, reason: "URI Too Long")
    public static let unsupportedMediaType = HTTPStatus(code: 415, reason: "Unsupported Media Type")
    public static let expectationFailed = HTTPStatus(code: 417, reason: "Expectation Failed")
    public static let unprocessableContent = HTTPStatus(code: 422, reason: "Unprocessable Content")
    public static let tooManyRequests = HTTPStatus(code: 429, reason: "Too Many Requests")
    public static let requestHeaderFieldsTooLarge = HTTPStatus(code: 431, reason: "Request Header Fields Too Large")
    public static let internalServerError = HTTPStatus(code: 500, reason: "Internal Server Error")
    public static let serviceUnavailable = HTTPStatus(code: 503, reason: "Service Unavailable")
    public static let httpVersionNotSupported = HTTPStatus(code: 505, reason: "HTTP Version Not Supported")
}

/// Header fields in order of arrival. Names compare ASCII-case-insensitively (RFC 9110 §5.1).
public struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var fields: [(name: String, value: String)]

    public init() { fields = [] }

    public init(_ fields: [(String, String)]) {
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    public var count: Int { fields.count }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }

    /// The first value of the field, or nil.
    public subscript(name: String) -> String? {
        for field in fields where field.name.asciiCaseInsensitiveEquals(name) { return field.value }
        return nil
    }

    /// Every value of the field, in order.
    public func values(_ name: String) -> [String] {
        fields.filter { $0.name.asciiCaseInsensitiveEquals(name) }.map(\.value)
    }

    public func contains(_ name: String) -> Bool { self[name] != nil }

    public mutating func add(_ name: String, _ value: String) {
        fields.append((name: name, value: value))
    }

    /// Replaces every field of that name with one, or adds it.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        fields.append((name: name, value: value))
    }

    public mutating func remove(_ name: String) {
        fields.removeAll { $0.name.asciiCaseInsensitiveEquals(name) }
    }
}

extension String {
    func asciiCaseInsensitiveEquals(_ other: String) -> Bool {
        let a = self.utf8, b = other.utf8
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where x != y {
            guard ASCII.lower(x) == ASCII.lower(y) else { return false }
        }
        return true
    }
}

enum ASCII {
    static let cr: UInt8 = 13, lf: UInt8 = 10, space: UInt8 = 32, tab: UInt8 = 9, colon: UInt8 = 58
    static let slash: UInt8 = 47, question: UInt8 = 63, percent: UInt8 = 37, semicolon: UInt8 = 59

    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { (b >= 65 && b <= 90) ? b | 0x20 : b }

    /// A 256-entry membership table: ASCII letters and digits plus `extra`.
    private static func alphanumericTable(plus extra: String) -> [Bool] {
        var table = [Bool](repeating: false, count: 256)
        for range in [UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z")] {
            for b in range { table[Int(b)] = true }
        }
        for c in extra.utf8 { table[Int(c)] = true }
        return table
    }

    /// tchar of RFC 9110 §5.6.2.
    static let tchar = alphanumericTable(plus: "!#$%&'*+-.^_`|~")

    /// Bytes allowed in an origin-form request target (RFC 9112 §3.2.1, RFC 3986 pchar / "/" / "?"),
    /// with "%" checked separately for two hex digits.
    static let targetByte = alphanumericTable(plus: "-._~!$&'()*+,;=:@/?%")

    /// reg-name bytes (RFC 3986 §3.2.2): unreserved and sub-delims, with "%" checked separately.
    static let regNameByte = alphanumericTable(plus: "-._~!$&'()*+,;=")

    /// Bytes inside the brackets of an IP-literal (RFC 3986 §3.2.2): IPv6 and IPvFuture.
    static let ipLiteralByte = alphanumericTable(plus: "-._~!$&'()*+,;=:")

    /// field-vchar / SP / HTAB / obs-text (RFC 9110 §5.5): everything but control bytes and DEL.
    static let fieldValueByte: [Bool] = {
        var table = [Bool](repeating: true, count: 256)
        for b in 0..<32 where b != 9 { table[b] = false }
        table[127] = false
        return table
    }()

    @inline(__always) static func hexValue(_ b: UInt8) -> Int? {
        switch b {
        case 48...57: return Int(b - 48)
        case 65...70: return Int(b - 55)
        case 97...102: return Int(b - 87)
        default: return nil
        }
    }
}
