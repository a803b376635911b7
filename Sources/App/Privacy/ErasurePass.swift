import Domain
import Foundation
import HTTPServer
import Logging
import Postgres

/// One erasure pass (issue #11 §1, DESIGN §7): erases the personal data the ``RetentionPolicy`` no
/// longer allows to keep, and trims the side tables that hold personal data.
///
/// - One pass at a time over all processes: a session advisory lock on the pass's connection (it dies
///   with the process, so a crashed pass never blocks the next one).
/// - Batches of at most ``maximumBatch`` rows per transaction, picked with `FOR UPDATE SKIP LOCKED`, so
///   the pass never holds locks for long and never waits for a request's rows.
/// - Resumable: every batch commits together with the receipt's counts. A pass that dies leaves its row
///   `running`; the next pass marks it `interrupted` and erases whatever is still due.
/// - Receipts: one row per pass (`erasure_pass`: when, policy, installation-wide tables) and one per
///   authority that had something erased (`erasure_receipt`: applications, rows per table, the range of
///   the audit events it wrote — one `application.personal_data_erased` per application — and its own
///   `privacy.erasure_receipt` event in the authority's audit log).
struct ErasurePass: Sendable {
    static let lockKey: Int64 = 0x7069_636B_6572_6173   // "pickeras"
    /// At most this many rows change in one transaction.
    static let maximumBatch = 1000
    /// Pickup sessions are kept this long after they expired (a pickup in progress reads them).
    static let pickupSessionGrace: TimeInterval = 3600

    let pool: PostgresPool
    let policy: RetentionPolicy
    /// `PICKUP_BOX_WINDOW_MINUTES`: older pickup attempts no longer count against a box.
    let pickupWindowMinutes: Int
    /// Seals SMS texts an older server left in clear.
    let cipher: TextCipher
    let logger: Logger
    var batchSize = ErasurePass.maximumBatch
    /// Tests: stop (leaving the pass `running`, as a crash would) after this many batches of applications.
    var stopAfterBatches: Int?
    /// Asked before every batch: true ends the pass (`interrupted`) with ``Stopped`` (the process is stopping).
    var stopRequested: @Sendable () -> Bool = { false }

    /// The pass ended early because ``stopRequested`` said so.
    struct Stopped: Error {}

    init(pool: PostgresPool, configuration: AppConfiguration, cipher: TextCipher, logger: Logger) {
        self.pool = pool
        self.cipher = cipher
        self.policy = configuration.retention
        self.pickupWindowMinutes = configuration.pickupLimits.boxWindowMinutes
        self.logger = logger
    }

    /// What one authority's receipt holds.
    struct Receipt: Sendable, Equatable {
        var applications = 0
        var counts: ErasedTable.Counts = [:]
        var firstAuditEventID: Int64?
        var lastAuditEventID: Int64?

        mutating func add(_ table: ErasedTable, _ rows: Int) {
            guard rows > 0 else { return }
            counts[table, default: 0] += rows
        }
    }

    /// What a pass did.
    struct Outcome: Sendable {
        let passID: UUID
        /// Per authority that had something erased.
        var receipts: [UUID: Receipt] = [:]
        /// Tables that belong to no authority (`login_throttle`).
        var installation: ErasedTable.Counts = [:]
        /// Earlier passes found `running` (their process died) and marked `interrupted`.
        var interruptedEarlier = 0
        /// False when ``stopAfterBatches`` ended the pass early.
        var finished = true

        /// Rows per table over all authorities and the installation.
        var totals: ErasedTable.Counts {
            receipts.values.reduce(installation) { $0.adding($1.counts) }
        }
    }

