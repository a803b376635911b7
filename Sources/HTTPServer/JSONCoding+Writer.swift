import Foundation

/// The bytes `JSONCoding.encode` answers with, written by our own `Encoder` in one walk of the value:
/// the output of Foundation's `JSONEncoder` configured with `.iso8601` dates and
/// `[.sortedKeys, .withoutEscapingSlashes]`, byte for byte, except that a `UUID` is written in lower case
/// (ids go out as in `Location` headers, cookies and the command line; input accepts both cases).
/// A string that merely looks like an id (a delivery note number, a box's event id) is a `String` and
/// is written as it is.
///
/// What JSONEncoder does, and this writer therefore does too:
/// - keys sorted by their UTF-8 bytes; a key written twice keeps its last value;
/// - strings escaped byte by byte: `"` and `\`, `\b \f \n \r \t`, other bytes below 0x20 as `\u00xx`
///   (lower-case hex); `/` and everything from 0x20 up as they are;
/// - integers in decimal, floating-point numbers as their `description` without a trailing `.0`,
///   NaN and infinity refused; `Decimal` as its `description`;
/// - `Date` as `yyyy-MM-ddTHH:mm:ssZ` in UTC (`date.formatted(.iso8601)`), `Data` in base64,
///   `URL` as its `absoluteString`;
/// - a value that encodes nothing is `{}` (and an error at the top level); containers nested 512 deep
///   are an error.
/// `JSONCodingTests` and the reference check of the App tests hold it to JSONEncoder's bytes.
final class JSONWriter {
    /// Scalars are written here as they are encoded; containers keep ranges into it until the end.
    fileprivate var scratch: [UInt8] = []
    /// Encoders of nested values, returned when nothing kept them (most values are written by one).
    fileprivate var spare: [ValueEncoder] = []
    /// Super-encoders: their slots in the tree refer to them, and they to their parents.
    fileprivate var deferred: [ValueEncoder] = []

