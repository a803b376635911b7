import Foundation
import HTTPServer
import Postgres
import SMSGateway

/// The SMS texts per kind and language: built in, or set by a supervisor, each checked for its
/// placeholders and its cost in segments with the longest values.
extension SMSHandlers {
    struct Template: Codable {
        var kind: String
        var language: String
        var body: String
        /// `custom` (set by a supervisor), `default` (built in), or `fallback` (no text for this language:
        /// the German and English texts are sent together).
        var source: String
        var requiredPlaceholders: [String]
        /// Cost with the longest values (6-digit PIN, a 10-character date, the authority's longest site name).
        var encoding: String
        var segments: Int
        var segmentBudget: Int
        var updatedAt: Date?
    }

    struct TemplateList: Codable {
        var placeholders: [String]
        var segmentBudget: Int
        var items: [Template]
    }

    struct TemplateInput: Codable {
        var body: String
    }

    static func templates(_ ctx: StaffContext) throws -> Response {
        try ctx.app.pool.withConnection { c in
            struct Key: Hashable { let kind: String, language: String }
            var custom: [Key: (body: String, updatedAt: Date)] = [:]
            for row in try c.query("SELECT kind, language, body, updated_at FROM sms_template WHERE authority_id = \(ctx.authorityID)") {
                custom[Key(kind: try row.decode(String.self, column: "kind"), language: try row.decode(String.self, column: "language"))] =
                    (try row.decode(String.self, column: "body"), try row.decode(Date.self, column: "updated_at"))
            }
            let languages = Set(SMSTexts.builtInLanguages + custom.keys.map(\.language)).sorted()
            let site = try SMSTexts.longestSiteName(c, authorityID: ctx.authorityID)
            let budget = ctx.app.configuration.sms.segmentBudget
            var items: [Template] = []
            for kind in SMSKind.allCases {
                for language in languages {
                    let (body, source) = SMSTexts.resolve(kind, language: language) { custom[Key(kind: kind.rawValue, language: $0)]?.body }
                    let updated = source == .custom ? custom[Key(kind: kind.rawValue, language: language)]?.updatedAt : nil
                    items.append(Template(kind: kind, language: language, body: body, source: source, siteName: site, budget: budget, updatedAt: updated))
                }
            }
            return try .json(TemplateList(placeholders: SMSPlaceholder.allCases.map(\.rawValue), segmentBudget: budget, items: items))
        }
    }

    static func kindAndLanguage(_ kind: String, _ language: String) throws -> (SMSKind, String) {
        guard let k = SMSKind(rawValue: kind) else { throw AppError.notFound("SMS kind") }
        guard language.utf8.count == 2, language.utf8.allSatisfy({ $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }) else {
            throw AppError.invalid("language", "invalid_language", "The language is a two-letter ISO 639-1 code in lower case, e.g. tr.")
        }
        return (k, language)
    }

