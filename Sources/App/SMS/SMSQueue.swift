import Foundation
import Postgres
import SMSGateway

/// The dispatcher's SQL on `sms_message`: claiming due messages, recording each result, giving claims back.
/// Every status is bound from ``SMSStatus``; predicates that partial indexes match are spliced as literals.
struct SMSQueue: Sendable {
    let pool: PostgresPool

    static let claimLockKey: Int64 = 0x7069_636B_736D_7363   // "picksmsc"

    /// One claimed message; its text still sealed.
    struct Claimed: Sendable {
        let authorityID: UUID
        let id: UUID
        let applicationID: UUID?
        let to: String
        let kind: String
        let sealed: [UInt8]?
        let keyID: String?
        /// Written by a server before migration 0012 and not sealed yet.
        let clearText: String?
        let attempts: Int
        let createdAt: Date

        func text(_ cipher: TextCipher) throws(TextCipher.OpenError) -> String {
            try SMSOutbox.open(sealed: sealed, keyID: keyID, clear: clearText, cipher: cipher, authorityID: authorityID, messageID: id)
        }
    }

    /// Marks up to `limit` due messages `sending` (with a lease of `leaseSeconds`) and returns them with the
    /// hourly allowance that was left before. Claims are serialized over all processes by an advisory lock,
    /// so the cap (counting what was sent in the last hour and what is being sent now) cannot be overrun by
    /// two claims at once; a claim takes a millisecond or two.
    func claim(limit: Int, hourlyCap: Int, leaseSeconds: Int) throws -> (allowance: Int, claimed: [Claimed]) {
        try pool.transaction { c -> (Int, [Claimed]) in
            try c.execute("SELECT pg_advisory_xact_lock(\(Self.claimLockKey))")
            let used = try c.query("""
                SELECT (SELECT count(*) FROM sms_message WHERE sent_at > now() - interval '1 hour')
                     + (SELECT count(*) FROM sms_message WHERE status = \(literal: SMSStatus.sending) AND sent_at IS NULL) AS used
                """).first?.decode(Int.self, column: "used") ?? 0
            let allowance = hourlyCap - used
            guard allowance > 0 else { return (allowance, []) }
            let rows = try c.query("""
                WITH due AS (
                    SELECT authority_id, id FROM sms_message
                    WHERE status = \(literal: SMSStatus.queued) AND next_attempt_at <= now()
                    ORDER BY next_attempt_at
                    LIMIT \(min(limit, allowance))
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE sms_message m SET status = \(SMSStatus.sending), attempts = m.attempts + 1, updated_at = now(),
                    claimed_until = now() + \(leaseSeconds) * interval '1 second'
                FROM due WHERE m.authority_id = due.authority_id AND m.id = due.id
                RETURNING m.authority_id, m.id, m.application_id, m.to_number, m.template, m.body_sealed, m.body_key_id, m.body, m.attempts, m.created_at
                """)
            return (allowance, try rows.map { row in
                Claimed(authorityID: try row.decode(UUID.self, column: "authority_id"), id: try row.decode(UUID.self, column: "id"),
                        applicationID: try row.decode(UUID?.self, column: "application_id"), to: try row.decode(String.self, column: "to_number"),
                        kind: try row.decode(String.self, column: "template"), sealed: try row.decode([UInt8]?.self, column: "body_sealed"),
                        keyID: try row.decode(String?.self, column: "body_key_id"), clearText: try row.decode(String?.self, column: "body"),
                        attempts: try row.decode(Int.self, column: "attempts"), createdAt: try row.decode(Date.self, column: "created_at"))
            })
        }
    }

    /// Claims whose lease ran out queued again; returns how many.
    func reclaimExpired() throws -> Int {
        try pool.query("""
            UPDATE sms_message SET status = \(SMSStatus.queued), claimed_until = NULL, next_attempt_at = now(), updated_at = now()
            WHERE status = \(literal: SMSStatus.sending) AND claimed_until < now()
            RETURNING id
            """).count
    }

    /// One statement, committed without waiting for the WAL flush (the dispatcher's pool runs with
    /// synchronous_commit=off). A delivery report may have come first: the status only moves forward.
    func markSent(_ message: Claimed, provider: String, providerID: String?) throws {
        try pool.execute("""
            UPDATE sms_message SET status = CASE WHEN status = \(SMSStatus.sending) THEN \(SMSStatus.sent) ELSE status END,
                provider = \(provider), provider_id = coalesce(provider_id, \(providerID)), sent_at = coalesce(sent_at, now()),
                body = NULL, body_sealed = NULL, body_key_id = NULL, claimed_until = NULL, error = NULL, updated_at = now()
            WHERE authority_id = \(message.authorityID) AND id = \(message.id)
            """)
    }

    func requeue(_ message: Claimed, afterSeconds delay: Double, reason: String) throws {
        try pool.execute("""
            UPDATE sms_message SET status = \(SMSStatus.queued), claimed_until = NULL, error = \(reason), updated_at = now(),
                next_attempt_at = now() + \(delay)::float8 * interval '1 second'
            WHERE authority_id = \(message.authorityID) AND id = \(message.id) AND status = \(literal: SMSStatus.sending)
            """)
    }

    /// Final failure: the text (with its PIN) is erased, and a stranded applicant flagged (``SMSFailures``).
    func fail(_ message: Claimed, reason: String) throws {
        try pool.transaction { c in
            try c.execute("""
                UPDATE sms_message SET status = \(SMSStatus.failed), error = \(reason), body = NULL, body_sealed = NULL, body_key_id = NULL,
                    claimed_until = NULL, final_at = now(), updated_at = now()
                WHERE authority_id = \(message.authorityID) AND id = \(message.id)
                """)
            try SMSFailures.flag(c, authorityID: message.authorityID, applicationID: message.applicationID, kind: message.kind, messageID: message.id)
        }
    }

    /// Claimed but not attempted: back to the queue as they were.
    func release(_ messages: [Claimed]) throws {
        try pool.execute("""
            UPDATE sms_message SET status = \(SMSStatus.queued), attempts = greatest(attempts - 1, 0), claimed_until = NULL, updated_at = now()
            WHERE authority_id = ANY(\(messages.map(\.authorityID))::uuid[]) AND id = ANY(\(messages.map(\.id))::uuid[])
              AND status = \(literal: SMSStatus.sending)
            """)
    }
}

/// What a failed message means for the applicant, shared by the dispatcher and delivery reports.
enum SMSFailures {
    static func flag(_ c: PostgresConnection, authorityID: UUID, applicationID: UUID?, kind: String, messageID: UUID) throws {
        guard let applicationID, SMSKind(rawValue: kind)?.strandsApplicant == true else { return }
        // Not an application erased while open: it cannot be contacted, and its flag could not be cleared (PATCH answers 409).
        try c.execute("""
            UPDATE application SET contact_required = true, updated_at = now()
            WHERE authority_id = \(authorityID) AND id = \(applicationID) AND personal_data_erased_at IS NULL
            """)
        try Audit.record(c, authorityID: authorityID, actor: .system, action: "application.sms_failed", entityType: "application", entityID: applicationID,
                         requestID: nil, clientAddress: nil, detail: ["sms": messageID.uuidString.lowercased(), "kind": kind])
    }
}
