import Foundation

/// A mobile phone number in E.164 form (`+491711234567`), the only address the box's SMS can reach.
///
/// ``parse(_:allowedCountryCodes:field:)`` accepts what people write:
/// `0171 1234567`, `0171/1234567`, `+49 (0)171-1234567`, `+49 0171 1234567`, `0049 171 1234567`,
/// `(+49) 171 1234567`, `+43 664 1234567`. Rules:
/// - only ASCII digits; Arabic-Indic (`٠١٢`), Persian, full-width (`０１２`) and other Unicode digits
///   are refused with `non_ascii_digits` (so the caseworker can ask for 0–9 instead of guessing);
/// - allowed separators: blanks, `-`, `.`, `/`, parentheses; `+` only in front;
/// - a number starting with a single `0` is German (`0171…` → `+49171…`); `00` is the international
///   prefix; a number with neither prefix is refused (ambiguous);
/// - the trunk `0` people write after the country code (`+49 (0)171`, `+44 07911…`) is dropped,
///   except for Italy (+39), whose fixed-line numbers keep their leading `0`;
/// - the country code (1–3 digits, found by the E.164 zone table) must be on the allow-list →
///   otherwise `unsupported_country_code`;
/// - at most 15 digits in all, at least 6 after the country code; NANP (+1) exactly 10;
/// - for +49 only mobile numbers (`15x`, `16x`, `17x`, 10 or 11 digits after +49) — a landline
///   cannot receive the SMS with the PIN, so `not_a_mobile_number`.
///
/// ``description`` is ``masked``, so a number interpolated into a log line does not leak.
public struct PhoneNumber: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `+` and 7…15 digits.
    public let e164: String
    /// The country calling code, e.g. 49.
    public let countryCode: Int
    /// The national significant number (digits after the country code).
    public let nationalNumber: String

    /// Parses and normalises a mobile number typed by a caseworker or applicant.
    /// Pass `allowedCountryCodes: nil` to accept any country code.
    public static func parse(
        _ text: String,
        allowedCountryCodes: Set<Int>? = PhoneNumber.defaultAllowedCountryCodes,
        field: String = "mobile_number"
    ) throws(DomainError) -> PhoneNumber {
        guard text.utf8.count <= 128 else { throw .invalidPhoneNumber(field: field) }
        // Non-ASCII digits take precedence, so the person learns what to fix.
        if text.unicodeScalars.contains(where: ASCII.isNonASCIIDecimalDigit) { throw .nonASCIIDigits(field: field) }

        // Keep digits, `+` and parentheses; drop separators; refuse anything else.
        var kept: [UInt8] = []
        for scalar in text.unicodeScalars {
            switch scalar {
            case "0"..."9", "(", ")": kept.append(UInt8(scalar.value))
            case "+":
                // Only in front; `(+49) 171 …` is written too, so an opening parenthesis may precede it.
                guard kept.allSatisfy({ $0 == UInt8(ascii: "(") }) else { throw .invalidPhoneNumber(field: field) }
                kept = [UInt8(scalar.value)]
            case ".", "/": continue
            default:
                guard ASCII.isSeparator(scalar) else { throw .invalidPhoneNumber(field: field) }
            }
        }

        var international: [Int]
        let digitsOf: ([UInt8]) -> [Int] = { $0.filter(ASCII.isDigit).map { Int($0 - 0x30) } }
        if kept.first == UInt8(ascii: "+") {
            international = digitsOf(removingTrunkMarker(Array(kept.dropFirst())))
        } else {
            let digits = digitsOf(kept)
            if digits.starts(with: [0, 0]) {
                international = digitsOf(removingTrunkMarker(Array(kept.drop(while: { !ASCII.isDigit($0) }).dropFirst(2))))
            } else if digits.first == 0 {
                international = [4, 9] + digits.dropFirst()
            } else {
                throw .invalidPhoneNumber(field: field)
            }
        }
        guard let first = international.first, first != 0 else { throw .invalidPhoneNumber(field: field) }

        let codeLength = countryCodeLength(of: international)
        guard international.count > codeLength else { throw .invalidPhoneNumber(field: field) }
        let countryCode = international.prefix(codeLength).reduce(0) { $0 * 10 + $1 }
        var national = Array(international.dropFirst(codeLength))
        if national.first == 0, countryCode != 39 { national.removeFirst() }

        if let allowed = allowedCountryCodes, !allowed.contains(countryCode) {
            throw .unsupportedCountryCode(field: field, countryCode: countryCode)
        }
        guard national.count >= 6, codeLength + national.count <= 15, national.first != 0 || countryCode == 39 else {
            throw .invalidPhoneNumber(field: field)
        }
        if countryCode == 1, national.count != 10 { throw .invalidPhoneNumber(field: field) }
        if countryCode == 49 {
            guard national.count >= 2, national[0] == 1, (5...7).contains(national[1]) else {
                throw .notAMobileNumber(field: field)
            }
            guard (10...11).contains(national.count) else { throw .invalidPhoneNumber(field: field) }
        }
        let nationalText = national.map(String.init).joined()
        return PhoneNumber(e164: "+\(countryCode)\(nationalText)", countryCode: countryCode, nationalNumber: nationalText)
    }

    private init(e164: String, countryCode: Int, nationalNumber: String) {
        self.e164 = e164
        self.countryCode = countryCode
        self.nationalNumber = nationalNumber
    }

    /// Drops a `(0)` trunk marker written after the country code (`+49 (0)171…`).
    private static func removingTrunkMarker(_ bytes: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if index + 2 < bytes.count, bytes[index] == UInt8(ascii: "("), bytes[index + 1] == UInt8(ascii: "0"),
               bytes[index + 2] == UInt8(ascii: ")") {
                index += 3
                continue
            }
            result.append(bytes[index])
            index += 1
        }
        return result
    }

    /// For logs and screens: country code, the first three and last three digits of the national
    /// number, the rest as `*` (`+49 171 ****567`). Numbers with fewer than 8 national digits show
    /// only their last two.
    public var masked: String {
        let digits = Array(nationalNumber)
        if digits.count >= 8 {
            return "+\(countryCode) \(String(digits.prefix(3))) \(String(repeating: "*", count: digits.count - 6))\(String(digits.suffix(3)))"
        }
        return "+\(countryCode) \(String(repeating: "*", count: digits.count - 2))\(String(digits.suffix(2)))"
    }

    /// For reading back to the applicant: country code, the first three national digits (the German
    /// mobile prefix), the rest (`+49 151 23456789`).
    public var grouped: String {
        let digits = Array(nationalNumber)
        guard digits.count > 5 else { return "+\(countryCode) \(nationalNumber)" }
        return "+\(countryCode) \(String(digits.prefix(3))) \(String(digits.dropFirst(3)))"
    }

    public var description: String { masked }

    /// Decodes an E.164 string (any country code; the other rules apply).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard text.first == "+", let number = try? PhoneNumber.parse(text, allowedCountryCodes: nil), number.e164 == text else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an E.164 mobile number")
        }
        self = number
    }

    /// Encodes ``e164``.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(e164)
    }
}
