import Foundation

/// The serial number printed on a German identity document (eAT, passport, ID card, travel
/// document), by which deliveries from the Bundesdruckerei are matched to applications.
///
/// Nine characters from `0-9 C F G H J K L M N P R T V W X Y Z` (the Bundesdruckerei's alphabet
/// without vowels and look-alikes), the first one a letter from that set. A 10th character, as in
/// the machine-readable zone, must be the ICAO 9303 check digit (part 3, §4.9: values 0–9, A=10 …
/// Z=35, `<`=0; weights 7, 3, 1 repeating; sum mod 10). Input is upper-cased and blanks are removed;
/// the stored ``value`` is the nine characters without the check digit.
public struct DocumentNumber: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The characters a document number may contain.
    public static let alphabet: Set<Character> = Set("0123456789CFGHJKLMNPRTVWXYZ")
    private static let alphabetBytes: Set<UInt8> = Set("0123456789CFGHJKLMNPRTVWXYZ".utf8)

    /// The nine characters, upper case.
    public let value: String

    /// Parses `text` (blanks ignored, any case), verifying a 10th check digit if present.
    public init(_ text: String, field: String = "document_number") throws(DomainError) {
        guard text.utf8.count <= 64 else { throw .invalidDocumentNumber(field: field) }
        var bytes: [UInt8] = []
        for scalar in text.unicodeScalars {
            if scalar == " " || scalar == "\t" || scalar == "\u{A0}" { continue }
            guard scalar.isASCII, bytes.count < 10 else { throw .invalidDocumentNumber(field: field) }
            bytes.append(ASCII.upper(UInt8(scalar.value)))
        }
        guard bytes.count == 9 || bytes.count == 10 else { throw .invalidDocumentNumber(field: field) }
        let serial = Array(bytes.prefix(9))
        guard serial.allSatisfy(Self.alphabetBytes.contains), ASCII.isUpper(serial[0]) else {
            throw .invalidDocumentNumber(field: field)
        }
        if bytes.count == 10 {
            guard ASCII.isDigit(bytes[9]) else { throw .invalidDocumentNumber(field: field) }
            guard let expected = Self.icaoCheckDigit(serial), Int(bytes[9] - 0x30) == expected else {
                throw .documentCheckDigitMismatch(field: field)
            }
        }
        value = String(decoding: serial, as: UTF8.self)
    }

    /// The ICAO 9303 7-3-1 check digit of ``value``.
    public var checkDigit: Int { Self.icaoCheckDigit(Array(value.utf8)) ?? 0 }

    /// ``value`` followed by its check digit, as in the machine-readable zone.
    public var valueWithCheckDigit: String { value + String(checkDigit) }

    /// ICAO 9303 check digit over `0-9`, `A-Z`, `<`; nil if another character occurs.
    public static func icaoCheckDigit(_ text: String) -> Int? { icaoCheckDigit(Array(text.utf8)) }

    static func icaoCheckDigit(_ bytes: [UInt8]) -> Int? {
        let weights = [7, 3, 1]
        var sum = 0
        for (index, byte) in bytes.enumerated() {
            let value: Int
            if ASCII.isDigit(byte) {
                value = Int(byte - 0x30)
            } else if ASCII.isUpper(byte) {
                value = Int(byte - 0x41) + 10
            } else if byte == UInt8(ascii: "<") {
                value = 0
            } else {
                return nil
            }
            sum += value * weights[index % 3]
        }
        return sum % 10
    }

    public var description: String { value }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a document number")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
