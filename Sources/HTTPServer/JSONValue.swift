/// A JSON document parsed strictly (RFC 8259): duplicate keys, nesting deeper than a limit,
/// invalid UTF-8, unpaired surrogates, control characters in strings and trailing bytes are refused.
/// Foundation's decoder accepts several of these silently, so request bodies pass through here first.
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public struct ParseError: Error, Equatable, Sendable {
        public let message: String
        /// Dotted path of the place (duplicate keys, depth, NUL in a value).
        public let path: String?
        /// The document is well-formed but a string holds NUL (refused: it cannot reach PostgreSQL).
        public var isNUL = false
        /// The document has more members or values than `Limits` allow (refused before it is decoded).
        public var isTooComplex = false
    }

    /// Bounds on the work one request body may cause. No request of ours has more than a few dozen
    /// fields per object or more than 5,000 items of three values, so a document beyond these is refused
    /// as soon as the parser reaches the limit — before the rest is materialised or decoded.
    public enum Limits {
        /// Members of one object (unknown keys included).
        public static let maxObjectMembers = 256
        /// Values in the whole document (strings, numbers, literals, arrays and objects).
        public static let maxValues = 50_000
    }

    public static func parse(_ bytes: [UInt8], maxDepth: Int = 32) throws(ParseError) -> JSONValue {
        var parser = Parser(bytes: bytes, maxDepth: maxDepth)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0, path: "")
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw ParseError(message: "Unexpected data after the JSON value.", path: nil) }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        let maxDepth: Int
        var index = 0
        var values = 0

        init(bytes: [UInt8], maxDepth: Int) {
            self.bytes = bytes
            self.maxDepth = maxDepth
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        func fail(_ message: String, _ path: String? = nil) -> ParseError { ParseError(message: message, path: path) }

        mutating func parseValue(depth: Int, path: String) throws(ParseError) -> JSONValue {
            guard depth <= maxDepth else { throw fail("JSON nested deeper than \(maxDepth) levels.", path) }
            values += 1
            guard values <= Limits.maxValues else {
                throw ParseError(message: "The JSON document has more than \(Limits.maxValues) values.", path: nil, isTooComplex: true)
            }
            guard index < bytes.count else { throw fail("Unexpected end of JSON.") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try parseObject(depth: depth, path: path)
            case UInt8(ascii: "["): return try parseArray(depth: depth, path: path)
            case UInt8(ascii: "\""): return .string(try parseString(path: path))
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            default: return .number(try parseNumber())
            }
        }

        mutating func literal(_ word: String) throws(ParseError) {
            let w = Array(word.utf8)
            guard index + w.count <= bytes.count, Array(bytes[index..<(index + w.count)]) == w else { throw fail("Invalid JSON literal.") }
            index += w.count
        }

        mutating func parseObject(depth: Int, path: String) throws(ParseError) -> JSONValue {
            index += 1
            var object: [String: JSONValue] = [:]
            skipWhitespace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "}") { index += 1; return .object(object) }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("Expected a string key in a JSON object.", path) }
                guard object.count < Limits.maxObjectMembers else {
                    throw ParseError(message: "A JSON object has more than \(Limits.maxObjectMembers) members.", path: nil, isTooComplex: true)
                }
                let key = try parseString()
                let keyPath = path.isEmpty ? key : path + "." + key
                guard object[key] == nil else { throw fail("Duplicate key in a JSON object.", keyPath) }
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("Expected ':' in a JSON object.", keyPath) }
                index += 1
                skipWhitespace()
                object[key] = try parseValue(depth: depth + 1, path: keyPath)
                skipWhitespace()
                guard index < bytes.count else { throw fail("Unexpected end of JSON.") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(object) }
                throw fail("Expected ',' or '}' in a JSON object.", path)
            }
        }

        mutating func parseArray(depth: Int, path: String) throws(ParseError) -> JSONValue {
            index += 1
            var array: [JSONValue] = []
            skipWhitespace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "]") { index += 1; return .array(array) }
            while true {
                skipWhitespace()
                array.append(try parseValue(depth: depth + 1, path: path + "[\(array.count)]"))
                skipWhitespace()
                guard index < bytes.count else { throw fail("Unexpected end of JSON.") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(array) }
                throw fail("Expected ',' or ']' in a JSON array.", path)
            }
        }

        mutating func parseNumber() throws(ParseError) -> String {
            let start = index
            if index < bytes.count && bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw fail("Invalid JSON value.") }
            if bytes[index] == UInt8(ascii: "0") { index += 1 } else { while index < bytes.count && isDigit(bytes[index]) { index += 1 } }
            if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard index < bytes.count, isDigit(bytes[index]) else { throw fail("Invalid JSON number.") }
                while index < bytes.count && isDigit(bytes[index]) { index += 1 }
            }
            if index < bytes.count && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E")) {
                index += 1
                if index < bytes.count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) { index += 1 }
                guard index < bytes.count, isDigit(bytes[index]) else { throw fail("Invalid JSON number.") }
                while index < bytes.count && isDigit(bytes[index]) { index += 1 }
            }
            guard index - start <= 64 else { throw fail("JSON number too long.") }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }

        mutating func parseString(path: String? = nil) throws(ParseError) -> String {
            index += 1
            var out: [UInt8] = []
            while true {
                guard index < bytes.count else { throw fail("Unterminated JSON string.") }
                let b = bytes[index]
                index += 1
                switch b {
                case UInt8(ascii: "\""):
                    guard let s = String(validating: out, as: UTF8.self) else { throw fail("JSON string is not valid UTF-8.") }
                    return s
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { throw fail("Unterminated JSON string.") }
                    let e = bytes[index]
                    index += 1
                    switch e {
                    case UInt8(ascii: "\""): out.append(0x22)
                    case UInt8(ascii: "\\"): out.append(0x5C)
                    case UInt8(ascii: "/"): out.append(0x2F)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800...0xDBFF).contains(scalar) {
                            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                                throw fail("Unpaired surrogate in a JSON string.")
                            }
                            index += 2
                            let low = try hex4()
                            guard (0xDC00...0xDFFF).contains(low) else { throw fail("Unpaired surrogate in a JSON string.") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00...0xDFFF).contains(scalar) {
                            throw fail("Unpaired surrogate in a JSON string.")
                        }
                        // NUL cannot reach PostgreSQL (libpq parameters are C strings) and is never valid input here.
                        guard scalar != 0 else { throw ParseError(message: "The text contains a NUL character.", path: path, isNUL: true) }
                        guard let u = Unicode.Scalar(scalar) else { throw fail("Invalid escape in a JSON string.") }
                        out.append(contentsOf: Array(String(Character(u)).utf8))
                    default:
                        throw fail("Invalid escape in a JSON string.")
                    }
                default:
                    guard b >= 0x20 else { throw fail("Control character in a JSON string.") }
                    out.append(b)
                }
            }
        }

        mutating func hex4() throws(ParseError) -> UInt32 {
            guard index + 4 <= bytes.count else { throw fail("Invalid \\u escape in a JSON string.") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                guard let h = ASCII.hexValue(bytes[index]) else { throw fail("Invalid \\u escape in a JSON string.") }
                v = v * 16 + UInt32(h)
                index += 1
            }
            return v
        }
    }
}