    /// The text as it would be stored, or the first reason it cannot be: trimmed and composed (NFC),
    /// not empty, at most 1,000 characters, no control characters, placeholders known and complete.
    static func checkedBody(_ kind: SMSKind, _ text: String) throws -> String {
        let body = text.precomposedStringWithCanonicalMapping.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !body.isEmpty else { throw AppError.invalid("body", "missing_field", "The text must not be empty.") }
        guard body.count <= 1000 else { throw AppError.invalid("body", "too_long", "At most 1,000 characters.") }
        guard !body.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\n") || $0.value == 0x7F || (0x80..<0xA0).contains($0.value) }) else {
            throw AppError.invalid("body", "invalid_characters", "Control characters are not allowed (line breaks are).")
        }
        let template = try SMSTemplate(body)
        let missing = kind.requiredPlaceholders.filter { !template.placeholders.contains($0) }
        guard missing.isEmpty else {
            throw AppError.invalid("body", "missing_placeholder",
                                   "A \(kind.rawValue) text must contain \(missing.map { "{\($0.rawValue)}" }.joined(separator: " and ")).")
        }
        return body
    }

    static func overBudget(_ template: Template) -> AppError? {
        guard template.segments > template.segmentBudget else { return nil }
        return AppError(.badRequest, "over_segment_budget",
                        "With the longest values this text needs \(template.segments) SMS segments (\(template.encoding == "gsm7" ? "GSM-7" : "UCS-2")); at most \(template.segmentBudget) are allowed.",
                        field: "body", extra: ["segments": String(template.segments), "segmentBudget": String(template.segmentBudget)])
    }

    static func saveTemplate(_ ctx: StaffContext, kind: String, language: String) throws -> Response {
        let (kind, language) = try kindAndLanguage(kind, language)
        let body = try checkedBody(kind, try ctx.request.decode(TemplateInput.self).body)
        return try ctx.transaction { c in
            var saved = Template(kind: kind, language: language, body: body, source: .custom,
                                 siteName: try SMSTexts.longestSiteName(c, authorityID: ctx.authorityID), budget: ctx.app.configuration.sms.segmentBudget)
            if let refusal = overBudget(saved) { throw refusal }
            saved.updatedAt = try c.query("""
                INSERT INTO sms_template (authority_id, kind, language, body, updated_by) VALUES (\(ctx.authorityID), \(kind.rawValue), \(language), \(body), \(ctx.user.userID))
                ON CONFLICT (authority_id, kind, language) DO UPDATE SET body = EXCLUDED.body, updated_at = now(), updated_by = EXCLUDED.updated_by
                RETURNING updated_at
                """).first?.decode(Date.self, column: "updated_at")
            try ctx.audit(c, "sms_template.saved", "sms_template", nil, detail: ["kind": kind.rawValue, "language": language])
            return try .json(saved)
        }
    }

    /// `POST /sms/templates/{kind}/{language}/preview`: what saving this text would say — its cost with
    /// the longest values and every problem — without saving it (the editor's live segment counter).
    struct Preview: Codable {
        var encoding: String
        var segments: Int
        var segmentBudget: Int
        /// Characters of the text rendered with the longest values.
        var characters: Int
        var withinBudget: Bool
        var problems: [ValidationProblem]
    }

    static func previewTemplate(_ ctx: StaffContext, kind: String, language: String) throws -> Response {
        let (kind, language) = try kindAndLanguage(kind, language)
        let text = try ctx.request.decode(TemplateInput.self).body
        var problems: [ValidationProblem] = []
        let body: String
        do { body = try checkedBody(kind, text) } catch let error as AppError {
            problems.append(ValidationProblem(error))
            body = text.precomposedStringWithCanonicalMapping.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let site = try ctx.app.pool.withConnection { try SMSTexts.longestSiteName($0, authorityID: ctx.authorityID) }
        let template = Template(kind: kind, language: language, body: body, source: .custom, siteName: site, budget: ctx.app.configuration.sms.segmentBudget)
        if let refusal = overBudget(template) { problems.append(ValidationProblem(refusal)) }
        let rendered = (try? SMSTemplate(body))?.render(.worstCase(siteName: site)) ?? body
        return try .json(Preview(encoding: template.encoding, segments: template.segments, segmentBudget: template.segmentBudget,
                                 characters: rendered.count, withinBudget: template.segments <= template.segmentBudget, problems: problems))
    }

    static func deleteTemplate(_ ctx: StaffContext, kind: String, language: String) throws -> Response {
        let (kind, language) = try kindAndLanguage(kind, language)
        return try ctx.transaction { c in
            let deleted = try c.query("""
                DELETE FROM sms_template WHERE authority_id = \(ctx.authorityID) AND kind = \(kind.rawValue) AND language = \(language) RETURNING kind
                """)
            guard !deleted.isEmpty else { throw AppError.notFound("custom SMS text") }
            try ctx.audit(c, "sms_template.deleted", "sms_template", nil, detail: ["kind": kind.rawValue, "language": language])
            return Response(status: .noContent)
        }
    }
}

extension SMSHandlers.Template {
    /// A text with its cost, rendered with the longest values (6-digit PIN, a 10-character date, `siteName`).
    init(kind: SMSKind, language: String, body: String, source: SMSTexts.Source, siteName: String, budget: Int, updatedAt: Date? = nil) {
        let rendered = (try? SMSTemplate(body))?.render(.worstCase(siteName: siteName)) ?? body
        let cost = SMSText.segments(of: rendered)
        self.init(kind: kind.rawValue, language: language, body: body, source: source.rawValue,
                  requiredPlaceholders: kind.requiredPlaceholders.map(\.rawValue), encoding: cost.encoding.storedName,
                  segments: cost.segments, segmentBudget: budget, updatedAt: updatedAt)
    }
}
