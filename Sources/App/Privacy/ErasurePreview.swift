import Domain
import Foundation
import Postgres

/// What the next erasure pass would erase, counted without changing anything: `pickupbox erase
/// --dry-run` prints it and `/metrics` exports it. The same cutoffs as ``ErasurePass``.
struct ErasurePreview: Sendable, Equatable {
    /// Rows per table the pass would change or delete.
    var rows: ErasedTable.Counts
    /// Applications due because they closed ``RetentionPolicy/daysAfterClose`` days ago.
    var applicationsClosed: Int
    /// Applications due because they were registered ``RetentionPolicy/maxAgeDays`` days ago.
    var applicationsMaxAge: Int
    /// Since when the row with personal data that has waited longest has been due (nil: nothing waits):
    /// applications, document numbers matched after their application was erased, delivery items and SMS
    /// of no application, client addresses. The side tables' windows are minutes to days; their counts
    /// are in `rows`.
    var oldestDueSince: Date?
    /// When the last pass finished (nil: none yet).
    var lastPassFinishedAt: Date?

    /// Seconds the oldest waiting row has been due at `now` (0 when nothing waits).
    func oldestWaitingSeconds(at now: Date) -> Double {
        oldestDueSince.map { max(0, now.timeIntervalSince($0)) } ?? 0
    }

    static func load(_ c: PostgresConnection, pass: ErasurePass, now: Date = Date()) throws -> ErasurePreview {
        let cutoffs = pass.policy.cutoffs(at: now)
        guard let row = try c.query(counts(cutoffs: cutoffs, side: pass.sideCutoffs(at: now))).first,
              let unlinked = try c.query(unlinkedCounts(cutoffs: cutoffs)).first else {
            return ErasurePreview(rows: [:], applicationsClosed: 0, applicationsMaxAge: 0)
        }
        return try ErasurePreview(row, unlinked, policy: pass.policy)
    }

    /// One row: what the applications' steps and the side tables' would change, and since when the oldest
    /// of it waits.
    static func counts(cutoffs: RetentionPolicy.Cutoffs, side: ErasurePass.SideCutoffs) -> PostgresQuery {
        """
            WITH closed AS (
                SELECT a.authority_id, a.id, coalesce(a.collected_at, a.cancelled_at) AS since FROM application a
                WHERE a.personal_data_erased_at IS NULL AND a.state IN \(unsafeSQL: ErasurePass.closingStates)
                  AND coalesce(a.collected_at, a.cancelled_at) < \(cutoffs.closedBefore) AND a.created_at >= \(cutoffs.registeredBefore)
                  AND NOT EXISTS (SELECT 1 FROM assignment s WHERE s.authority_id = a.authority_id AND s.id = a.assignment_id
                                  AND s.status = ANY(\(AssignmentStatus.allCases.filter(\.isInBox))))
            ), aged AS (
                SELECT a.authority_id, a.id, a.created_at AS since FROM application a
                WHERE a.personal_data_erased_at IS NULL AND a.created_at < \(cutoffs.registeredBefore)
            ), due AS (
                SELECT authority_id, id FROM closed UNION ALL SELECT authority_id, id FROM aged
            )
            SELECT (SELECT count(*) FROM closed)::int8 AS closed, (SELECT count(*) FROM aged)::int8 AS aged,
                (SELECT count(*) FROM document d JOIN due ON d.authority_id = due.authority_id AND d.application_id = due.id)::int8 AS document,
                (SELECT count(*) FROM delivery_item i JOIN due ON i.authority_id = due.authority_id AND i.application_id = due.id
                 WHERE i.document_number NOT LIKE 'erased-%')::int8 AS delivery_item,
                (SELECT count(*) FROM sms_message m JOIN due ON m.authority_id = due.authority_id AND m.application_id = due.id
                 WHERE m.to_number IS NOT NULL OR m.body IS NOT NULL OR m.body_sealed IS NOT NULL OR m.error IS NOT NULL)::int8 AS sms_message,
                (SELECT count(*) FROM staff_approval s JOIN due ON s.authority_id = due.authority_id AND s.application_id = due.id
                 WHERE s.mobile_number IS NOT NULL)::int8 AS staff_approval,
                (SELECT count(*) FROM audit_event WHERE client_address IS NOT NULL AND at < \(cutoffs.auditAddressesBefore))::int8 AS audit_event,
                (SELECT count(*) FROM idempotency_key WHERE created_at < \(side.idempotencyKeys))::int8 AS idempotency_key,
                (SELECT count(*) FROM login_throttle WHERE expires_at < \(side.loginThrottle) AND (blocked_until IS NULL OR blocked_until < \(side.now)))::int8
                    AS login_throttle,
                (SELECT count(*) FROM pickup_attempt WHERE at < \(side.pickupAttempts))::int8 AS pickup_attempt,
                (SELECT count(*) FROM pickup_session WHERE expires_at < \(side.pickupSessions))::int8 AS pickup_session,
                (SELECT count(*) FROM session WHERE expires_at < \(side.sessions))::int8 AS session,
                (SELECT min(since) FROM closed) AS closed_since, (SELECT min(since) FROM aged) AS aged_since,
                (SELECT min(at) FROM audit_event WHERE client_address IS NOT NULL AND at < \(cutoffs.auditAddressesBefore)) AS addresses_since,
                (SELECT max(finished_at) FROM erasure_pass WHERE status = 'finished') AS last_pass
            """
    }

