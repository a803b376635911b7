import Domain
import Foundation
import Logging
import Postgres

/// The reminder SMS (docs/ARCHITECTURE.md#deadline): `SMS_REMINDER_DAYS` before the pickup deadline, once per compartment,
/// through the outbox. Runs in every process beside the deadline pass; an advisory lock lets one pass run
/// at a time and a unique index (one reminder per assignment) makes "once" hold whatever happens.
/// During the site's quiet hours the reminder is queued for the end of them.
enum SMSReminders {
    static let lockKey: Int64 = 0x7069_636B_7265_6D69   // "pickremi"

    /// One pass; returns the number of reminders queued (0 when another process holds the pass).
    @discardableResult
    static func runOnce(pool: PostgresPool, settings: SMSSettings, cipher: TextCipher, logger: Logger, now: Date = Date()) throws -> Int {
        guard let days = settings.reminderDaysBefore else { return 0 }
        return try pool.transaction { c in
            guard try c.query("SELECT pg_try_advisory_xact_lock(\(lockKey)) AS locked").first?.decode(Bool.self, column: "locked") == true else { return 0 }
            // Documents in the box whose deadline is `days` or fewer days away in the site's calendar, loaded
            // at least half a day ago (a short deadline does not earn a reminder right after the "ready" SMS).
            let due = try c.query("""
                SELECT DISTINCT ON (asg.authority_id, asg.id) asg.authority_id, asg.id AS assignment_id, a.id AS application_id, a.mobile_number,
                       a.sms_language, s.name AS site_name, a.pickup_deadline::text AS pickup_deadline, s.time_zone
                FROM assignment asg
                JOIN application a ON a.authority_id = asg.authority_id AND a.assignment_id = asg.id AND a.state = \(ApplicationState.readyInBox.rawValue)
                JOIN site s ON s.authority_id = a.authority_id AND s.id = a.site_id
                WHERE asg.status = \(AssignmentStatus.loaded) AND a.mobile_number IS NOT NULL AND a.pickup_deadline IS NOT NULL
                  AND asg.loaded_at < \(now)::timestamptz - interval '12 hours'
                  AND a.pickup_deadline - \(days)::int <= (\(now)::timestamptz AT TIME ZONE s.time_zone)::date
                  AND a.pickup_deadline >= (\(now)::timestamptz AT TIME ZONE s.time_zone)::date
                  AND NOT EXISTS (SELECT 1 FROM sms_message m WHERE m.authority_id = asg.authority_id AND m.assignment_id = asg.id AND m.template = \(literal: SMSKind.reminder))
                ORDER BY asg.authority_id, asg.id, a.created_at
                LIMIT 1000
                """)
            var queued = 0
            for row in due {
                let zone = TimeZone(identifier: try row.decode(String.self, column: "time_zone")) ?? TimeZone(identifier: "Europe/Berlin") ?? .gmt
                let release = settings.quietHours?.release(after: now, in: zone) ?? now
                let deadline = try row.decode(String?.self, column: "pickup_deadline").flatMap { try? CivilDate(iso: $0) }
                let id = try SMSOutbox.enqueue(c, cipher: cipher, authorityID: try row.decode(UUID.self, column: "authority_id"),
                                               applicationID: try row.decode(UUID.self, column: "application_id"),
                                               assignmentID: try row.decode(UUID.self, column: "assignment_id"), to: try row.decode(String.self, column: "mobile_number"),
                                               kind: .reminder, language: try row.decode(String.self, column: "sms_language"),
                                               values: SMSValues(site: try row.decode(String.self, column: "site_name"), deadline: deadline),
                                               notBefore: release > now ? release : nil)
                if id != nil { queued += 1 }
            }
            if queued > 0 { logger.info("pickup reminders queued", metadata: ["count": "\(queued)"]) }
            return queued
        }
    }
}
