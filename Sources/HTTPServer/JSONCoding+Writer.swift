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
/// `JSONWriterTests` and, during the App tests, `ReferenceJSON` hold it to JSONEncoder's bytes.
final class JSONWriter {
    /// Scalars are written here as they are encoded; containers keep ranges into it until the end.
    var scratch: [UInt8] = []
    /// Encoders of nested values, returned when nothing kept them (most values are written by one).
    var spare: [ValueEncoder] = []
    /// Super-encoders: their slots in the tree refer to them, and they to their parents.
    var deferred: [ValueEncoder] = []

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

    func write(_ slot: Slot, into out: inout [UInt8], depth: Int) throws {
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
    func ownSlot<T: Encodable>(_ value: T) -> Slot? {
        if T.self == String.self { return stringSlot(value as! String) }
        if T.self == UUID.self { return uuidSlot(value as! UUID) }
        if T.self == Date.self { return dateSlot(value as! Date) }
        if T.self == Data.self { return stringSlot((value as! Data).base64EncodedString()) }
        if T.self == URL.self { return stringSlot((value as! URL).absoluteString) }
        if T.self == Decimal.self { return rawSlot((value as! Decimal).description) }
        return nil
    }

    func stringSlot(_ s: String) -> Slot {
        let start = scratch.count
        Self.appendString(s, to: &scratch)
        return .bytes(start..<scratch.count)
    }

    func rawSlot(_ s: String) -> Slot {
        let start = scratch.count
        scratch.append(contentsOf: s.utf8)
        return .bytes(start..<scratch.count)
    }

    func integerSlot<I: FixedWidthInteger>(_ value: I) -> Slot {
        let start = scratch.count
        Self.appendInteger(value, to: &scratch)
        return .bytes(start..<scratch.count)
    }

    func floatSlot<F: BinaryFloatingPoint & CustomStringConvertible>(_ value: F, _ encoder: ValueEncoder, _ key: (any CodingKey)?) throws -> Slot {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, .init(codingPath: encoder.codingPath + (key.map { [$0] } ?? []),
                                                          debugDescription: "Unable to encode \(F.self).\(value) directly in JSON."))
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        return rawSlot(text)
    }

    func uuidSlot(_ id: UUID) -> Slot {
        let start = scratch.count
        Self.appendUUID(id, to: &scratch)
        return .bytes(start..<scratch.count)
    }

    func dateSlot(_ date: Date) -> Slot {
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
        out.append(UInt8(ascii: "\""))
        UTCDateTime.append(Int(t.rounded(.down)), to: &out)
        out.append(contentsOf: "Z\"".utf8)
    }
}
