import Domain
import Foundation
import Postgres

extension ErasurePass {
    /// Erases one batch of applications due for `reason`, with their documents, delivery items and SMS,
    /// and writes one audit event per application. Returns how many applications.
    func eraseApplications(_ c: PostgresConnection, reason: RetentionPolicy.Reason, cutoffs: RetentionPolicy.Cutoffs, passID: UUID,
                           into outcome: inout Outcome) throws -> Int {
        // The rows stay locked until the batch commits.
        let (authorities, ids) = try due(c, reason: reason, cutoffs: cutoffs)
        guard !ids.isEmpty else { return 0 }
        try c.execute("""
            UPDATE application a SET family_name = NULL, given_names = NULL, date_of_birth = NULL, mobile_number = NULL,
                old_can_hash = NULL, proxy_name = NULL, cancel_reason = NULL, household_group = NULL, fee_exemption = NULL,
                needs_accessible = false, contact_required = false, personal_data_erased_at = now()
            FROM unnest(\(authorities)::uuid[], \(ids)::uuid[]) AS t(authority_id, id)
            WHERE a.authority_id = t.authority_id AND a.id = t.id
            """)
        for authority in authorities {
            outcome.receipts[authority, default: Receipt()].applications += 1
            outcome.receipts[authority, default: Receipt()].add(.application, 1)
        }
        try eraseLinkedRows(c, authorities: authorities, ids: ids, into: &outcome)
        try audit(c, authorities: authorities, ids: ids, reason: reason, passID: passID, into: &outcome)
        return ids.count
    }

    /// One batch of applications due for `reason`, locked (`SKIP LOCKED`: a concurrent pass takes others).
    private func due(_ c: PostgresConnection, reason: RetentionPolicy.Reason, cutoffs: RetentionPolicy.Cutoffs) throws -> (authorities: [UUID], ids: [UUID]) {
        let inBox = AssignmentStatus.allCases.filter(\.isInBox)
        let due: PostgresQuery = switch reason {
        case .maxAge: """
            SELECT a.authority_id, a.id FROM application a
            WHERE a.personal_data_erased_at IS NULL AND a.created_at < \(cutoffs.registeredBefore)
            ORDER BY a.created_at LIMIT \(batchSize) FOR UPDATE OF a SKIP LOCKED
            """
        case .closed: """
            SELECT a.authority_id, a.id FROM application a
            WHERE a.personal_data_erased_at IS NULL AND a.state IN \(unsafeSQL: Self.closingStates)
              AND coalesce(a.collected_at, a.cancelled_at) < \(cutoffs.closedBefore)
              AND NOT EXISTS (SELECT 1 FROM assignment s WHERE s.authority_id = a.authority_id AND s.id = a.assignment_id
                              AND s.status = ANY(\(inBox)))
            ORDER BY coalesce(a.collected_at, a.cancelled_at) LIMIT \(batchSize) FOR UPDATE OF a SKIP LOCKED
            """
        }
        let picked = try c.query(due)
        return (try picked.map { try $0.decode(UUID.self, column: "authority_id") }, try picked.map { try $0.decode(UUID.self, column: "id") })
    }

