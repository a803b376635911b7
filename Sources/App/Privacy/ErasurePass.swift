import Crypto
import Domain
import Foundation
import HTTPServer
import Logging
import Postgres

/// One erasure pass (PRIVACY.md#erasure-on-schedule): erases the personal data the ``RetentionPolicy`` no
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
            var outcome = Outcome(passID: Crypto.uuid())
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
                logger.info("erasure pass finished", metadata: ["erasure.pass": "\(outcome.passID.uuidString.lowercased())", "erasure.rows": "\(totals.byName)"])
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
