import Domain
import Foundation
import Postgres

/// The side tables that hold personal data, each trimmed by its own clock, a batch at a time.
extension ErasurePass {
    /// A side table's batch: a statement that changes at most `batchSize` rows and returns their
    /// `authority_id` (NULL for installation-wide tables) — or, when `counted`, `authority_id` and the count as `changed`.
    struct SideStep {
        let table: ErasedTable
        let statement: PostgresQuery
        var counted = false
    }

    func trim(_ c: PostgresConnection, _ step: SideStep, into outcome: inout Outcome) throws -> Int {
        var total = 0
        let counts = step.counted
            ? try c.query(step.statement).map { (try $0.decode(UUID?.self, column: "authority_id"), try $0.decode(Int.self, column: "changed")) }
            : try Self.countsByAuthority(c, step.statement)
        for (authority, rows) in counts {
            total += rows
            if let authority {
                outcome.receipts[authority, default: Receipt()].add(step.table, rows)
            } else {
                outcome.installation[step.table, default: 0] += rows
            }
        }
        return total
    }

    /// `statement` returns `authority_id` per changed row (at most a batch); counted per authority.
    static func countsByAuthority(_ c: PostgresConnection, _ statement: PostgresQuery) throws -> [(UUID?, Int)] {
        var counts: [UUID?: Int] = [:]
        for row in try c.query(statement) { counts[try row.decode(UUID?.self, at: 0), default: 0] += 1 }
        return counts.map { ($0.key, $0.value) }
    }

    /// Before these instants, rows of the side tables that are kept for a fixed time are due.
    struct SideCutoffs: Sendable {
        let now: Date
        let idempotencyKeys: Date
        /// Failed-login counters past their own `expires_at` (and that block nothing).
        let loginThrottle: Date
        let pickupAttempts: Date
        let pickupSessions: Date
        let sessions: Date
    }

    func sideCutoffs(at now: Date) -> SideCutoffs {
        SideCutoffs(now: now, idempotencyKeys: now.addingTimeInterval(-Idempotency.retention), loginThrottle: now,
                    pickupAttempts: now.addingTimeInterval(-60 * Double(pickupWindowMinutes)),
                    pickupSessions: now.addingTimeInterval(-Self.pickupSessionGrace), sessions: now)
    }

    /// Erased address by address, message by message: every statement picks at most `batchSize` rows.
    func sideSteps(now: Date, cutoffs: RetentionPolicy.Cutoffs) -> [SideStep] {
        personalDataSteps(cutoffs) + lateDocumentSteps(cutoffs) + expirySteps(sideCutoffs(at: now))
    }

    /// Numbers and addresses left behind without an application: the retention policy's cutoffs.
    private func personalDataSteps(_ cutoffs: RetentionPolicy.Cutoffs) -> [SideStep] {
        let n = batchSize
        let done = SMSStatus.allCases.filter(\.hasLeftTheOutbox).map(\.rawValue)
        return [
            SideStep(table: .smsMessage, statement: """
                WITH due AS (
                    SELECT authority_id, id FROM sms_message
                    WHERE application_id IS NULL AND to_number IS NOT NULL AND created_at < \(cutoffs.closedBefore)
                      AND status = ANY(\(done))
                    LIMIT \(n) FOR UPDATE SKIP LOCKED)
                UPDATE sms_message m SET to_number = NULL, body = NULL, body_sealed = NULL, body_key_id = NULL, error = NULL, updated_at = now()
                FROM due WHERE m.authority_id = due.authority_id AND m.id = due.id
                RETURNING m.authority_id
                """),
            SideStep(table: .deliveryItem, statement: """
                WITH due AS (
                    SELECT i.authority_id, i.delivery_id, i.position FROM delivery_item i
                    JOIN delivery d ON d.authority_id = i.authority_id AND d.id = i.delivery_id
                    WHERE i.application_id IS NULL AND i.document_number NOT LIKE 'erased-%' AND d.received_at < \(cutoffs.closedBefore)
                    LIMIT \(n) FOR UPDATE OF i SKIP LOCKED)
                UPDATE delivery_item i SET document_number = 'erased-' || gen_random_uuid()
                FROM due WHERE i.authority_id = due.authority_id AND i.delivery_id = due.delivery_id AND i.position = due.position
                RETURNING i.authority_id
                """),
            SideStep(table: .auditEvent, statement: """
                SELECT authority AS authority_id, forgotten AS changed FROM audit_event_forget_addresses(\(cutoffs.auditAddressesBefore), \(n))
                """, counted: true),
        ]
    }