    /// One row: the numbers and messages no longer linked to an application with personal data. `late`:
    /// numbers not yet erased (the partial indexes of 0029) of applications erased while open, due since
    /// they closed (`since`) or the maximum age after their delivery (`delivered_since`, as
    /// `lateDocumentSteps`); `items`, `sms`: delivery items and messages of no application, past the period.
    static func unlinkedCounts(cutoffs: RetentionPolicy.Cutoffs) -> PostgresQuery {
        """
            WITH candidates AS (
                SELECT r.table_name, dl.received_at,
                       CASE WHEN a.state IN \(unsafeSQL: ErasurePass.closingStates) AND coalesce(a.collected_at, a.cancelled_at) < \(cutoffs.closedBefore)
                                 AND NOT EXISTS (SELECT 1 FROM assignment s WHERE s.authority_id = a.authority_id AND s.id = a.assignment_id
                                                 AND s.status = ANY(\(AssignmentStatus.allCases.filter(\.isInBox))))
                            THEN coalesce(a.collected_at, a.cancelled_at) END AS closed_at
                FROM (
                    SELECT 'document' AS table_name, authority_id, application_id, delivery_id FROM document WHERE document_number NOT LIKE 'erased-%'
                    UNION ALL SELECT 'delivery_item', authority_id, application_id, delivery_id FROM delivery_item
                    WHERE application_id IS NOT NULL AND document_number NOT LIKE 'erased-%') r
                JOIN application a ON a.authority_id = r.authority_id AND a.id = r.application_id
                JOIN delivery dl ON dl.authority_id = r.authority_id AND dl.id = r.delivery_id
                WHERE a.personal_data_erased_at IS NOT NULL
            ), late AS (
                SELECT table_name, closed_at AS since, CASE WHEN received_at < \(cutoffs.registeredBefore) THEN received_at END AS delivered_since
                FROM candidates WHERE closed_at IS NOT NULL OR received_at < \(cutoffs.registeredBefore)
            ), items AS (
                SELECT d.received_at AS since FROM delivery_item i JOIN delivery d ON d.authority_id = i.authority_id AND d.id = i.delivery_id
                WHERE i.application_id IS NULL AND i.document_number NOT LIKE 'erased-%' AND d.received_at < \(cutoffs.closedBefore)
            ), sms AS (
                SELECT created_at AS since FROM sms_message WHERE application_id IS NULL AND to_number IS NOT NULL AND created_at < \(cutoffs.closedBefore)
                  AND status = ANY(\(SMSStatus.allCases.filter(\.hasLeftTheOutbox).map(\.rawValue)))
            )
            SELECT (SELECT count(*) FROM late WHERE table_name = 'document')::int8 AS document,
                (SELECT count(*) FROM late WHERE table_name = 'delivery_item')::int8 + (SELECT count(*) FROM items)::int8 AS delivery_item,
                (SELECT count(*) FROM sms)::int8 AS sms_message,
                (SELECT min(since) FROM (SELECT since FROM late UNION ALL SELECT since FROM items UNION ALL SELECT since FROM sms) s) AS since,
                (SELECT min(delivered_since) FROM late) AS delivered_since
            """
    }
}

extension ErasurePreview {
    /// The counts and oldest times of ``load(_:pass:now:)``'s two rows.
    fileprivate init(_ row: PostgresRow, _ unlinked: PostgresRow, policy: RetentionPolicy) throws {
        let closed = try row.decode(Int.self, column: "closed"), aged = try row.decode(Int.self, column: "aged")
        var rows: ErasedTable.Counts = [.application: closed + aged]
        for table in ErasedTable.allCases where table != .application {
            rows[table] = try row.decode(Int.self, column: table.rawValue)
        }
        for table in [ErasedTable.document, .deliveryItem, .smsMessage] {
            rows[table, default: 0] += try unlinked.decode(Int.self, column: table.rawValue)
        }
        // Each kind of row became due one period after its own clock started.
        let day: TimeInterval = 86_400
        let dueSince = [
            try row.decode(Date?.self, column: "closed_since").map { $0.addingTimeInterval(day * Double(policy.daysAfterClose)) },
            try unlinked.decode(Date?.self, column: "since").map { $0.addingTimeInterval(day * Double(policy.daysAfterClose)) },
            try row.decode(Date?.self, column: "aged_since").map { $0.addingTimeInterval(day * Double(policy.maxAgeDays)) },
            try unlinked.decode(Date?.self, column: "delivered_since").map { $0.addingTimeInterval(day * Double(policy.maxAgeDays)) },
            try row.decode(Date?.self, column: "addresses_since").map { $0.addingTimeInterval(day * Double(policy.auditAddressDays)) },
        ].compactMap { $0 }.min()
        self.init(rows: rows, applicationsClosed: closed, applicationsMaxAge: aged, oldestDueSince: dueSince,
                  lastPassFinishedAt: try row.decode(Date?.self, column: "last_pass"))
    }
}
