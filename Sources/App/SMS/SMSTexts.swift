import Domain
import Foundation
import Postgres
import SMSGateway

/// The kinds of SMS the server sends (docs/ARCHITECTURE.md#sms).
enum SMSKind: String, CaseIterable, Sendable, Codable {
    /// Loaded into the box: PIN, site, deadline.
    case readyInBox = "ready_in_box"
    /// A configurable number of days before the deadline, once.
    case reminder
    /// Not collected in time: taken out of the box, now at the counter.
    case movedToCounter = "moved_to_counter"
    /// A caseworker re-issued the PIN.
    case newPin = "new_pin"
    /// Delivered for counter pickup (or switched to the counter before loading).
    case readyAtCounter = "ready_at_counter"
    /// To the old number, once a second staff member approved a new one (never names the new number).
    case mobileNumberChanged = "mobile_number_changed"

    /// Placeholders a template of this kind must contain: without them the message is useless.
    var requiredPlaceholders: [SMSPlaceholder] {
        switch self {
        case .readyInBox: [.pin, .deadline]
        case .reminder: [.deadline]
        case .newPin: [.pin]
        case .movedToCounter, .readyAtCounter, .mobileNumberChanged: []
        }
    }

    /// A failure of this SMS strands the applicant (they have no PIN): the application is flagged for a call or letter.
    var strandsApplicant: Bool { self == .readyInBox || self == .newPin }
}

/// What a template may contain besides text. There is deliberately no placeholder for the name, date of
/// birth, document type or Vorgangsnummer: an SMS can be read on a lock screen by anyone.
enum SMSPlaceholder: String, CaseIterable, Sendable {
    case pin, site, deadline
}

/// The values a message is rendered with.
struct SMSValues: Sendable {
    var pin: String?
    var site: String?
    var deadline: CivilDate?

    func value(_ placeholder: SMSPlaceholder) -> String {
        switch placeholder {
        case .pin: pin ?? ""
        case .site: site ?? ""
        case .deadline: deadline.map { String(format: "%02d.%02d.%04d", $0.day, $0.month, $0.year) } ?? ""
        }
    }

    /// The longest values a template can meet, for the segment budget: a 6-digit PIN, a 10-character date.
    static func worstCase(siteName: String) -> SMSValues {
        SMSValues(pin: "000000", site: siteName, deadline: try? CivilDate(year: 2099, month: 12, day: 31))
    }
}

/// A parsed template: literal text and placeholders, in order.
struct SMSTemplate: Sendable, Equatable {
    enum Part: Sendable, Equatable {
        case text(String)
        case placeholder(SMSPlaceholder)
    }

    let source: String
    let parts: [Part]

    /// Parses `{pin}`, `{site}` and `{deadline}`; any other `{…}` or an unmatched brace is refused with a
    /// 400 naming the problem (field `body`).
    init(_ source: String) throws {
        var parts: [Part] = []
        var literal = ""
        var rest = Substring(source)
        while let open = rest.firstIndex(where: { $0 == "{" || $0 == "}" }) {
            literal += rest[..<open]
            guard rest[open] == "{", let close = rest[open...].firstIndex(of: "}") else {
                throw AppError.invalid("body", "invalid_template", "A brace in the text has no partner; placeholders are written {pin}, {site}, {deadline}.")
            }
            let name = rest[rest.index(after: open)..<close]
            guard let placeholder = SMSPlaceholder(rawValue: String(name)) else {
                throw AppError.invalid("body", "unknown_placeholder",
                                       "Unknown placeholder {\(name.prefix(30))}: only {pin}, {site} and {deadline} exist (no personal data goes into an SMS).")
            }
            if !literal.isEmpty { parts.append(.text(literal)) }
            literal = ""
            parts.append(.placeholder(placeholder))
            rest = rest[rest.index(after: close)...]
        }
        literal += rest
        if !literal.isEmpty { parts.append(.text(literal)) }
        self.source = source
        self.parts = parts
    }

    var placeholders: Set<SMSPlaceholder> {
        Set(parts.compactMap { if case .placeholder(let p) = $0 { p } else { nil } })
    }

    func render(_ values: SMSValues) -> String {
        parts.map { part in
            switch part {
            case .text(let text): text
            case .placeholder(let p): values.value(p)
            }
        }.joined()
    }
}

/// The texts: built-in German and English per kind, overridden per authority by supervisors
/// (`sms_template`); any other language without its own text gets German and English together.
enum SMSTexts {
    static let builtInLanguages = ["de", "en"]
    static let bilingualSeparator = " / "

