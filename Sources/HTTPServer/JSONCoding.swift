import Foundation
import Synchronization

/// JSON helpers shared by every route: one encoder configuration, one strict decoder.
public enum JSONCoding {
    /// Encodes with ISO 8601 dates, sorted keys (stable output for ETags and tests) and ids in lower case,
    /// in one walk of the value (`JSONWriter`, in `JSONCoding+Writer.swift`).
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let bytes = try JSONWriter.encode(value)
        if referenceCheckInstalled.load(ordering: .acquiring), let installed = referenceCheck.withLock({ $0 }) {
            try installed.check(value, bytes)
        }
        return bytes
    }

    /// Tests only: a check handed every value `encode` writes and its bytes, which may throw to fail the
    /// request (`HTTPTestSupport.ReferenceJSON` compares them with JSONEncoder's). Never installed by the
    /// server; while none is, `encode` pays one atomic load for it.
    public typealias ReferenceCheck = @Sendable (any Encodable, [UInt8]) throws -> Void

    /// The check in a class: a closure kept in the `Mutex` itself would be re-abstracted on every
    /// `withLock` (its `inout` access converts it to the generic representation and back, and stores the
    /// result), one more pair of thunks per call, until calling it overflowed the worker's stack.
    private final class InstalledCheck: Sendable {
        let check: ReferenceCheck
        init(_ check: @escaping ReferenceCheck) { self.check = check }
    }

    private static let referenceCheck = Mutex<InstalledCheck?>(nil)
    private static let referenceCheckInstalled = Atomic<Bool>(false)

    /// Installs (or, with nil, removes) the check for the whole process.
    public static func setReferenceCheck(_ check: ReferenceCheck?) {
        referenceCheck.withLock { $0 = check.map(InstalledCheck.init) }
        referenceCheckInstalled.store(check != nil, ordering: .releasing)
    }

    /// Decodes a request body strictly: the JSON must be well-formed (no duplicate keys, bounded depth,
    /// members and values within `JSONValue.Limits`, checked while parsing),
    /// must decode as `T`, and must not contain fields that `T` does not know (found by encoding the
    /// result again and comparing key sets). Every failure is a 400 `HTTPError` naming the field.
    public static func decode<T: Codable>(_ type: T.Type, from bytes: [UInt8], maxDepth: Int = 32) throws -> T {
        let tree: JSONValue
        do {
            tree = try JSONValue.parse(bytes, maxDepth: maxDepth)
        } catch {
            if error.isNUL { throw HTTPError(.badRequest, code: "invalid_characters", message: error.message, field: error.path) }
            if error.isTooComplex { throw HTTPError(.badRequest, code: "json_too_complex", message: error.message) }
            throw HTTPError(.badRequest, code: "invalid_json", message: error.message, field: error.path)
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let value: T
        do {
            value = try decoder.decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw mapDecodingError(error)
        } catch let error as HTTPResponseError {
            throw error
        }
        let reencoded = try JSONValue.parse(encode(value), maxDepth: maxDepth + 8)
        if let unknown = unknownKey(original: tree, known: reencoded, path: "") {
            throw HTTPError(.badRequest, code: "unknown_field", message: "The field is not part of this request.", field: unknown)
        }
        return value
    }

    static func unknownKey(original: JSONValue, known: JSONValue, path: String) -> String? {
        switch (original, known) {
        case (.object(let o), .object(let k)):
            for key in o.keys.sorted() {
                let keyPath = path.isEmpty ? key : path + "." + key
                guard let value = o[key] else { continue }
                if let kv = k[key] {
                    if let found = unknownKey(original: value, known: kv, path: keyPath) { return found }
                } else if value != .null {
                    return keyPath
                }
            }
            return nil
        case (.array(let o), .array(let k)):
            for (i, (ov, kv)) in zip(o, k).enumerated() {
                if let found = unknownKey(original: ov, known: kv, path: path + "[\(i)]") { return found }
            }
            return nil
        default:
            return nil
        }
    }

    static func mapDecodingError(_ error: DecodingError) -> HTTPError {
        func path(_ keys: [any CodingKey], _ last: (any CodingKey)? = nil) -> String {
            var all = keys
            if let last { all.append(last) }
            var s = ""
            for key in all {
                if let i = key.intValue { s += "[\(i)]" } else { s += (s.isEmpty ? "" : ".") + key.stringValue }
            }
            return s
        }
        switch error {
        case .keyNotFound(let key, let context):
            return HTTPError(.badRequest, code: "missing_field", message: "A required field is missing.", field: path(context.codingPath, key))
        case .valueNotFound(_, let context):
            return HTTPError(.badRequest, code: "missing_field", message: "A required field is null.", field: path(context.codingPath))
        case .typeMismatch(_, let context):
            return HTTPError(.badRequest, code: "invalid_type", message: "A field has the wrong JSON type.", field: path(context.codingPath))
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            return HTTPError(.badRequest, code: field.isEmpty ? "invalid_json" : "invalid_field",
                             message: field.isEmpty ? "The body is not valid JSON." : "A field has an invalid value.", field: field.isEmpty ? nil : field)
        @unknown default:
            return HTTPError(.badRequest, code: "invalid_json", message: "The body could not be decoded.")
        }
    }

    /// A JSON string literal for `s` (RFC 8259 §7).
    public static func quote(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u.value == 0x2028 || u.value == 0x2029 {
                    out += String(format: "\\u%04x", u.value)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
        return out
    }
}

extension Request {
    /// The body as `T`, strictly (see `JSONCoding.decode`). A non-JSON content type is a 415.
    public func decode<T: Codable>(_ type: T.Type) throws -> T {
        if let contentType = headers["Content-Type"] {
            let mediaType = contentType.split(separator: ";").first.map { $0.trimmingASCIISpaces().lowercased() } ?? ""
            guard mediaType == "application/json" || mediaType.hasSuffix("+json") else {
                throw HTTPError(.unsupportedMediaType, code: "unsupported_media_type", message: "The body must be application/json.")
            }
        }
        return try JSONCoding.decode(type, from: body)
    }
}
