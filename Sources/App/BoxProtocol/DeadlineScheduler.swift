import Domain
import Foundation
import Logging
import Postgres

/// Moves documents whose pickup deadline has passed to `retrieval_due` (docs/ARCHITECTURE.md#deadline): the PIN dies,
/// the box sees the compartment in service mode (`to_retrieve`), caseworkers see the application in
/// the retrieval list (`GET /applications?state=retrieval_due`). The same thread queues the reminder SMS
/// (`SMSReminders`) and purges expired failed-login counters (`LoginThrottle.purge`) and delivery-report
/// receipts (`SMSDeliveryReports.purge`). Every server process runs it; a
/// transaction-scoped advisory lock lets one pass run at a time, so nothing is done twice.
final class DeadlineScheduler: Sendable {
    static let lockKey: Int64 = 0x7069_636B_6465_6164   // "pickdead"
    private let pool: PostgresPool
    private let logger: Logger
    private let interval: TimeInterval
    private let sms: SMSSettings
    private let metrics: AppMetrics?
    private let cipher: TextCipher
    /// Due assignments per transaction: their boxes are held until it commits.
    private let batch: Int
    private let stop = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)

    init(pool: PostgresPool, logger: Logger, interval: TimeInterval, sms: SMSSettings, cipher: TextCipher, metrics: AppMetrics? = nil, batch: Int = 200) {
        self.pool = pool
        self.batch = max(1, batch)
        self.metrics = metrics
        self.sms = sms
        self.cipher = cipher
        self.logger = logger
        self.interval = interval
    }

    func start() {
        let thread = Thread { [self] in
            while stop.wait(timeout: .now() + interval) == .timedOut {
                do { metrics?.deadlinePassCompleted(moved: try runAll()) } catch { logger.warning("deadline pass failed", metadata: ["error": "\(error)"]) }
                do { _ = try SMSReminders.runOnce(pool: pool, settings: sms, cipher: cipher, logger: logger) } catch {
                    logger.warning("reminder pass failed", metadata: ["error": "\(error)"])
                }
                // Counters of failed logins that no longer matter (docs/ARCHITECTURE.md#sessions): any process may delete them.
                do { try LoginThrottle.purge(pool) } catch { logger.warning("login throttle purge failed", metadata: ["error": "\(error)"]) }
                do { try SMSDeliveryReports.purge(pool) } catch { logger.warning("delivery report receipt purge failed", metadata: ["error": "\(error)"]) }
            }
            stopped.signal()
        }
        thread.name = "pickupbox-deadlines"
        thread.start()
    }

    func shutdown() {
        stop.signal()
        _ = stopped.wait(timeout: .now() + 5)
    }

    /// Passes until one finds fewer than `batch` due assignments (or moves none); the number moved.
    @discardableResult
    func runAll() throws -> Int {
        var total = 0
        while true {
            let (moved, full) = try pass()
            total += moved
            if !full || moved == 0 { return total }
        }
    }

    /// One pass over at most `batch` due assignments; the number moved (0 when another process holds the pass).
    @discardableResult
    func runOnce() throws -> Int { try pass().moved }

    /// At most `batch` loaded assignments whose deadline passed, oldest first (served by
    /// `assignment_deadline_due_idx`, Migrations/0029).
    static func dueQuery(batch: Int) -> PostgresQuery {
        """
        SELECT authority_id, id FROM assignment WHERE status = \(literal: AssignmentStatus.loaded) AND pin_expires_at < now()
        ORDER BY pin_expires_at, authority_id, id LIMIT \(batch)
        """
    }

    private func pass() throws -> (moved: Int, full: Bool) {
        try pool.transaction { c in
            guard try c.query("SELECT pg_try_advisory_xact_lock(\(Self.lockKey)) AS locked").first?.decode(Bool.self, column: "locked") == true else { return (0, false) }
            // The due assignments' boxes are locked first, in key order, as a pickup's steps lock a box and
            // then its assignments (`Assignments.lockBoxes`); the assignments are moved after that when they
            // are still due (one picked up meanwhile is not).
            let found = try c.query(Self.dueQuery(batch: batch)).map { (authorityID: try $0.decode(UUID.self, column: "authority_id"), id: try $0.decode(UUID.self, column: "id")) }
            guard !found.isEmpty else { return (0, false) }
            try Assignments.lockBoxes(c, holding: found)
            let due = try c.query("""
                UPDATE assignment SET status = \(AssignmentStatus.retrievalDue), pin_hmac = NULL, pin_digest = NULL
                WHERE (authority_id, id) IN (SELECT * FROM unnest(\(found.map(\.authorityID))::uuid[], \(found.map(\.id))::uuid[]))
                  AND status = \(literal: AssignmentStatus.loaded) AND pin_expires_at < now()
                RETURNING authority_id, id, compartment_id
                """)
            for row in due {
                let authority = try row.decode(UUID.self, column: "authority_id")
                let assignment = try row.decode(UUID.self, column: "id")
                for a in try ApplicationTransitions.apply(.deadlinePassed, onAssignment: assignment, c, authorityID: authority) {
                    try Audit.record(c, authorityID: authority, actor: .system, action: "application.deadline_passed", entityType: "application",
                                     entityID: a.id, requestID: nil, clientAddress: nil)
                }
                try BoxChanges.record(c, authorityID: authority, compartmentID: try row.decode(UUID.self, column: "compartment_id"), kind: .toRetrieve, assignmentID: assignment)
            }
            if !due.isEmpty { logger.info("pickup deadlines passed", metadata: ["assignments": "\(due.count)"]) }
            return (due.count, found.count == batch)
        }
    }
}
