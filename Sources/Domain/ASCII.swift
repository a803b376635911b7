import DecimalParsing
import Foundation

/// Small helpers for parsing untrusted text byte by byte, without `Character` surprises
/// (combining marks, `ß`.uppercased() == "SS", grapheme clusters of any length).
enum ASCII {
    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    static func isLower(_ byte: UInt8) -> Bool { byte >= 0x61 && byte <= 0x7A }
    static func isUpper(_ byte: UInt8) -> Bool { byte >= 0x41 && byte <= 0x5A }
    static func upper(_ byte: UInt8) -> UInt8 { isLower(byte) ? byte - 0x20 : byte }

    /// The decimal value of a short run of ASCII digits, or nil (empty, non-digit, longer than 9).
    static func number(_ bytes: some Collection<UInt8>) -> Int? {
        bytes.count <= 9 ? Int(decimal: bytes) : nil
    }

    /// `value` in decimal, left-padded with zeros to `width`.
    static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// Unicode white space and dashes people type or paste between groups of characters.
    static func isSeparator(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x20, 0x09, 0x2D, 0xA0, 0x2009, 0x202F, 0x2010, 0x2011, 0x2012, 0x2013, 0x2212: true
        default: false
        }
    }

    /// A decimal digit that is not 0–9 (Arabic-Indic ٠١٢, Eastern Arabic ۰۱۲, full-width ０１２, Devanagari, …).
    static func isNonASCIIDecimalDigit(_ scalar: Unicode.Scalar) -> Bool {
        !scalar.isASCII && scalar.properties.numericType == .decimal
    }

    /// Leading and trailing ASCII spaces and tabs removed.
    static func trimmed(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        let isBlank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 }
        guard let first = bytes.firstIndex(where: { !isBlank($0) }),
              let last = bytes.lastIndex(where: { !isBlank($0) })
        else { return [] }
        return bytes[first...last]
    }
}
