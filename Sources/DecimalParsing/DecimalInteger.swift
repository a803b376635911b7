/// The one parser for decimal integers in untrusted text and bytes: HTTP headers and query parameters,
/// configuration values, PostgreSQL text results, file names, provider replies.
///
/// Digits are ASCII `0`–`9` only (no white space, no `_`, no other scripts' digits); leading zeros are
/// allowed. A value that does not fit the type is nil, never a trap.
extension FixedWidthInteger {
    /// The value of `bytes` in decimal, or nil when it is empty, holds anything but digits (after one
    /// leading `-` or `+` when `allowingSign`), or does not fit `Self`. For types up to 64 bits.
    public init?(decimal bytes: some Collection<UInt8>, allowingSign: Bool = false) {
        let parsed = bytes.withContiguousStorageIfAvailable { DecimalInteger.parse(UnsafeRawBufferPointer($0), allowingSign: allowingSign) }
            ?? Array(bytes).withUnsafeBytes { DecimalInteger.parse($0, allowingSign: allowingSign) }
        guard let parsed, let value = DecimalInteger.convert(parsed, to: Self.self) else { return nil }
        self = value
    }

    /// The same for bytes in memory, without copying them (PostgreSQL text results).
    public init?(decimal bytes: UnsafeRawBufferPointer, allowingSign: Bool = false) {
        guard let parsed = DecimalInteger.parse(bytes, allowingSign: allowingSign),
              let value = DecimalInteger.convert(parsed, to: Self.self) else { return nil }
        self = value
    }

    /// The value of `text` (its UTF-8) in decimal; see `init?(decimal:allowingSign:)` for bytes.
    public init?(decimal text: some StringProtocol, allowingSign: Bool = false) {
        self.init(decimal: text.utf8, allowingSign: allowingSign)
    }
}

/// The non-generic core, so that the byte loop is compiled once, not per caller's type.
enum DecimalInteger {
    struct Parsed {
        var negative: Bool
        var magnitude: UInt64
    }

    static func parse(_ bytes: UnsafeRawBufferPointer, allowingSign: Bool) -> Parsed? {
        guard !bytes.isEmpty else { return nil }
        var index = 0
        var negative = false
        if allowingSign && (bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+")) {
            negative = bytes[0] == UInt8(ascii: "-")
            index = 1
            guard bytes.count > 1 else { return nil }
        }
        var magnitude: UInt64 = 0
        while index < bytes.count {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
            guard !overflow1 && !overflow2 else { return nil }
            magnitude = sum
            index += 1
        }
        return Parsed(negative: negative, magnitude: magnitude)
    }

    static func convert<T: FixedWidthInteger>(_ parsed: Parsed, to type: T.Type) -> T? {
        guard parsed.negative, parsed.magnitude != 0 else { return T(exactly: parsed.magnitude) }
        guard T.isSigned else { return nil }
        // -2^63 has no positive Int64 counterpart; every other negative value does.
        if parsed.magnitude == UInt64(Int64.max) + 1 { return T(exactly: Int64.min) }
        guard let positive = Int64(exactly: parsed.magnitude) else { return nil }
        return T(exactly: -positive)
    }
}