    static func builtIn(_ kind: SMSKind, language: String) -> String? {
        switch (kind, language) {
        case (.readyInBox, "de"): "Ihr Dokument liegt in der Ausgabebox {site} bereit. PIN: {pin}. Abholung bis {deadline}. Bitte PIN-Brief mitbringen."
        case (.readyInBox, "en"): "Your document is ready in the pickup box at {site}. PIN: {pin}. Collect by {deadline}. Bring your PIN letter."
        case (.reminder, "de"): "Erinnerung: Ihr Dokument liegt noch in der Ausgabebox {site}. Abholung bis {deadline} mit der PIN aus unserer SMS."
        case (.reminder, "en"): "Reminder: your document is still in the pickup box at {site}. Collect it by {deadline} with the PIN from our SMS."
        case (.movedToCounter, "de"): "Ihr Dokument wurde nicht aus der Ausgabebox abgeholt und liegt jetzt am Schalter ({site}) bereit. Bitte buchen Sie einen Termin."
        case (.movedToCounter, "en"): "Your document was not collected from the pickup box and is now ready at the counter ({site}). Please book an appointment."
        case (.newPin, "de"): "Ihre neue PIN für die Ausgabebox: {pin}. Die bisherige PIN gilt nicht mehr."
        case (.newPin, "en"): "Your new PIN for the pickup box: {pin}. The previous PIN no longer works."
        case (.readyAtCounter, "de"): "Ihr Dokument liegt zur Abholung am Schalter ({site}) bereit. Bitte buchen Sie einen Termin."
        case (.readyAtCounter, "en"): "Your document is ready for collection at the counter ({site}). Please book an appointment."
        case (.mobileNumberChanged, "de"): "Die Mobilnummer für die Abholung Ihres Dokuments ({site}) wurde geändert. Falls Sie das nicht veranlasst haben, melden Sie sich bitte sofort bei uns."
        case (.mobileNumberChanged, "en"): "The mobile number for collecting your document ({site}) was changed. If you did not ask for this, please contact us at once."
        default: nil
        }
    }

    /// The authority's own text for a kind and language, if a supervisor set one.
    static func custom(_ connection: PostgresConnection, authorityID: UUID, kind: SMSKind, language: String) throws -> String? {
        try connection.query("""
            SELECT body FROM sms_template WHERE authority_id = \(authorityID) AND kind = \(kind.rawValue) AND language = \(language)
            """).first?.decode(String.self, at: 0)
    }

    /// Where a language's text comes from: the authority's own, the built-in one, or — for a language
    /// without either — German and English together.
    enum Source: String {
        case custom, `default`, fallback
    }

    /// The template for `language`; `custom` answers the authority's own text for a language. The one
    /// rule for sending (`render`) and for showing (`GET /sms/templates`).
    static func resolve(_ kind: SMSKind, language: String, custom: (String) throws -> String?) rethrows -> (text: String, source: Source) {
        if let own = try custom(language) { return (own, .custom) }
        if let builtIn = builtIn(kind, language: language) { return (builtIn, .default) }
        let de = try custom("de") ?? builtIn(kind, language: "de") ?? ""
        let en = try custom("en") ?? builtIn(kind, language: "en") ?? ""
        return (de + bilingualSeparator + en, .fallback)
    }

    /// The text for `language`, rendered with `values`.
    static func render(_ connection: PostgresConnection, authorityID: UUID, kind: SMSKind, language: String, values: SMSValues) throws -> String {
        let source = try resolve(kind, language: language) { try custom(connection, authorityID: authorityID, kind: kind, language: $0) }
        // Stored templates were validated when saved; a parse failure here would be a bug, and the
        // built-in texts are the safe answer.
        let template = (try? SMSTemplate(source.text)) ?? (try? SMSTemplate(resolve(kind, language: language) { _ in nil }.text))
        return template?.render(values) ?? ""
    }

    /// The longest site name of the authority: the worst case for the segment budget.
    static func longestSiteName(_ connection: PostgresConnection, authorityID: UUID) throws -> String {
        try connection.query("SELECT name FROM site WHERE authority_id = \(authorityID) ORDER BY length(name) DESC, name LIMIT 1")
            .first?.decode(String.self, at: 0) ?? "Bürgeramt"
    }
}

extension SMSText.Encoding {
    /// `gsm7` or `ucs2`, as stored and shown.
    var storedName: String { self == .gsm7 ? "gsm7" : "ucs2" }
}
