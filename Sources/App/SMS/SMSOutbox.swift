import Foundation
import Postgres
import SMSGateway

/// Writes SMS into the outbox (`sms_message`) inside the caller's transaction (DESIGN §6): the message
/// exists exactly when the state change that needs it committed. The dispatcher sends it; the NOTIFY
/// (delivered at commit) wakes the dispatchers of every server process.
enum SMSOutbox {
    static let channel = "sms_outbox"

    /// Renders the text of `kind` in `language`, counts its segments and queues it. Returns the message
    /// id (also the provider's reference), or nil when a reminder for the assignment exists already.
    @discardableResult
    static func enqueue(_ connection: PostgresConnection, authorityID: UUID, applicationID: UUID?, assignmentID: UUID?, to number: String,
                        kind: SMSKind, language: String, values: SMSValues, notBefore: Date? = nil) throws -> UUID? {
        var text = try SMSTexts.render(connection, authorityID: authorityID, kind: kind, language: language, values: values)
        // The column holds at most 1,600 characters (ten and more segments); texts are budgeted far below.
        if text.count > 1600 { text = String(text.prefix(1600)) }
        if text.isEmpty { text = "-" }
        let cost = SMSText.segments(of: text)
        let id = UUID()
        let onConflict = kind == .reminder ? "ON CONFLICT (authority_id, assignment_id) WHERE template = 'reminder' DO NOTHING" : ""
        let inserted = try connection.query("""
            INSERT INTO sms_message (authority_id, id, application_id, assignment_id, to_number, template, language, body, encoding, segments, next_attempt_at)
            VALUES (\(authorityID), \(id), \(applicationID), \(assignmentID), \(number), \(kind.rawValue), \(language), \(text),
                    \(cost.encoding.storedName), \(min(cost.segments, 20)), coalesce(\(notBefore)::timestamptz, now()))
            \(unsafeSQL: onConflict)
            RETURNING id
            """)
        guard !inserted.isEmpty else { return nil }
        try connection.execute("SELECT pg_notify(\(channel), '')")
        return id
    }
}