    /// Nesting at which JSONEncoder refuses to write (its `JSONWriter.maximumRecursionDepth`).
    static let maximumDepth = 512

    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let writer = JSONWriter()
        writer.scratch.reserveCapacity(256)
        let top = ValueEncoder(writer, parent: nil, key: nil, prefix: [])
        // Encoders refer to the writer and to their parents; the writer's lists are the only way back.
        defer {
            for encoder in writer.deferred { encoder.release() }
            writer.deferred.removeAll()
            writer.spare.removeAll()
        }
        guard let slot = try top.slot(of: value) else {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "Top-level \(T.self) did not encode any values."))
        }
        var out: [UInt8] = []
        out.reserveCapacity(writer.scratch.count + 64)
        do {
            try writer.write(slot, into: &out, depth: 0)
        } catch is TooDeep {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "Unable to encode the given top-level value to JSON."))
        }
        return out
    }

    private struct TooDeep: Error {}

    fileprivate func write(_ slot: Slot, into out: inout [UInt8], depth: Int) throws {
        switch slot {
        case .bytes(let range):
            out.append(contentsOf: scratch[range])
        case .null:
            out.append(contentsOf: "null".utf8)
        case .bool(let value):
            out.append(contentsOf: value ? "true".utf8 : "false".utf8)
        case .array(let node):
            guard depth + 1 < Self.maximumDepth else { throw TooDeep() }
            out.append(UInt8(ascii: "["))
            for (i, item) in node.items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                try write(item, into: &out, depth: depth + 1)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let node):
            guard depth + 1 < Self.maximumDepth else { throw TooDeep() }
            out.append(UInt8(ascii: "{"))
            for (i, member) in node.sortedMembers().enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.appendString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                try write(member.value, into: &out, depth: depth + 1)
            }
            out.append(UInt8(ascii: "}"))
        case .deferred(let encoder):
            // A super-encoder's value, known only now (JSONEncoder writes it when that encoder is released).
            try write(encoder.result ?? .object(ObjectNode()), into: &out, depth: depth)
        }
    }

    // MARK: Scalars

    /// The slot of a value JSONEncoder writes by its own rules rather than by the value's `encode(to:)`
    /// (and of a `String`, which needs no encoder), or nil. Comparing types is cheaper than casting.
    fileprivate func ownSlot<T: Encodable>(_ value: T) -> Slot? {
        if T.self == String.self { return stringSlot(value as! String) }
        if T.self == UUID.self { return uuidSlot(value as! UUID) }
        if T.self == Date.self { return dateSlot(value as! Date) }
        if T.self == Data.self { return stringSlot((value as! Data).base64EncodedString()) }
        if T.self == URL.self { return stringSlot((value as! URL).absoluteString) }
        if T.self == Decimal.self { return rawSlot((value as! Decimal).description) }
        return nil
    }

    fileprivate func stringSlot(_ s: String) -> Slot {
        let start = scratch.count
        Self.appendString(s, to: &scratch)
        return .bytes(start..<scratch.count)
    }

    fileprivate func rawSlot(_ s: String) -> Slot {
        let start = scratch.count
        scratch.append(contentsOf: s.utf8)
        return .bytes(start..<scratch.count)
    }

    fileprivate func integerSlot<I: FixedWidthInteger>(_ value: I) -> Slot {
        let start = scratch.count
        Self.appendInteger(value, to: &scratch)
        return .bytes(start..<scratch.count)
    }

    fileprivate func floatSlot<F: BinaryFloatingPoint & CustomStringConvertible>(_ value: F, _ encoder: ValueEncoder, _ key: (any CodingKey)?) throws -> Slot {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, .init(codingPath: encoder.codingPath + (key.map { [$0] } ?? []),
                                                          debugDescription: "Unable to encode \(F.self).\(value) directly in JSON."))
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        return rawSlot(text)
    }

    fileprivate func uuidSlot(_ id: UUID) -> Slot {
        let start = scratch.count
        Self.appendUUID(id, to: &scratch)
        return .bytes(start..<scratch.count)
    }

    fileprivate func dateSlot(_ date: Date) -> Slot {
        let start = scratch.count
        Self.appendDate(date, to: &scratch)
        return .bytes(start..<scratch.count)
    }

    /// `s` as a JSON string, escaped as JSONEncoder escapes it (see the type's comment).
    static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            var mark = 0
            for i in bytes.indices {
                let b = bytes[i]
                guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else { continue }
                if i > mark { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[mark..<i])) }
                mark = i + 1
                out.append(UInt8(ascii: "\\"))
                switch b {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(b)
                case 0x08: out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(UInt8(ascii: "f"))
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                default:
                    out.append(contentsOf: "u00".utf8)
                    out.append(hexDigits[Int(b >> 4)])
                    out.append(hexDigits[Int(b & 0x0F)])
                }
            }
            if bytes.count > mark { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[mark...])) }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    static func appendInteger<I: FixedWidthInteger>(_ value: I, to out: inout [UInt8]) {
        if value == 0 { out.append(UInt8(ascii: "0")); return }
        // The magnitude, so that the most negative value has no positive counterpart to overflow into.
        var magnitude = value.magnitude
        if value < 0 { out.append(UInt8(ascii: "-")) }
        let start = out.count
        while magnitude > 0 {
            out.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10))
            magnitude /= 10
        }
        out[start...].reverse()
    }

    /// `"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"`, lower-case hex.
    static func appendUUID(_ id: UUID, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        withUnsafeBytes(of: id.uuid) { bytes in
            for (i, byte) in bytes.enumerated() {
                if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Seconds since 1970 from which `appendDate` computes the text itself: 1970-01-01 up to the end of
    /// year 9999. Outside, and for the last microsecond of a second (where a formatter that rounds to
    /// nanoseconds and one that truncates could part), Foundation's formatter writes it.
    private static let fastDates: Range<Double> = 0..<253_402_300_800

    /// `"2026-11-30T04:31:07Z"`: whole seconds (truncated), UTC, as `date.formatted(.iso8601)`.
    static func appendDate(_ date: Date, to out: inout [UInt8]) {
        let t = date.timeIntervalSince1970
        guard fastDates.contains(t), t - t.rounded(.down) < 0.999_999 else {
            appendString(date.formatted(.iso8601), to: &out)
            return
        }
        let seconds = Int(t.rounded(.down))
        let (days, secondOfDay) = seconds.quotientAndRemainder(dividingBy: 86_400)
        // Civil date from days since 1970-01-01 (Howard Hinnant's `civil_from_days`, proleptic Gregorian).
        let z = days + 719_468
        let era = z / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            var v = value
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(v / divisor))
                v %= divisor
                divisor /= 10
            }
        }
        out.append(UInt8(ascii: "\""))
        digits(year, 4)
        out.append(UInt8(ascii: "-"))
        digits(month, 2)
        out.append(UInt8(ascii: "-"))
        digits(day, 2)
        out.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3_600, 2)
        out.append(UInt8(ascii: ":"))
        digits(secondOfDay / 60 % 60, 2)
        out.append(UInt8(ascii: ":"))
        digits(secondOfDay % 60, 2)
        out.append(contentsOf: "Z\"".utf8)
    }
}

