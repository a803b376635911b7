import Foundation

/// A UUID's text form, 8-4-4-4-12 hexadecimal digits, read and written without Foundation's
/// `UUID(uuidString:)` and `uuidString`, which go through `sscanf`, `strtoull` and `snprintf` (2.4 % of the
/// server's CPU on the pickup path, BENCHMARKS.md). Writes what Foundation writes (upper case); reads the
/// canonical form in either case, and nothing else (Foundation's `sscanf` also takes a sign or a space
/// inside a field).
enum UUIDText {
    private static let digits = Array("0123456789ABCDEF".utf8)

    /// The UUID, or nil unless `bytes` is exactly the 36-character hyphenated form.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> UUID? {
        guard bytes.count == 36 else { return nil }
        var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let parsed = withUnsafeMutableBytes(of: &value) { out -> Bool in
            var index = 0
            var high: UInt8? = nil
            for position in 0..<36 {
                let byte = bytes[position]
                if position == 8 || position == 13 || position == 18 || position == 23 {
                    guard byte == UInt8(ascii: "-") else { return false }
                    continue
                }
                guard let nibble = Self.nibble(byte) else { return false }
                if let h = high {
                    out[index] = h << 4 | nibble
                    index += 1
                    high = nil
                } else {
                    high = nibble
                }
            }
            return index == 16
        }
        return parsed ? UUID(uuid: value) : nil
    }

    /// `E621E1F8-C36C-495A-93FC-0C247A3E6E5F`, as `uuidString` writes it.
    static func format(_ uuid: UUID) -> String {
        withUnsafeBytes(of: uuid.uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { out in
                var position = 0
                for (index, byte) in bytes.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        out[position] = UInt8(ascii: "-")
                        position += 1
                    }
                    out[position] = digits[Int(byte >> 4)]
                    out[position + 1] = digits[Int(byte & 0x0F)]
                    position += 2
                }
                return position
            }
        }
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
