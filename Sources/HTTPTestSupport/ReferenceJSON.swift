import Foundation
import HTTPServer
import Synchronization

/// What `JSONCoding.encode` wrote before it had its own writer, kept as the reference its bytes are held
/// to: Foundation's `JSONEncoder` (ISO 8601 dates, sorted keys, slashes unescaped), then every string that is
/// the `uuidString` of a `UUID` in the value lower-cased in the output (found by walking the value a second
/// time with ``UUIDCollector``).
public enum ReferenceJSON {
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return lowercasingIDs(Array(try encoder.encode(value)), of: value)
    }

    /// A value whose bytes from `JSONCoding.encode` differ from the reference's.
    public struct Mismatch: Error, CustomStringConvertible {
        public let type: String
        public let written: String
        public let expected: String
        public var description: String { "JSONCoding.encode(\(type)) wrote\n\(written)\nJSONEncoder writes\n\(expected)" }
    }

    /// Values compared since `installCheck()`.
    public static let checked = Atomic<Int>(0)

    /// Has every value `JSONCoding.encode` writes in this process encoded again by the reference;
    /// a difference is written to standard error and thrown, so the request that wrote it fails.
    public static func installCheck() {
        JSONCoding.setReferenceCheck { value, bytes in
            checked.add(1, ordering: .relaxed)
            let expected = try encode(value)
            guard expected != bytes else { return }
            let mismatch = Mismatch(type: String(reflecting: type(of: value)), written: String(decoding: bytes, as: UTF8.self),
                                    expected: String(decoding: expected, as: UTF8.self))
            FileHandle.standardError.write(Data("reference JSON check failed: \(mismatch)\n".utf8))
            throw mismatch
        }
    }

    static func lowercasingIDs(_ encoded: [UInt8], of value: some Encodable) -> [UInt8] {
        let collector = UUIDCollector()
        // The walk cannot fail where JSONEncoder did not: it encodes nothing.
        // The value itself is visited too: a bare `UUID` at the top is an id as well (JSONEncoder alone wrote it in upper case).
        guard (try? collector.visit(value)) != nil, !collector.ids.isEmpty else { return encoded }
        var out = encoded
        // A UUID is written as `"` + 36 characters + `"`; only those quoted strings are candidates.
        var i = 0
        while i + 37 < out.count {
            if out[i] == UInt8(ascii: "\""), out[i + 37] == UInt8(ascii: "\""), out[i + 9] == UInt8(ascii: "-"),
               let text = String(bytes: out[(i + 1)..<(i + 37)], encoding: .utf8), collector.ids.contains(text) {
                for j in (i + 1)..<(i + 37) where out[j] >= UInt8(ascii: "A") && out[j] <= UInt8(ascii: "F") { out[j] += 32 }
                i += 38
            } else {
                i += 1
            }
        }
        return out
    }
}

/// An `Encoder` that writes nothing and collects the `uuidString` of every `UUID` it meets.
final class UUIDCollector: Encoder {
    private(set) var ids = Set<String>()
    let codingPath: [any CodingKey] = []
    let userInfo: [CodingUserInfoKey: Any] = [:]

    func visit(_ value: some Encodable) throws {
        if let uuid = value as? UUID { ids.insert(uuid.uuidString); return }
        // JSONEncoder writes a Date (and Data, URL, Decimal) by its own rules; none of them holds an id.
        if value is Date || value is Data || value is URL || value is Decimal { return }
        try value.encode(to: self)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> { KeyedEncodingContainer(Keyed<Key>(self)) }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { Unkeyed(self) }
    func singleValueContainer() -> any SingleValueEncodingContainer { Single(self) }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let walker: UUIDCollector
        init(_ walker: UUIDCollector) { self.walker = walker }
        var codingPath: [any CodingKey] { [] }
        mutating func encodeNil(forKey key: Key) throws {}
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try walker.visit(value) }
        // Primitives hold no id.
        mutating func encode(_ value: Bool, forKey key: Key) throws {}
        mutating func encode(_ value: String, forKey key: Key) throws {}
        mutating func encode(_ value: Double, forKey key: Key) throws {}
        mutating func encode(_ value: Float, forKey key: Key) throws {}
        mutating func encode(_ value: Int, forKey key: Key) throws {}
        mutating func encode(_ value: Int8, forKey key: Key) throws {}
        mutating func encode(_ value: Int16, forKey key: Key) throws {}
        mutating func encode(_ value: Int32, forKey key: Key) throws {}
        mutating func encode(_ value: Int64, forKey key: Key) throws {}
        mutating func encode(_ value: UInt, forKey key: Key) throws {}
        mutating func encode(_ value: UInt8, forKey key: Key) throws {}
        mutating func encode(_ value: UInt16, forKey key: Key) throws {}
        mutating func encode(_ value: UInt32, forKey key: Key) throws {}
        mutating func encode(_ value: UInt64, forKey key: Key) throws {}
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            walker.container(keyedBy: keyType)
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { Unkeyed(walker) }
        mutating func superEncoder() -> any Encoder { walker }
        mutating func superEncoder(forKey key: Key) -> any Encoder { walker }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        let walker: UUIDCollector
        init(_ walker: UUIDCollector) { self.walker = walker }
        var codingPath: [any CodingKey] { [] }
        var count = 0
        mutating func encodeNil() throws { count += 1 }
        mutating func encode<T: Encodable>(_ value: T) throws { count += 1; try walker.visit(value) }
        mutating func encode(_ value: Bool) throws { count += 1 }
        mutating func encode(_ value: String) throws { count += 1 }
        mutating func encode(_ value: Double) throws { count += 1 }
        mutating func encode(_ value: Float) throws { count += 1 }
        mutating func encode(_ value: Int) throws { count += 1 }
        mutating func encode(_ value: Int8) throws { count += 1 }
        mutating func encode(_ value: Int16) throws { count += 1 }
        mutating func encode(_ value: Int32) throws { count += 1 }
        mutating func encode(_ value: Int64) throws { count += 1 }
        mutating func encode(_ value: UInt) throws { count += 1 }
        mutating func encode(_ value: UInt8) throws { count += 1 }
        mutating func encode(_ value: UInt16) throws { count += 1 }
        mutating func encode(_ value: UInt32) throws { count += 1 }
        mutating func encode(_ value: UInt64) throws { count += 1 }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            count += 1
            return walker.container(keyedBy: keyType)
        }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { count += 1; return Unkeyed(walker) }
        mutating func superEncoder() -> any Encoder { walker }
    }

    struct Single: SingleValueEncodingContainer {
        let walker: UUIDCollector
        init(_ walker: UUIDCollector) { self.walker = walker }
        var codingPath: [any CodingKey] { [] }
        mutating func encodeNil() throws {}
        mutating func encode<T: Encodable>(_ value: T) throws { try walker.visit(value) }
        // Primitives hold no id.
        mutating func encode(_ value: Bool) throws {}
        mutating func encode(_ value: String) throws {}
        mutating func encode(_ value: Double) throws {}
        mutating func encode(_ value: Float) throws {}
        mutating func encode(_ value: Int) throws {}
        mutating func encode(_ value: Int8) throws {}
        mutating func encode(_ value: Int16) throws {}
        mutating func encode(_ value: Int32) throws {}
        mutating func encode(_ value: Int64) throws {}
        mutating func encode(_ value: UInt) throws {}
        mutating func encode(_ value: UInt8) throws {}
        mutating func encode(_ value: UInt16) throws {}
        mutating func encode(_ value: UInt32) throws {}
        mutating func encode(_ value: UInt64) throws {}
    }
}