    /// An application erased while still open (`RETENTION_DAYS_MAX`) whose document came after: the
    /// delivery matched it, so the number is kept until the application closes (with no document of it in
    /// a box, as the `.closed` reason asks), then goes after the period — from the document and the item;
    /// and however the application stands, `RETENTION_DAYS_MAX` after the delivery at the latest (an
    /// application that is never handed over or cancelled, a document never taken out of its box).
    func lateDocumentSteps(_ cutoffs: RetentionPolicy.Cutoffs) -> [SideStep] {
        [(ErasedTable.document, ["authority_id", "document_number"]), (.deliveryItem, ["authority_id", "delivery_id", "position"])].map { table, key in
            SideStep(table: table, statement: """
                WITH due AS (
                    SELECT \(unsafeSQL: key.map { "r." + $0 }.joined(separator: ", ")) FROM \(unsafeSQL: table.rawValue) r
                    JOIN application a ON a.authority_id = r.authority_id AND a.id = r.application_id
                    JOIN delivery dl ON dl.authority_id = r.authority_id AND dl.id = r.delivery_id
                    WHERE a.personal_data_erased_at IS NOT NULL AND r.document_number NOT LIKE 'erased-%'
                      AND (dl.received_at < \(cutoffs.registeredBefore)
                           OR a.state IN \(unsafeSQL: Self.closingStates) AND coalesce(a.collected_at, a.cancelled_at) < \(cutoffs.closedBefore)
                              AND NOT EXISTS (SELECT 1 FROM assignment s WHERE s.authority_id = a.authority_id AND s.id = a.assignment_id
                                              AND s.status = ANY(\(AssignmentStatus.allCases.filter(\.isInBox)))))
                    LIMIT \(batchSize) FOR UPDATE OF r SKIP LOCKED)
                UPDATE \(unsafeSQL: table.rawValue) r SET document_number = 'erased-' || gen_random_uuid()
                FROM due WHERE \(unsafeSQL: key.map { "r.\($0) = due.\($0)" }.joined(separator: " AND "))
                RETURNING r.authority_id
                """)
        }
    }

    /// Rows that only live for a while: stored answers, throttles, pickup attempts and sessions, logins.
    private func expirySteps(_ side: SideCutoffs) -> [SideStep] {
        let n = batchSize
        return [
            SideStep(table: .idempotencyKey, statement: """
                WITH due AS (
                    SELECT authority_id, key, route FROM idempotency_key WHERE created_at < \(side.idempotencyKeys)
                    LIMIT \(n) FOR UPDATE SKIP LOCKED)
                DELETE FROM idempotency_key k USING due WHERE k.authority_id = due.authority_id AND k.key = due.key AND k.route = due.route
                RETURNING k.authority_id
                """),
            SideStep(table: .loginThrottle, statement: """
                WITH due AS (
                    SELECT key FROM login_throttle
                    WHERE expires_at < \(side.loginThrottle) AND (blocked_until IS NULL OR blocked_until < \(side.now))
                    LIMIT \(n) FOR UPDATE SKIP LOCKED)
                DELETE FROM login_throttle t USING due WHERE t.key = due.key
                RETURNING NULL::uuid AS authority_id
                """),
            SideStep(table: .pickupAttempt, statement: """
                WITH due AS (
                    SELECT authority_id, id FROM pickup_attempt WHERE at < \(side.pickupAttempts)
                    LIMIT \(n) FOR UPDATE SKIP LOCKED)
                DELETE FROM pickup_attempt p USING due WHERE p.authority_id = due.authority_id AND p.id = due.id
                RETURNING p.authority_id
                """),
            SideStep(table: .pickupSession, statement: """
                WITH due AS (
                    SELECT authority_id, id FROM pickup_session WHERE expires_at < \(side.pickupSessions)
                    LIMIT \(n) FOR UPDATE SKIP LOCKED)
                DELETE FROM pickup_session p USING due WHERE p.authority_id = due.authority_id AND p.id = due.id
                RETURNING p.authority_id
                """),
            SideStep(table: .session, statement: """
                WITH due AS (
                    SELECT authority_id, token_hash FROM session WHERE expires_at < \(side.sessions)
                    LIMIT \(n) FOR UPDATE SKIP LOCKED)
                DELETE FROM session s USING due WHERE s.authority_id = due.authority_id AND s.token_hash = due.token_hash
                RETURNING s.authority_id
                """),
        ]
    }
}
