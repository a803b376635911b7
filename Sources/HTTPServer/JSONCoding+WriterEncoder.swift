import Foundation

/// The tree `JSONWriter` builds while a value is encoded, and the `Encoder` and containers that build it.
extension JSONWriter {
    // MARK: - The value tree

    /// One encoded value: a scalar already written to the writer's scratch bytes, or a container.
    enum Slot {
        case bytes(Range<Int>)
        case null
        case bool(Bool)
        case array(ArrayNode)
        case object(ObjectNode)
        /// The value of a `superEncoder()`, taken when the document is written.
        case deferred(ValueEncoder)
    }

    final class ArrayNode {
        var items: [Slot] = []
    }


    final class ObjectNode {
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

    struct IndexKey: CodingKey {
        let intValue: Int?
        var stringValue: String { "Index \(intValue ?? 0)" }
        init(_ index: Int) { intValue = index }
        init?(stringValue: String) { return nil }
        init?(intValue: Int) { self.intValue = intValue }
    }

    struct SuperKey: CodingKey {
        var stringValue: String { "super" }
        var intValue: Int? { nil }
        init() {}
        init?(stringValue: String) { return nil }
        init?(intValue: Int) { return nil }
    }

    // MARK: - The encoder

    /// The `Encoder` one value is encoded with; its result is a `Slot`. Its single-value container is itself.
    final class ValueEncoder: Encoder, SingleValueEncodingContainer {
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

        /// An encoder for a container's `superEncoder`, whose value is taken when the document is written.
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

    struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
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

    struct UnkeyedContainer: UnkeyedEncodingContainer {
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
}