    /// Runs a pass now. nil when another process is running one, or — with `minimumInterval` — when the
    /// last finished pass started less than that before `now`. `now` sets the cutoffs only; what is
    /// recorded (erasure times, receipts) carries the database's time.
    func run(now: Date = Date(), minimumInterval: TimeInterval? = nil) throws -> Outcome? {
        try pool.withConnection { c in
            guard try c.query("SELECT pg_try_advisory_lock(\(Self.lockKey))").first?.decode(Bool.self, at: 0) == true else { return nil }
            defer {
                // A connection that kept the lock would block every later pass of the installation: close it instead.
                let unlocked = try? c.query("SELECT pg_advisory_unlock(\(Self.lockKey))").first?.decode(Bool.self, at: 0)
                if unlocked != true { c.close() }
            }
            if let minimumInterval,
               let last = try c.query("SELECT max(started_at) FROM erasure_pass WHERE status = 'finished'").first?.decode(Date?.self, at: 0),
               now.timeIntervalSince(last) < minimumInterval {
                return nil
            }
            var outcome = Outcome(passID: UUID())
            // We hold the lock: a pass still `running` belongs to a process that died.
            outcome.interruptedEarlier = try c.execute("UPDATE erasure_pass SET status = 'interrupted' WHERE status = 'running'")
            try c.execute("INSERT INTO erasure_pass (id, policy) VALUES (\(outcome.passID), \(try policyJSON())::jsonb)")
            do {
                // Texts an older server (before migration 0012) wrote in clear.
                try SMSOutbox.sealClearTexts(c, cipher: cipher, logger: logger)
                try erase(c, now: now, &outcome)
            } catch {
                _ = try? c.execute("UPDATE erasure_pass SET status = 'interrupted' WHERE id = \(outcome.passID)")
                throw error
            }
            guard outcome.finished else { return outcome }
            try writeReceiptEvents(c, &outcome)
            try c.execute("""
                UPDATE erasure_pass SET status = 'finished', finished_at = now(), counts = \(try Self.json(outcome.installation))::jsonb
                WHERE id = \(outcome.passID)
                """)
            let totals = outcome.totals
            if !totals.isEmpty {
                logger.info("erasure pass finished", metadata: ["erasure.pass": "\(outcome.passID)", "erasure.rows": "\(totals.byName)"])
            }
            return outcome
        }
    }

    /// The policy in force, as the receipt records it.
    func policyJSON() throws -> String {
        try Self.json([
            "retentionDaysAfterClose": policy.daysAfterClose, "retentionDaysMax": policy.maxAgeDays,
            "auditIpDays": policy.auditAddressDays, "auditIpTruncate": policy.truncateAuditAddresses ? 1 : 0,
        ])
    }

    static func json(_ object: [String: Int]) throws -> String {
        String(decoding: try JSONCoding.encode(object), as: UTF8.self)
    }

    static func json(_ counts: ErasedTable.Counts) throws -> String {
        try json(counts.byName)
    }

    // MARK: - Steps

    private func erase(_ c: PostgresConnection, now: Date, _ outcome: inout Outcome) throws {
        let cutoffs = policy.cutoffs(at: now)
        let passID = outcome.passID
        var batches = 0
        for reason in RetentionPolicy.Reason.allCases {
            while true {
                if let stop = stopAfterBatches, batches >= stop {
                    outcome.finished = false
                    return
                }
                let erased = try batch(c, &outcome) { receipts in try eraseApplications(c, reason: reason, cutoffs: cutoffs, passID: passID, into: &receipts) }
                batches += 1
                if erased < batchSize { break }
            }
        }
        for step in sideSteps(now: now, cutoffs: cutoffs) {
            while try batch(c, &outcome, { receipts in try trim(c, step, into: &receipts) }) >= batchSize {}
        }
    }

