import Foundation

/// The number that identifies an application (Vorgang) to the applicant: printed in the letter,
/// encoded in its status QR code, typed on the status page and read aloud on the phone.
///
/// ## Generated numbers
/// Nine random symbols and one check symbol, drawn from the 29-symbol alphabet
/// ``alphabet`` = `23456789ABCDEFGHJKMNPQRSTVWXY`:
/// - no `0 O 1 I L` (look alike), no `U` (read as `V`), no `Z` (confused with `2` in handwriting,
///   and spoken differently in almost every language) — and dropping `Z` makes the alphabet size
///   prime, which the check symbol needs;
/// - 29⁹ ≈ 1.45 × 10¹³ numbers ≈ 43.7 random bits (≥ 40 bits, so not guessable for the status page);
/// - shown in groups `K7M-4XQ-9TR-C`, stored and encoded compactly `K7M4XQ9TRC`.
///
/// **Check symbol** (a weighted mod-p code, like ISO 7064 pure systems): with symbol values
/// v₁…v₁₀ (position 10 is the check symbol) the number is valid iff Σ i·vᵢ ≡ 0 (mod 29). Because 29
/// is prime and the weights 1…10 are distinct and non-zero mod 29, a single substitution changes the
/// sum by i·(v′−v) ≢ 0, and swapping *any* two different symbols (adjacent or not) changes it by
/// (i−j)·(vⱼ−vᵢ) ≢ 0: every single substitution and every transposition is detected. The test
/// suite proves this exhaustively over every position and symbol pair.
///
/// **Parsing** accepts lower case, spaces, hyphens (and pasted look-alikes: no-break and thin spaces,
/// Unicode dashes). Characters outside the alphabet — including `0 O 1 I L U Z` — are *refused*, not
/// mapped: `0` and `O` are both excluded, so there is nothing unambiguous to map them to, and a guess
/// would only turn a typo into a different valid-looking number. The check symbol catches the rest.
///
/// ## External numbers
/// Authorities that keep their specialist software's numbers use ``init(external:field:)``, which
/// accepts (after trimming surrounding blanks and upper-casing ASCII letters) the pattern
/// `^[A-Z0-9][A-Z0-9./-]{3,39}$` — 4 to 40 characters of digits, letters, `.`, `/`, `-`, starting with a
/// digit or letter — and marks the number ``isExternal`` (no check symbol is verified).
public struct Vorgangsnummer: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The 29 symbols of generated numbers, in value order (symbol value = index).
    public static let alphabet: [Character] = Array("23456789ABCDEFGHJKMNPQRSTVWXY")
    /// Random symbols in a generated number.
    public static let payloadLength = 9
    /// Symbols in a generated number, check symbol included.
    public static let length = payloadLength + 1
    /// Length bounds of external numbers.
    public static let externalLength = 4...40

    static let modulus = 29
    private static let alphabetBytes: [UInt8] = Array("23456789ABCDEFGHJKMNPQRSTVWXY".utf8)
    /// ASCII byte → symbol value, or -1.
    private static let valueOfByte: [Int] = {
        var table = [Int](repeating: -1, count: 128)
        for (value, byte) in alphabetBytes.enumerated() { table[Int(byte)] = value }
        return table
    }()

    /// The canonical form: compact for generated numbers (`K7M4XQ9TRC`), normalised for external ones.
    public let value: String
    /// Taken from the authority's specialist software; no check symbol.
    public let isExternal: Bool

    private init(value: String, isExternal: Bool) {
        self.value = value
        self.isExternal = isExternal
    }

    /// A fresh number with 9 random symbols and its check symbol. Use a CSPRNG in production
    /// (`SystemRandomNumberGenerator`); tests inject a seeded generator.
    public static func generate(using rng: inout some RandomNumberGenerator) -> Vorgangsnummer {
        var values: [Int] = []
        values.reserveCapacity(length)
        for _ in 0..<payloadLength {
            values.append(Int(rng.next(upperBound: UInt64(modulus))))
        }
        values.append(checkValue(forPayload: values))
        return Vorgangsnummer(value: string(of: values), isExternal: false)
    }

    /// Parses a generated number as a person types it (`k7m 4xq-9tr c`); throws `invalid_vorgangsnummer`
    /// for a wrong length, a symbol outside ``alphabet`` or a wrong check symbol.
    public init(_ text: String, field: String = "vorgangsnummer") throws(DomainError) {
        // Cheap refusal of huge input before looking at it: 10 symbols plus generous separators. Blanks
        // around the number do not count, as for an external number: with them counted, a generated
        // number followed by many blanks was read as an external one of another value (a fuzzer found it).
        guard text.utf8.count <= 256, ASCII.trimmed(Array(text.utf8)).count <= 64 else { throw .invalidVorgangsnummer(field: field) }
        var values: [Int] = []
        for scalar in text.unicodeScalars {
            if ASCII.isSeparator(scalar) { continue }
            guard scalar.isASCII, values.count < Self.length else { throw .invalidVorgangsnummer(field: field) }
            let value = Self.valueOfByte[Int(ASCII.upper(UInt8(scalar.value)))]
            guard value >= 0 else { throw .invalidVorgangsnummer(field: field) }
            values.append(value)
        }
        guard values.count == Self.length, Self.isValid(values: values) else {
            throw .invalidVorgangsnummer(field: field)
        }
        self.init(value: Self.string(of: values), isExternal: false)
    }

    /// Accepts a number from the authority's specialist software: after trimming blanks and
    /// upper-casing ASCII letters it must match `^[A-Z0-9][A-Z0-9./-]{3,39}$`.
    public init(external text: String, field: String = "vorgangsnummer") throws(DomainError) {
        guard text.utf8.count <= 256 else { throw .invalidVorgangsnummer(field: field) }
        let bytes = ASCII.trimmed(Array(text.utf8)).map(ASCII.upper)
        guard Self.externalLength.contains(bytes.count), let first = bytes.first,
              ASCII.isDigit(first) || ASCII.isUpper(first),
              bytes.allSatisfy({ ASCII.isDigit($0) || ASCII.isUpper($0) || $0 == 0x2E || $0 == 0x2F || $0 == 0x2D })
        else { throw .invalidVorgangsnummer(field: field) }
        self.init(value: String(decoding: bytes, as: UTF8.self), isExternal: true)
    }

    /// A generated number if `text` is one; otherwise, when `allowExternal`, an external one.
    /// (A mistyped generated number may then be taken as external; it will simply not be found.)
    public static func parse(_ text: String, allowExternal: Bool, field: String = "vorgangsnummer") throws(DomainError) -> Vorgangsnummer {
        if let generated = try? Vorgangsnummer(text, field: field) { return generated }
        guard allowExternal else { throw .invalidVorgangsnummer(field: field) }
        return try Vorgangsnummer(external: text, field: field)
    }

    /// The check symbol for nine payload symbols, or nil if `payload` is not nine symbols of ``alphabet``.
    public static func checkCharacter(forPayload payload: String) -> Character? {
        let values = payload.utf8.map { $0 < 128 ? valueOfByte[Int($0)] : -1 }
        guard values.count == payloadLength, values.allSatisfy({ $0 >= 0 }) else { return nil }
        return alphabet[checkValue(forPayload: values)]
    }

    /// Whether `text` (compact, upper case) is ten symbols of ``alphabet`` with a correct check symbol.
    public static func hasValidCheckCharacter(_ text: String) -> Bool {
        let values = text.utf8.map { $0 < 128 ? valueOfByte[Int($0)] : -1 }
        return values.count == length && values.allSatisfy { $0 >= 0 } && isValid(values: values)
    }

    /// Σ i·vᵢ mod 29 over positions 1…n.
    static func weightedSum(_ values: [Int]) -> Int {
        var sum = 0
        for (index, value) in values.enumerated() { sum = (sum + (index + 1) * value) % modulus }
        return sum
    }

    static func isValid(values: [Int]) -> Bool { weightedSum(values) == 0 }

    /// v₁₀ with 10·v₁₀ ≡ −Σ₁…₉ i·vᵢ (mod 29); 3 is the inverse of 10 mod 29 (30 ≡ 1).
    static func checkValue(forPayload values: [Int]) -> Int {
        let sum = weightedSum(values)
        return ((modulus - sum) % modulus) * 3 % modulus
    }

    private static func string(of values: [Int]) -> String {
        String(decoding: values.map { alphabetBytes[$0] }, as: UTF8.self)
    }

    /// For people: `K7M-4XQ-9TR-C` (external numbers as stored).
    public var displayString: String {
        guard !isExternal else { return value }
        let symbols = Array(value)
        return String(symbols[0..<3]) + "-" + String(symbols[3..<6]) + "-" + String(symbols[6..<9]) + "-" + String(symbols[9...])
    }

    public var description: String { displayString }

    /// Decodes a stored value: a generated number if it is one, else an external number.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let number = try? Vorgangsnummer.parse(text, allowExternal: true) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a Vorgangsnummer")
        }
        self = number
    }

    /// Encodes ``value``.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