    /// The application's documents, delivery items, SMS and four-eyes requests: numbers replaced, texts and
    /// phone numbers cleared, unsent messages failed, pending requests superseded; counted per authority
    /// for the receipts.
    private func eraseLinkedRows(_ c: PostgresConnection, authorities: [UUID], ids: [UUID], into outcome: inout Outcome) throws {
        let unsent = [SMSStatus.queued, .sending].map(\.rawValue)
        func count(_ table: ErasedTable, _ statement: PostgresQuery) throws {
            for (authority, rows) in try Self.countsByAuthority(c, statement) {
                if let authority { outcome.receipts[authority, default: Receipt()].add(table, rows) }
            }
        }
        try count(.document, """
            UPDATE document d SET document_number = 'erased-' || gen_random_uuid()
            FROM unnest(\(authorities)::uuid[], \(ids)::uuid[]) AS t(authority_id, id)
            WHERE d.authority_id = t.authority_id AND d.application_id = t.id
            RETURNING d.authority_id
            """)
        try count(.deliveryItem, """
            UPDATE delivery_item i SET document_number = 'erased-' || gen_random_uuid()
            FROM unnest(\(authorities)::uuid[], \(ids)::uuid[]) AS t(authority_id, id)
            WHERE i.authority_id = t.authority_id AND i.application_id = t.id AND i.document_number NOT LIKE 'erased-%'
            RETURNING i.authority_id
            """)
        try count(.smsMessage, """
            UPDATE sms_message m SET to_number = NULL, body = NULL, body_sealed = NULL, body_key_id = NULL, claimed_until = NULL, updated_at = now(),
                error = CASE WHEN m.status = ANY(\(unsent)) THEN 'not sent: personal data erased' END,
                final_at = CASE WHEN m.status = ANY(\(unsent)) THEN now() ELSE m.final_at END,
                status = CASE WHEN m.status = ANY(\(unsent)) THEN \(SMSStatus.failed) ELSE m.status END
            FROM unnest(\(authorities)::uuid[], \(ids)::uuid[]) AS t(authority_id, id)
            WHERE m.authority_id = t.authority_id AND m.application_id = t.id
              AND (m.to_number IS NOT NULL OR m.body IS NOT NULL OR m.body_sealed IS NOT NULL OR m.error IS NOT NULL)
            RETURNING m.authority_id
            """)
        // A request still pending is moot without its number: superseded, as a newer request would
        // (audited as there), so that it leaves the supervisors' queue.
        let pending = ApprovalState.pending.rawValue, superseded = ApprovalState.superseded.rawValue
        try c.execute("""
            INSERT INTO audit_event (authority_id, actor_kind, action, entity_type, entity_id, detail)
            SELECT s.authority_id, 'system', 'application.approval_superseded', 'application', s.application_id, jsonb_build_object('approval', s.id::text)
            FROM staff_approval s JOIN unnest(\(authorities)::uuid[], \(ids)::uuid[]) AS t(authority_id, id)
              ON s.authority_id = t.authority_id AND s.application_id = t.id
            WHERE s.state = \(pending)
            ORDER BY s.authority_id, s.id
            """)
        try count(.staffApproval, """
            UPDATE staff_approval s SET mobile_number = NULL,
                state = CASE WHEN s.state = \(pending) THEN \(superseded) ELSE s.state END,
                decided_at = CASE WHEN s.state = \(pending) THEN now() ELSE s.decided_at END
            FROM unnest(\(authorities)::uuid[], \(ids)::uuid[]) AS t(authority_id, id)
            WHERE s.authority_id = t.authority_id AND s.application_id = t.id AND (s.mobile_number IS NOT NULL OR s.state = \(pending))
            RETURNING s.authority_id
            """)
    }

    /// One audit event per erased application; the receipts name the range of their ids per authority.
    private func audit(_ c: PostgresConnection, authorities: [UUID], ids: [UUID], reason: RetentionPolicy.Reason, passID: UUID,
                       into outcome: inout Outcome) throws {
        let events = try c.query("""
            WITH written AS (
                INSERT INTO audit_event (authority_id, actor_kind, action, entity_type, entity_id, detail)
                SELECT t.authority_id, 'system', 'application.personal_data_erased', 'application', t.id,
                       jsonb_build_object('pass', \(passID.uuidString.lowercased())::text, 'reason', \(reason.rawValue)::text)
                FROM unnest(\(authorities)::uuid[], \(ids)::uuid[]) AS t(authority_id, id)
                RETURNING authority_id, id
            )
            SELECT authority_id, min(id) AS first_id, max(id) AS last_id FROM written GROUP BY authority_id
            """)
        for row in events {
            let authority = try row.decode(UUID.self, column: "authority_id")
            var receipt = outcome.receipts[authority, default: Receipt()]
            let first = try row.decode(Int64.self, column: "first_id"), last = try row.decode(Int64.self, column: "last_id")
            receipt.firstAuditEventID = min(receipt.firstAuditEventID ?? first, first)
            receipt.lastAuditEventID = max(receipt.lastAuditEventID ?? last, last)
            outcome.receipts[authority] = receipt
        }
    }

    /// `('cancelled', 'collected')`: the Domain's closing states as an SQL list (constants, not input).
    static let closingStates = "(" + RetentionPolicy.closingStates.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ") + ")"
}