    /// One transaction: `body` changes at most `batchSize` rows and adds them to the receipts, which are
    /// written in the same transaction; the outcome takes them only once they are committed.
    private func batch(_ c: PostgresConnection, _ outcome: inout Outcome, _ body: (inout Outcome) throws -> Int) throws -> Int {
        if stopRequested() { throw Stopped() }
        var tentative = outcome
        let changed = try c.transaction { c -> Int in
            let changed = try body(&tentative)
            for (authority, receipt) in tentative.receipts where receipt != outcome.receipts[authority] {
                try c.execute("""
                    INSERT INTO erasure_receipt (authority_id, pass_id, applications, counts, first_audit_event_id, last_audit_event_id)
                    VALUES (\(authority), \(outcome.passID), \(receipt.applications), \(try Self.json(receipt.counts))::jsonb,
                            \(receipt.firstAuditEventID), \(receipt.lastAuditEventID))
                    ON CONFLICT (authority_id, pass_id) DO UPDATE SET applications = EXCLUDED.applications, counts = EXCLUDED.counts,
                        first_audit_event_id = EXCLUDED.first_audit_event_id, last_audit_event_id = EXCLUDED.last_audit_event_id
                    """)
            }
            if tentative.installation != outcome.installation {
                try c.execute("UPDATE erasure_pass SET counts = \(try Self.json(tentative.installation))::jsonb WHERE id = \(outcome.passID)")
            }
            return changed
        }
        outcome = tentative
        return changed
    }

