import Foundation

/// A Swift value that can be sent as a text-format query parameter.
public protocol PostgresEncodable: Sendable {
    /// The value in PostgreSQL's text input format; nil sends SQL NULL.
    var postgresText: String? { get }
}

extension Int: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Int64: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Int32: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Int16: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Double: PostgresEncodable {
    public var postgresText: String? {
        if isNaN { return "NaN" }
        if isInfinite { return self < 0 ? "-Infinity" : "Infinity" }
        return String(self)  // shortest representation that round-trips
    }
}

extension Bool: PostgresEncodable {
    public var postgresText: String? { self ? "t" : "f" }
}

extension String: PostgresEncodable {
    public var postgresText: String? { self }
}

extension UUID: PostgresEncodable {
    public var postgresText: String? { UUIDText.format(self) }
}

extension Date: PostgresEncodable {
    /// ISO 8601 in UTC with microseconds, e.g. `2026-11-21 05:39:09.123456+00`.
    public var postgresText: String? { PostgresTimestamp.format(self) }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public var postgresText: String? {
        switch self {
        case .some(let value): value.postgresText
        case .none: nil
        }
    }
}

/// An element type of a Swift array parameter.
///
/// Swift allows only one conditional conformance of `Array` to `PostgresEncodable`, so the element decides
/// how the whole array is written: `[UInt8]` is `bytea`, the others are one-dimensional array literals.
public protocol PostgresArrayElement: Sendable {
    /// The text form of `elements` as one parameter.
    static func postgresArrayText(_ elements: [Self]) -> String
    /// Decodes the text form of a whole array column.
    static func decodePostgresArray(_ bytes: UnsafeRawBufferPointer) throws -> [Self]
}

extension Array: PostgresEncodable where Element: PostgresArrayElement {
    public var postgresText: String? { Element.postgresArrayText(self) }
}

extension UInt8: PostgresArrayElement {
    /// `bytea` in hex format: `\x` followed by two lowercase hex digits per byte.
    public static func postgresArrayText(_ elements: [UInt8]) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(2 + elements.count * 2)
        out.append(UInt8(ascii: "\\"))
        out.append(UInt8(ascii: "x"))
        for byte in elements {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String: PostgresArrayElement {
    /// Every element double-quoted, with `"` and `\` escaped (PostgreSQL manual 8.15.2). Written as UTF-8
    /// bytes (both are ASCII, never part of a multi-byte sequence): appending scalars to a `String` one by
    /// one cost the pickup's first step ~5 % of its server CPU for its three factor lists.
    public static func postgresArrayText(_ elements: [String]) -> String {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        var out: [UInt8] = []
        out.reserveCapacity(elements.reduce(2) { $0 + $1.utf8.count + 3 })
        out.append(UInt8(ascii: "{"))
        for (index, element) in elements.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(quote)
            for byte in element.utf8 {
                if byte == quote || byte == backslash { out.append(backslash) }
                out.append(byte)
            }
            out.append(quote)
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }
}

extension Int64: PostgresArrayElement {
    public static func postgresArrayText(_ elements: [Int64]) -> String {
        "{" + elements.map { String($0) }.joined(separator: ",") + "}"
    }
}

extension Int: PostgresArrayElement {
    public static func postgresArrayText(_ elements: [Int]) -> String {
        "{" + elements.map { String($0) }.joined(separator: ",") + "}"
    }
}

extension UUID: PostgresArrayElement {
    public static func postgresArrayText(_ elements: [UUID]) -> String {
        "{" + elements.map(UUIDText.format).joined(separator: ",") + "}"
    }
}

/// A value that is bound and decoded directly, e.g. a closed set of strings: a `String`-backed enum
/// becomes one by declaring `extension MyEnum: PostgresCodable {}` (the raw value is the column value).
public typealias PostgresCodable = PostgresEncodable & PostgresDecodable

extension PostgresEncodable where Self: RawRepresentable, RawValue == String {
    /// The raw value, as the column stores it.
    public var postgresText: String? { rawValue }
}

extension PostgresArrayElement where Self: RawRepresentable, RawValue == String {
    /// The raw values as a text array (`state = ANY($1)`).
    public static func postgresArrayText(_ elements: [Self]) -> String {
        // A closure, not `\.rawValue`: a key path in generic code is instantiated at run time on every
        // call (2 % of the server's CPU in the pickup benchmark's profile).
        String.postgresArrayText(elements.map { $0.rawValue })
    }
}
