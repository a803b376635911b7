import Domain

/// The languages of the public status page: German, English, and simple German (Leichte Sprache:
/// short sentences, one idea per line, no abbreviations, long words split with a hyphen).
enum StatusLanguage: String, CaseIterable, Sendable {
    case de
    case en
    /// Leichte Sprache (`?lang=ls`).
    case simple = "ls"

    /// The `lang` attribute: simple German is German.
    var htmlLang: String { self == .en ? "en" : "de" }

    /// The name of the language in itself, for the switcher.
    var ownName: String {
        switch self {
        case .de: return "Deutsch"
        case .en: return "English"
        case .simple: return "Leichte Sprache"
        }
    }

    /// `?lang=` wins; otherwise the first of `Accept-Language` we speak (RFC 9110 §12.5.4, by q-value); German by default.
    /// Read byte by byte: it runs for every page view.
    static func pick(query: String?, acceptLanguage: String?) -> StatusLanguage {
        if let query, let chosen = StatusLanguage(rawValue: query) { return chosen }
        guard let header = acceptLanguage, header.utf8.count <= 512 else { return .de }
        var best: StatusLanguage?
        var bestQ = -1.0
        for (index, item) in header.utf8.split(separator: UInt8(ascii: ",")).prefix(20).enumerated() {
            let parts = item.split(separator: UInt8(ascii: ";"))
            guard let tag = parts.first?.drop(while: { $0 == 0x20 || $0 == 0x09 }), tag.count >= 2 else { continue }
            let primary = (tag[tag.startIndex] | 0x20, tag[tag.index(after: tag.startIndex)] | 0x20)
            let language: StatusLanguage?
            switch primary {
            case (UInt8(ascii: "d"), UInt8(ascii: "e")): language = .de
            case (UInt8(ascii: "e"), UInt8(ascii: "n")): language = .en
            default: language = nil
            }
            guard let language else { continue }
            var q = 1.0
            for parameter in parts.dropFirst() {
                let p = parameter.drop(while: { $0 == 0x20 || $0 == 0x09 })
                if p.count > 2, p.first == UInt8(ascii: "q"), p.dropFirst().first == UInt8(ascii: "="),
                   let value = Double(String(decoding: p.dropFirst(2).prefix(5), as: UTF8.self)), (0...1).contains(value) {
                    q = value
                }
            }
            guard q > 0 else { continue }
            // Earlier entries win ties (a small bonus keeps the order stable).
            let score = q - Double(index) * 1e-6
            if score > bestQ { best = language; bestQ = score }
        }
        return best ?? .de
    }
}