    /// Erases one batch of applications due for `reason`, with their documents, delivery items and SMS,
    /// and writes one audit event per application. Returns how many applications.
    private func eraseApplications(_ c: PostgresConnection, reason: RetentionPolicy.Reason, cutoffs: RetentionPolicy.Cutoffs, passID: UUID,
                                   into outcome: inout Outcome) throws -> Int {
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
                              AND s.status IN ('loaded', 'retrieval_due'))
            ORDER BY coalesce(a.collected_at, a.cancelled_at) LIMIT \(batchSize) FOR UPDATE OF a SKIP LOCKED
            """
        }
        // The rows stay locked until the batch commits.
        let picked = try c.query(due)
        guard !picked.isEmpty else { return 0 }
        let authorities = try picked.map { try $0.decode(UUID.self, at: 0) }
        let ids = try picked.map { try $0.decode(UUID.self, at: 1) }
        try c.execute("""
            UPDATE application a SET family_name = NULL, given_names = NULL, date_of_birth = NULL, mobile_number = NULL,
                old_can_hash = NULL, proxy_name = NULL, cancel_reason = NULL, household_group = NULL, fee_exemption = NULL,
                needs_accessible = false, contact_required = false, personal_data_erased_at = now()
            FROM unnest(\(authorities)::uuid[], \(ids)::uuid[]) AS t(authority_id, id)
            WHERE a.authority_id = t.authority_id AND a.id = t.id
            """)
        func count(_ table: ErasedTable, _ statement: PostgresQuery) throws {
            for (authority, rows) in try Self.countsByAuthority(c, statement) {
                if let authority { outcome.receipts[authority, default: Receipt()].add(table, rows) }
            }
        }
        for authority in authorities {
            outcome.receipts[authority, default: Receipt()].applications += 1
            outcome.receipts[authority, default: Receipt()].add(.application, 1)
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
                error = CASE WHEN m.status IN ('queued', 'sending') THEN 'not sent: personal data erased' END,
                final_at = CASE WHEN m.status IN ('queued', 'sending') THEN now() ELSE m.final_at END,
                status = CASE WHEN m.status IN ('queued', 'sending') THEN 'failed' ELSE m.status END
            FROM unnest(\(authorities)::uuid[], \(ids)::uuid[]) AS t(authority_id, id)
            WHERE m.authority_id = t.authority_id AND m.application_id = t.id
              AND (m.to_number IS NOT NULL OR m.body IS NOT NULL OR m.body_sealed IS NOT NULL OR m.error IS NOT NULL)
            RETURNING m.authority_id
            """)
        let events = try c.query("""
            WITH written AS (
                INSERT INTO audit_event (authority_id, actor_kind, action, entity_type, entity_id, detail)
                SELECT t.authority_id, 'system', 'application.personal_data_erased', 'application', t.id,
                       jsonb_build_object('pass', \(passID.uuidString.lowercased())::text, 'reason', \(reason.rawValue)::text)
                FROM unnest(\(authorities)::uuid[], \(ids)::uuid[]) AS t(authority_id, id)
                RETURNING authority_id, id
            )
            SELECT authority_id, min(id), max(id) FROM written GROUP BY authority_id
            """)
        for row in events {
            let authority = try row.decode(UUID.self, at: 0)
            var receipt = outcome.receipts[authority, default: Receipt()]
            let first = try row.decode(Int64.self, at: 1), last = try row.decode(Int64.self, at: 2)
            receipt.firstAuditEventID = min(receipt.firstAuditEventID ?? first, first)
            receipt.lastAuditEventID = max(receipt.lastAuditEventID ?? last, last)
            outcome.receipts[authority] = receipt
        }
        return picked.count
    }

    /// `('cancelled', 'collected')`: the Domain's closing states as an SQL list (constants, not input).
    static let closingStates = "(" + RetentionPolicy.closingStates.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ") + ")"

    /// A side table's batch: a statement that changes at most `batchSize` rows and returns their
    /// `authority_id` (NULL for installation-wide tables) — or, when `counted`, `authority_id, count` itself.
    struct SideStep {
        let table: ErasedTable
        let statement: PostgresQuery
        var counted = false
    }

    private func trim(_ c: PostgresConnection, _ step: SideStep, into outcome: inout Outcome) throws -> Int {
        var total = 0
        let counts = step.counted
            ? try c.query(step.statement).map { (try $0.decode(UUID?.self, at: 0), try $0.decode(Int.self, at: 1)) }
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
        /// Failed-login counters whose window ended (and that block nothing).
        let loginThrottle: Date
        let pickupAttempts: Date
        let pickupSessions: Date
        let sessions: Date
    }

    func sideCutoffs(at now: Date) -> SideCutoffs {
        SideCutoffs(now: now, idempotencyKeys: now.addingTimeInterval(-Idempotency.retention), loginThrottle: now.addingTimeInterval(-LoginThrottle.window),
                    pickupAttempts: now.addingTimeInterval(-60 * Double(pickupWindowMinutes)),
                    pickupSessions: now.addingTimeInterval(-Self.pickupSessionGrace), sessions: now)
    }

    /// Erased address by address, message by message: every statement picks at most `batchSize` rows.
    private func sideSteps(now: Date, cutoffs: RetentionPolicy.Cutoffs) -> [SideStep] {
        let n = batchSize
        let side = sideCutoffs(at: now)
        return [
            SideStep(table: .smsMessage, statement: """
                WITH due AS (
                    SELECT authority_id, id FROM sms_message
                    WHERE application_id IS NULL AND to_number IS NOT NULL AND created_at < \(cutoffs.closedBefore)
                      AND status IN ('sent', 'delivered', 'failed', 'expired')
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
                SELECT authority, forgotten FROM audit_event_forget_addresses(\(cutoffs.auditAddressesBefore), \(n))
                """, counted: true),
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
                    WHERE window_start < \(side.loginThrottle) AND (blocked_until IS NULL OR blocked_until < \(side.now))
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

    /// Each authority's receipt becomes an event of its audit log, and the receipt names it.
    private func writeReceiptEvents(_ c: PostgresConnection, _ outcome: inout Outcome) throws {
        for (authority, receipt) in outcome.receipts.sorted(by: { $0.key.uuidString < $1.key.uuidString }) {
            try c.transaction { c in
                var detail = receipt.counts.byName.mapValues(String.init)
                detail["applications"] = String(receipt.applications)
                let event = try Audit.record(c, authorityID: authority, actor: .system, action: "privacy.erasure_receipt", entityType: "erasure_pass",
                                             entityID: outcome.passID, requestID: nil, clientAddress: nil, detail: detail)
                try c.execute("UPDATE erasure_receipt SET audit_event_id = \(event) WHERE authority_id = \(authority) AND pass_id = \(outcome.passID)")
            }
        }
    }
}