// MARK: - The value tree

/// One encoded value: a scalar already written to the writer's scratch bytes, or a container.
fileprivate enum Slot {
    case bytes(Range<Int>)
    case null
    case bool(Bool)
    case array(ArrayNode)
    case object(ObjectNode)
    /// The value of a `superEncoder()`, taken when the document is written.
    case deferred(ValueEncoder)
}

fileprivate final class ArrayNode {
    var items: [Slot] = []
}


fileprivate final class ObjectNode {
    /// In the order encoded; a key may appear more than once (the last one counts).
    var members: [(key: String, value: Slot)] = []

    /// The last slot written for `key`, if any.
    func last(_ key: String) -> Slot? {
        members.last(where: { $0.key == key })?.value
    }

    /// Members by the UTF-8 bytes of their keys, one per key (its last value), as JSONEncoder writes them.
    func sortedMembers() -> [(key: String, value: Slot)] {
        if members.count < 2 { return members }
        var ascending = true
        for i in 1..<members.count where !(members[i - 1].key < members[i].key) { ascending = false; break }
        // For ASCII keys, String's `<` and `==` are byte comparisons; the check above then also proves
        // every key distinct.
        let ascii = members.allSatisfy { $0.key.utf8.allSatisfy { $0 < 0x80 } }
        if ascending, ascii { return members }
        if ascii {
            // By key, then by the order encoded, so that of equal keys the last one is kept.
            let order = members.indices.sorted { a, b in
                if members[a].key < members[b].key { return true }
                if members[b].key < members[a].key { return false }
                return a < b
            }
            var sorted: [(key: String, value: Slot)] = []
            sorted.reserveCapacity(members.count)
            for (n, i) in order.enumerated() where n + 1 == order.count || members[order[n + 1]].key != members[i].key {
                sorted.append(members[i])
            }
            return sorted
        }
        // JSONEncoder keeps members in a `[String: …]` (a later value replaces an earlier one; keys are
        // equal as Strings are, canonically) and sorts its entries by UTF-8 bytes.
        var byKey: [String: Slot] = [:]
        byKey.reserveCapacity(members.count)
        for member in members { byKey[member.key] = member.value }
        return byKey.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map { (key: $0.key, value: $0.value) }
    }
}

fileprivate struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { self.intValue = intValue }
}

fileprivate struct SuperKey: CodingKey {
    var stringValue: String { "super" }
    var intValue: Int? { nil }
    init() {}
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { return nil }
}

// MARK: - The encoder

