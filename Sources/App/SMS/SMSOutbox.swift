import Crypto
import Foundation
import Logging
import Postgres
import SMSGateway

/// Writes SMS into the outbox (`sms_message`) inside the caller's transaction (docs/ARCHITECTURE.md#sms): the message
/// exists exactly when the state change that needs it committed. The dispatcher sends it; the NOTIFY
/// (delivered at commit) wakes the dispatchers of every server process.
///
/// The text carries the PIN, so it is stored only encrypted (``TextCipher``, PRIVACY.md#pins-never-in-clear): the PIN is
/// in clear only in memory and in the SMS itself. It is erased once the gateway has it.
enum SMSOutbox {
    static let channel = "sms_outbox"
    /// The label of the key that seals SMS texts (derived from `PICKUPBOX_SECRET_KEY`).
    static let cipherLabel = "sms-body"

    /// Renders the text of `kind` in `language`, counts its segments and queues it, sealed. Returns the
    /// message id (also the provider's reference), or nil when a reminder for the assignment exists already.
    @discardableResult
    static func enqueue(_ connection: PostgresConnection, cipher: TextCipher, authorityID: UUID, applicationID: UUID?, assignmentID: UUID?, to number: String,
                        kind: SMSKind, language: String, values: SMSValues, notBefore: Date? = nil) throws -> UUID? {
        var text = try SMSTexts.render(connection, authorityID: authorityID, kind: kind, language: language, values: values)
        // The column holds at most 1,600 characters (ten and more segments); texts are budgeted far below.
        if text.count > 1600 { text = String(text.prefix(1600)) }
        if text.isEmpty { text = "-" }
        let cost = SMSText.segments(of: text)
        let id = Crypto.uuid()
        let sealed = cipher.seal(Array(text.utf8), context: context(authorityID: authorityID, messageID: id))
        let onConflict = kind == .reminder ? "ON CONFLICT (authority_id, assignment_id) WHERE template = 'reminder' DO NOTHING" : ""
        let inserted = try connection.query("""
            INSERT INTO sms_message (authority_id, id, application_id, assignment_id, to_number, template, language, body_sealed, body_key_id,
                                     encoding, segments, next_attempt_at)
            VALUES (\(authorityID), \(id), \(applicationID), \(assignmentID), \(number), \(kind.rawValue), \(language), \(sealed.sealed), \(sealed.keyID),
                    \(cost.encoding.storedName), \(min(cost.segments, 20)), coalesce(\(notBefore)::timestamptz, now()))
            \(unsafeSQL: onConflict)
            RETURNING id
            """)
        guard !inserted.isEmpty else { return nil }
        try connection.execute("SELECT pg_notify(\(channel), '')")
        return id
    }

    /// The associated data of a sealed text: its row (a text copied to another row does not open).
    static func context(authorityID: UUID, messageID: UUID) -> [UInt8] {
        Array("sms_message:\(authorityID.uuidString.lowercased()):\(messageID.uuidString.lowercased())".utf8)
    }

    /// The text of a message as the dispatcher reads it: sealed (every server since migration 0012), or
    /// in clear when an older server wrote it and it was not sealed yet.
    static func open(sealed: [UInt8]?, keyID: String?, clear: String?, cipher: TextCipher, authorityID: UUID, messageID: UUID) throws(TextCipher.OpenError) -> String {
        guard let sealed, let keyID else {
            guard let clear else { throw .damaged }
            return clear
        }
        let bytes = try cipher.open(sealed, keyID: keyID, context: context(authorityID: authorityID, messageID: messageID))
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .damaged }
        return text
    }

    /// Seals the texts an older server left in clear, a batch at a time; returns how many.
    @discardableResult
    static func sealClearTexts(_ connection: PostgresConnection, cipher: TextCipher, logger: Logger, batch: Int = 500) throws -> Int {
        var total = 0
        while true {
            let sealed = try connection.transaction { c -> Int in
                let rows = try c.query("""
                    SELECT authority_id, id, body FROM sms_message WHERE body IS NOT NULL
                    LIMIT \(batch) FOR UPDATE SKIP LOCKED
                    """)
                for row in rows {
                    let authority = try row.decode(UUID.self, column: "authority_id"), id = try row.decode(UUID.self, column: "id")
                    let box = cipher.seal(Array(try row.decode(String.self, column: "body").utf8), context: context(authorityID: authority, messageID: id))
                    try c.execute("""
                        UPDATE sms_message SET body = NULL, body_sealed = \(box.sealed), body_key_id = \(box.keyID)
                        WHERE authority_id = \(authority) AND id = \(id)
                        """)
                }
                return rows.count
            }
            total += sealed
            if sealed < batch { break }
        }
        if total > 0 { logger.notice("SMS texts stored in clear by an older server are now encrypted", metadata: ["sms.messages": "\(total)"]) }
        return total
    }
}
