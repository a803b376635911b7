import DecimalParsing
import Foundation

/// A Swift value that can be read from a column in PostgreSQL's text output format.
///
/// `PostgresRow.decode` handles NULL: it never calls `decode` for a NULL cell.
public protocol PostgresDecodable: Sendable {
    /// Decodes the text form of one non-NULL value. Errors must not quote the value.
    static func decode(postgresText bytes: UnsafeRawBufferPointer) throws -> Self

    /// What NULL decodes to: nil (the default) when NULL is an error for this type; `Optional` answers
    /// `.some(nil)`. A requirement rather than a cast, so that a NULL cell costs no dynamic cast.
    static var postgresNull: Self? { get }
}

extension PostgresDecodable {
    public static var postgresNull: Self? { nil }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(postgresText bytes: UnsafeRawBufferPointer) throws -> Self {
        try Wrapped.decode(postgresText: bytes)
    }

    public static var postgresNull: Self? { .some(nil) }
}

@usableFromInline
func decodingError(_ type: Any.Type) -> PostgresError {
    PostgresError(.decoding, reason: "value is not a valid \(type)")
}

/// An optionally signed decimal integer (PostgreSQL's text form of int2/int4/int8).
func parseInteger<T: FixedWidthInteger>(_ bytes: UnsafeRawBufferPointer, as type: T.Type) throws -> T {
    guard let value = T(decimal: bytes, allowingSign: true) else { throw decodingError(type) }
    return value
}

extension Int: PostgresDecodable {
    public static func decode(postgresText bytes: UnsafeRawBufferPointer) throws -> Int {
        try parseInteger(bytes, as: Int.self)
    }
}

extension Int64: PostgresDecodable {
    public static func decode(postgresText bytes: UnsafeRawBufferPointer) throws -> Int64 {
        try parseInteger(bytes, as: Int64.self)
    }
}

extension Int32: PostgresDecodable {
    public static func decode(postgresText bytes: UnsafeRawBufferPointer) throws -> Int32 {
        try parseInteger(bytes, as: Int32.self)
    }
}

extension Double: PostgresDecodable {
    public static func decode(postgresText bytes: UnsafeRawBufferPointer) throws -> Double {
        // PostgreSQL writes NaN, Infinity and -Infinity, which Double(String) accepts case-insensitively.
        guard let value = Double(String(decoding: bytes, as: UTF8.self)) else { throw decodingError(Double.self) }
        return value
    }
}

extension Bool: PostgresDecodable {
    public static func decode(postgresText bytes: UnsafeRawBufferPointer) throws -> Bool {
        guard bytes.count == 1 else { throw decodingError(Bool.self) }
        switch bytes[0] {
        case UInt8(ascii: "t"): return true
        case UInt8(ascii: "f"): return false
        default: throw decodingError(Bool.self)
        }
    }
}

extension String: PostgresDecodable {
    public static func decode(postgresText bytes: UnsafeRawBufferPointer) throws -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}

extension UUID: PostgresDecodable {
    public static func decode(postgresText bytes: UnsafeRawBufferPointer) throws -> UUID {
        guard let uuid = UUIDText.parse(bytes) else {
            throw decodingError(UUID.self)
        }
        return uuid
    }
}

extension Date: PostgresDecodable {
    /// Reads `timestamptz` output with `DateStyle=ISO`, which every connection sets at connect.
    public static func decode(postgresText bytes: UnsafeRawBufferPointer) throws -> Date {
        try PostgresTimestamp.parse(bytes)
    }
}

extension Array: PostgresDecodable where Element: PostgresArrayElement {
    public static func decode(postgresText bytes: UnsafeRawBufferPointer) throws -> [Element] {
        try Element.decodePostgresArray(bytes)
    }
}

extension PostgresArrayElement where Self: PostgresDecodable {
    /// Decodes a one-dimensional array literal such as `{1,2}` or `{"a b",c}`; NULL elements are an error.
    public static func decodePostgresArray(_ bytes: UnsafeRawBufferPointer) throws -> [Self] {
        var elements: [Self] = []
        try PostgresArrayParser.forEachElement(bytes) { element in
            guard let element else { throw PostgresError(.decoding, reason: "array contains NULL") }
            elements.append(try element.withUnsafeBytes { try Self.decode(postgresText: $0) })
        }
        return elements
    }
}

extension UInt8 {
    /// `bytea` in hex output format (`\x0aff…`), the default since PostgreSQL 9.0 and set at connect.
    public static func decodePostgresArray(_ bytes: UnsafeRawBufferPointer) throws -> [UInt8] {
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "\\"), bytes[1] == UInt8(ascii: "x"),
              bytes.count % 2 == 0 else { throw decodingError([UInt8].self) }
        func nibble(_ c: UInt8) throws -> UInt8 {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: throw decodingError([UInt8].self)
            }
        }
        var out = [UInt8]()
        out.reserveCapacity((bytes.count - 2) / 2)
        var index = 2
        while index < bytes.count {
            out.append(try nibble(bytes[index]) << 4 | nibble(bytes[index + 1]))
            index += 2
        }
        return out
    }
}

extension PostgresDecodable where Self: RawRepresentable, RawValue == String {
    /// A value that is not one of the cases (a newer migration, a corrupt row) is a decoding error that
    /// does not quote it, never a default.
    /// Inlinable, so that each enum's conformance is specialized where it is declared (no metadata look-ups).
    @inlinable
    public static func decode(postgresText bytes: UnsafeRawBufferPointer) throws -> Self {
        guard let value = Self(rawValue: String(decoding: bytes, as: UTF8.self)) else { throw decodingError(Self.self) }
        return value
    }
}