/// The `Encoder` one value is encoded with; its result is a `Slot`. Its single-value container is itself.
fileprivate final class ValueEncoder: Encoder, SingleValueEncodingContainer {
    let writer: JSONWriter
    var result: Slot?
    private var parent: ValueEncoder?
    private var key: (any CodingKey)?
    /// Keys of nested containers between the parent's path and `key`.
    private var prefix: [any CodingKey]

    init(_ writer: JSONWriter, parent: ValueEncoder?, key: (any CodingKey)?, prefix: [any CodingKey]) {
        self.writer = writer
        self.parent = parent
        self.key = key
        self.prefix = prefix
    }

    /// Drops the references a super-encoder holds once the document is written.
    func release() {
        parent = nil
        result = nil
    }

    /// A super-encoder for a slot of `node`'s container.
    func superEncoder(key: any CodingKey, prefix: [any CodingKey]) -> ValueEncoder {
        let sub = ValueEncoder(writer, parent: self, key: key, prefix: prefix)
        writer.deferred.append(sub)
        return sub
    }

    var codingPath: [any CodingKey] {
        var path = parent?.codingPath ?? []
        path += prefix
        if let key { path.append(key) }
        return path
    }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// `value`, encoded: the types JSONEncoder writes by its own rules first, then the value's own `encode(to:)`.
    func slot<T: Encodable>(of value: T) throws -> Slot? {
        if let slot = writer.ownSlot(value) { return slot }
        try value.encode(to: self)
        return result
    }

    /// `value` as a member or element at `key` (after the nested containers' `prefix`).
    func child<T: Encodable>(_ value: T, key: any CodingKey, prefix: [any CodingKey]) throws -> Slot {
        if let slot = writer.ownSlot(value) { return slot }
        var encoder: ValueEncoder
        if let reused = writer.spare.popLast() {
            encoder = reused
            encoder.parent = self
            encoder.key = key
            encoder.prefix = prefix
        } else {
            encoder = ValueEncoder(writer, parent: self, key: key, prefix: prefix)
        }
        try value.encode(to: encoder)
        let slot = encoder.result ?? .object(ObjectNode())
        // Reused only when nothing kept it (a container or a super-encoder still referring to it).
        if isKnownUniquelyReferenced(&encoder) {
            encoder.result = nil
            encoder.parent = nil
            encoder.key = nil
            writer.spare.append(encoder)
        }
        return slot
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let node: ObjectNode
        switch result {
        case .object(let existing): node = existing
        case nil:
            node = ObjectNode()
            node.members.reserveCapacity(16)
            result = .object(node)
        default: preconditionFailure("Attempt to push a keyed encoding container when a value was already encoded at this path.")
        }
        return KeyedEncodingContainer(KeyedContainer<Key>(encoder: self, node: node, prefix: []))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let node: ArrayNode
        switch result {
        case .array(let existing): node = existing
        case nil: node = ArrayNode(); result = .array(node)
        default: preconditionFailure("Attempt to push an unkeyed encoding container when a value was already encoded at this path.")
        }
        return UnkeyedContainer(encoder: self, node: node, prefix: [])
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { self }

    // MARK: SingleValueEncodingContainer

    func encodeNil() throws { result = .null }
    func encode(_ value: Bool) throws { result = .bool(value) }
    func encode(_ value: String) throws { result = writer.stringSlot(value) }
    func encode(_ value: Double) throws { result = try writer.floatSlot(value, self, nil) }
    func encode(_ value: Float) throws { result = try writer.floatSlot(value, self, nil) }
    func encode(_ value: Int) throws { result = writer.integerSlot(value) }
    func encode(_ value: Int8) throws { result = writer.integerSlot(value) }
    func encode(_ value: Int16) throws { result = writer.integerSlot(value) }
    func encode(_ value: Int32) throws { result = writer.integerSlot(value) }
    func encode(_ value: Int64) throws { result = writer.integerSlot(value) }
    func encode(_ value: UInt) throws { result = writer.integerSlot(value) }
    func encode(_ value: UInt8) throws { result = writer.integerSlot(value) }
    func encode(_ value: UInt16) throws { result = writer.integerSlot(value) }
    func encode(_ value: UInt32) throws { result = writer.integerSlot(value) }
    func encode(_ value: UInt64) throws { result = writer.integerSlot(value) }
    func encode<T: Encodable>(_ value: T) throws {
        // JSONEncoder encodes the value with this same encoder; an empty result is `{}`.
        result = nil
        result = try slot(of: value) ?? .object(ObjectNode())
    }
}

fileprivate struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: ValueEncoder
    let node: ObjectNode
    let prefix: [any CodingKey]

    var codingPath: [any CodingKey] { encoder.codingPath + prefix }

    private var writer: JSONWriter { encoder.writer }
    private func set(_ slot: Slot, _ key: Key) { node.members.append((key.stringValue, slot)) }

    mutating func encodeNil(forKey key: Key) throws { set(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(writer.stringSlot(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { set(try writer.floatSlot(value, encoder, key), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { set(try writer.floatSlot(value, encoder, key), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(writer.integerSlot(value), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { set(writer.integerSlot(value), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { set(writer.integerSlot(value), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { set(writer.integerSlot(value), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(writer.integerSlot(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { set(writer.integerSlot(value), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { set(writer.integerSlot(value), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { set(writer.integerSlot(value), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { set(writer.integerSlot(value), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { set(writer.integerSlot(value), key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        set(try encoder.child(value, key: key, prefix: prefix), key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let nested: ObjectNode
        switch node.last(key.stringValue) {
        case .object(let existing): nested = existing
        case .array: preconditionFailure("For key \"\(key.stringValue)\" an unkeyed container has already been created.")
        default: nested = ObjectNode(); set(.object(nested), key)
        }
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(encoder: encoder, node: nested, prefix: prefix + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested: ArrayNode
        switch node.last(key.stringValue) {
        case .array(let existing): nested = existing
        case .object: preconditionFailure("For key \"\(key.stringValue)\" a keyed container has already been created.")
        default: nested = ArrayNode(); set(.array(nested), key)
        }
        return UnkeyedContainer(encoder: encoder, node: nested, prefix: prefix + [key])
    }

    mutating func superEncoder() -> any Encoder {
        let sub = encoder.superEncoder(key: SuperKey(), prefix: prefix)
        node.members.append(("super", .deferred(sub)))
        return sub
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let sub = encoder.superEncoder(key: key, prefix: prefix)
        set(.deferred(sub), key)
        return sub
    }
}

fileprivate struct UnkeyedContainer: UnkeyedEncodingContainer {
    let encoder: ValueEncoder
    let node: ArrayNode
    let prefix: [any CodingKey]

    var codingPath: [any CodingKey] { encoder.codingPath + prefix }
    var count: Int { node.items.count }

    private var writer: JSONWriter { encoder.writer }
    private func add(_ slot: Slot) { node.items.append(slot) }

    mutating func encodeNil() throws { add(.null) }
    mutating func encode(_ value: Bool) throws { add(.bool(value)) }
    mutating func encode(_ value: String) throws { add(writer.stringSlot(value)) }
    mutating func encode(_ value: Double) throws { add(try writer.floatSlot(value, encoder, IndexKey(count))) }
    mutating func encode(_ value: Float) throws { add(try writer.floatSlot(value, encoder, IndexKey(count))) }
    mutating func encode(_ value: Int) throws { add(writer.integerSlot(value)) }
    mutating func encode(_ value: Int8) throws { add(writer.integerSlot(value)) }
    mutating func encode(_ value: Int16) throws { add(writer.integerSlot(value)) }
    mutating func encode(_ value: Int32) throws { add(writer.integerSlot(value)) }
    mutating func encode(_ value: Int64) throws { add(writer.integerSlot(value)) }
    mutating func encode(_ value: UInt) throws { add(writer.integerSlot(value)) }
    mutating func encode(_ value: UInt8) throws { add(writer.integerSlot(value)) }
    mutating func encode(_ value: UInt16) throws { add(writer.integerSlot(value)) }
    mutating func encode(_ value: UInt32) throws { add(writer.integerSlot(value)) }
    mutating func encode(_ value: UInt64) throws { add(writer.integerSlot(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        add(try encoder.child(value, key: IndexKey(count), prefix: prefix))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let nested = ObjectNode()
        let key = IndexKey(count)
        add(.object(nested))
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(encoder: encoder, node: nested, prefix: prefix + [key]))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = ArrayNode()
        let key = IndexKey(count)
        add(.array(nested))
        return UnkeyedContainer(encoder: encoder, node: nested, prefix: prefix + [key])
    }

    mutating func superEncoder() -> any Encoder {
        let sub = encoder.superEncoder(key: IndexKey(count), prefix: prefix)
        add(.deferred(sub))
        return sub
    }
}
