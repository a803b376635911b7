#if canImport(Glibc)
import Glibc
#endif

/// Builds one log line into a reused buffer without Foundation formatters: the timestamp's date and
/// time are computed once per second, numbers and JSON strings are written byte by byte. One builder
/// per thread (an event loop keeps its own); not thread-safe.
public struct LogLineBuilder {
    public private(set) var bytes: [UInt8] = []
    private var cachedSecond = Int.min
    /// "2026-11-30T02:05:07" for `cachedSecond`.
    private var cachedPrefix: [UInt8] = []

    public init() {
        bytes.reserveCapacity(512)
    }

    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
    }

    /// The current time in UTC as `2026-11-30T02:05:07.123Z` (RFC 3339, milliseconds).
    public mutating func appendTimestamp() {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let second = Int(now.tv_sec)
        if second != cachedSecond {
            cachedSecond = second
            cachedPrefix = Self.dateTime(second)
        }
        bytes.append(contentsOf: cachedPrefix)
        bytes.append(UInt8(ascii: "."))
        appendPadded(Int(now.tv_nsec) / 1_000_000, width: 3)
        bytes.append(UInt8(ascii: "Z"))
    }

    public mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    public mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    public mutating func append(byte: UInt8) {
        bytes.append(byte)
    }

    /// A non-negative or negative whole number in decimal.
    public mutating func appendDecimal(_ value: Int) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            appendDecimal(UInt(value.magnitude))
        } else {
            appendDecimal(UInt(value))
        }
    }

    public mutating func appendDecimal(_ value: UInt) {
        if value < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var v = value
        withUnsafeMutableBytes(of: &digits) { d in
            while v > 0 {
                d[count] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                count += 1
            }
            for i in stride(from: count - 1, through: 0, by: -1) { bytes.append(d[i]) }
        }
    }

    /// Nanoseconds as milliseconds with three decimals: `12.345`.
    public mutating func appendMilliseconds(nanoseconds: UInt64) {
        appendDecimal(UInt(nanoseconds / 1_000_000))
        bytes.append(UInt8(ascii: "."))
        appendPadded(Int(nanoseconds / 1_000 % 1_000), width: 3)
    }

    /// `text` as the contents of a JSON string (RFC 8259 §7): quote, backslash and control characters escaped.
    public mutating func appendJSONEscaped(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            var clean = 0
            for (i, b) in utf8.enumerated() where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b == 0x7F {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[clean..<i]))
                clean = i + 1
                switch b {
                case UInt8(ascii: "\""): append("\\\"")
                case UInt8(ascii: "\\"): append("\\\\")
                case 0x0A: append("\\n")
                case 0x0D: append("\\r")
                case 0x09: append("\\t")
                default:
                    append("\\u00")
                    bytes.append(Self.hex[Int(b >> 4)])
                    bytes.append(Self.hex[Int(b & 0xF)])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[clean...]))
        }
    }

    /// `"text"` with JSON escaping.
    public mutating func appendJSONString(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        appendJSONEscaped(text)
        bytes.append(UInt8(ascii: "\""))
    }

    /// `text` for a `key=value` text line: control characters become `?`, so a value cannot start a new line.
    public mutating func appendTextValue(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            for b in utf8 { bytes.append(b < 0x20 || b == 0x7F ? UInt8(ascii: "?") : b) }
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    private mutating func appendPadded(_ value: Int, width: Int) {
        UTCDateTime.appendDigits(value, width: width, to: &bytes)
    }

    /// "YYYY-MM-DDTHH:MM:SS" of a Unix time in UTC.
    static func dateTime(_ unixSeconds: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(19)
        UTCDateTime.append(unixSeconds, to: &out)
        return out
    }
}
