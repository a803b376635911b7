/// What a text costs before it is sent: GSM 7-bit or UCS-2, and the number of segments.
///
/// 3GPP TS 23.038 §6.2.1: the GSM 7-bit default alphabet (1 septet per character) and its extension
/// table (escape + character: 2 septets). A single SMS holds 160 septets or 70 UCS-2 code units; a
/// concatenated SMS loses 7 septets / 3 units per part to the user data header (TS 23.040 §9.2.3.24.1),
/// leaving 153 / 67. A 2-septet character or a surrogate pair is never split across two parts.
///
/// Characters are compared as Unicode scalars without normalisation: a decomposed "é" (e + U+0301) forces
/// UCS-2. Our templates are stored precomposed (NFC).
public enum SMSText {
    public enum Encoding: Sendable, Equatable {
        case gsm7, ucs2
    }

    /// GSM 7-bit if every character is in the default alphabet or its extension table, else UCS-2.
    public static func encoding(of text: String) -> Encoding {
        text.unicodeScalars.allSatisfy { septets(of: $0) != nil } ? .gsm7 : .ucs2
    }

    /// Encoding, length in units (septets for GSM-7, UTF-16 code units for UCS-2) and segment count.
    /// An empty text is one (empty) SMS.
    public static func segments(of text: String) -> (encoding: Encoding, units: Int, segments: Int) {
        let encoding = encoding(of: text)
        // The cost of each character in units, in order.
        let costs: [Int] = switch encoding {
        case .gsm7: text.unicodeScalars.map { septets(of: $0) ?? 1 }
        case .ucs2: text.unicodeScalars.map { $0.utf16.count }
        }
        let units = costs.reduce(0, +)
        let (single, part) = encoding == .gsm7 ? (160, 153) : (70, 67)
        guard units > single else { return (encoding, units, 1) }
        var segments = 1
        var used = 0
        for cost in costs {
            if used + cost > part {
                segments += 1
                used = 0
            }
            used += cost
        }
        return (encoding, units, segments)
    }

    /// 1 for the default alphabet, 2 for the extension table, nil when GSM-7 cannot carry the scalar.
    static func septets(of scalar: Unicode.Scalar) -> Int? {
        if basic.contains(scalar) { return 1 }
        if extended.contains(scalar) { return 2 }
        return nil
    }

    // TS 23.038 §6.2.1, default alphabet, in table order (0x00…0x7F; 0x1B, the escape, is left out).
    // 0x09 is "Ç" (capital C cedilla): lower-case "ç" is not in the alphabet.
    private static let basic: Set<Unicode.Scalar> = Set(
        ("@£$¥èéùìòÇ\nØø\rÅå" + "Δ_ΦΓΛΩΠΨΣΘΞ" + "ÆæßÉ" + " !\"#¤%&'()*+,-./0123456789:;<=>?"
            + "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§" + "¿abcdefghijklmnopqrstuvwxyzäöñüà").unicodeScalars
    )

    // TS 23.038 §6.2.1.1, extension table: form feed, ^ { } \ [ ~ ] | €.
    private static let extended: Set<Unicode.Scalar> = Set("\u{0C}^{}\\[~]|€".unicodeScalars)
}
