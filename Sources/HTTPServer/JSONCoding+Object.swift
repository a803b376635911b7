import Foundation

/// A JSON object written field by field, for a hot route's fixed shape (a pickup's answers): the bytes
/// `JSONCoding.encode` writes for a value with the same fields, without the `Encodable` walk (~6 % of a
/// pickup's server CPU, BENCHMARKS.md). Fields must be added in the order `JSONCoding.encode` sorts
/// their keys; each use is held to `JSONCoding.encode`'s bytes by a test. It has the field types those
/// answers use; a new use adds its own.
public struct JSONObjectWriter {
    private var out: [UInt8]
    private var last: StaticString?

    public init(capacity: Int = 128) {
        out = []
        out.reserveCapacity(capacity)
        out.append(UInt8(ascii: "{"))
    }

    public mutating func field(_ key: StaticString, _ value: UUID) {
        append(key)
        JSONWriter.appendUUID(value, to: &out)
    }

    public mutating func field(_ key: StaticString, _ value: Date) {
        append(key)
        JSONWriter.appendDate(value, to: &out)
    }

    /// Arrays, not any sequence: a generic one would not be specialized across the module boundary, and
    /// its metadata lookups cost more than the writing.
    public mutating func field(_ key: StaticString, strings: [String]) {
        append(key)
        array(strings) { JSONWriter.appendString($0, to: &$1) }
    }

    public mutating func field(_ key: StaticString, integers: [Int]) {
        append(key)
        array(integers) { JSONWriter.appendInteger($0, to: &$1) }
    }

    /// `[a,b,…]`, each element written by `write` (specialized here, in this module).
    private mutating func array<Element>(_ elements: [Element], _ write: (Element, inout [UInt8]) -> Void) {
        out.append(UInt8(ascii: "["))
        for position in elements.indices {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            write(elements[position], &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// The object, closed.
    public consuming func bytes() -> [UInt8] {
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// `"key":`, after a comma unless it is the first. Keys are the program's constants, never input:
    /// plain ASCII that needs no escaping, in ascending order (checked in debug builds).
    private mutating func append(_ key: StaticString) {
        let bytes = UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        assert(bytes.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }, "key \(key) needs escaping")
        if let last {
            assert(UnsafeBufferPointer(start: last.utf8Start, count: last.utf8CodeUnitCount).lexicographicallyPrecedes(bytes), "keys out of order: \(last), \(key)")
            out.append(UInt8(ascii: ","))
        }
        last = key
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: bytes)
        out.append(contentsOf: "\":".utf8)
    }
}
