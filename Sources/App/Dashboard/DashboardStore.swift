import Domain
import Foundation
import Postgres

/// The dashboard's aggregates, each one query over the authority's rows; statuses bound from their enums.
enum DashboardStore {
    static let timeZone = DashboardHandlers.timeZone

    /// Today (Europe/Berlin) and the counts of today and of what needs attention.
    static func figures(_ c: PostgresConnection, authorityID a: UUID) throws -> (today: String, DashboardHandlers.Counts, DashboardHandlers.Attention) {
        let closed = ApplicationState.allCases.filter(\.isTerminal)
        guard let row = try c.query("""
            WITH day AS (SELECT (now() AT TIME ZONE \(timeZone))::date AS d,
                                ((now() AT TIME ZONE \(timeZone))::date::timestamp AT TIME ZONE \(timeZone)) AS start)
            SELECT day.d::text AS today,
                (SELECT count(*) FROM delivery_item i JOIN delivery dl ON dl.authority_id = i.authority_id AND dl.id = i.delivery_id
                 WHERE i.authority_id = \(a) AND i.result = \(DeliveryResult.matched) AND dl.received_at >= day.start)::int8 AS delivered,
                (SELECT count(*) FROM assignment WHERE authority_id = \(a) AND loaded_at >= day.start)::int8 AS loaded,
                (SELECT count(*) FROM application WHERE authority_id = \(a) AND collected_at >= day.start)::int8 AS collected,
                (SELECT count(*) FROM application WHERE authority_id = \(a) AND state = \(ApplicationState.readyInBox) AND pickup_deadline = day.d)::int8 AS expiring,
                (SELECT count(*) FROM application WHERE authority_id = \(a) AND contact_required AND state <> ALL(\(closed)))::int8 AS contact_required,
                (SELECT count(*) FROM assignment WHERE authority_id = \(a) AND locked AND status = \(AssignmentStatus.loaded))::int8 AS locked,
                (SELECT count(*) FROM assignment WHERE authority_id = \(a) AND status = \(AssignmentStatus.retrievalDue))::int8 AS retrieval_due,
                (SELECT count(*) FROM box_event WHERE authority_id = \(a) AND kind = 'fault' AND received_at > now() - interval '24 hours')::int8 AS faults,
                (SELECT count(*) FROM sms_message WHERE authority_id = \(a) AND status = ANY(\([SMSStatus.failed, .expired].map(\.rawValue)))
                    AND final_at > now() - interval '24 hours')::int8 AS sms_failed,
                (SELECT count(*) FROM application WHERE authority_id = \(a) AND state = \(ApplicationState.delivered)
                    AND pickup_method = \(PickupMethod.box))::int8 AS waiting
            FROM day
            """).first else { throw AppError.notFound("authority") }
        let counts = DashboardHandlers.Counts(
            deliveredToday: try row.decode(Int.self, column: "delivered"), loadedToday: try row.decode(Int.self, column: "loaded"),
            collectedToday: try row.decode(Int.self, column: "collected"), expiringToday: try row.decode(Int.self, column: "expiring"))
        let attention = DashboardHandlers.Attention(
            contactRequired: try row.decode(Int.self, column: "contact_required"), lockedAssignments: try row.decode(Int.self, column: "locked"),
            retrievalDue: try row.decode(Int.self, column: "retrieval_due"), faultsLast24Hours: try row.decode(Int.self, column: "faults"),
            smsFailedLast24Hours: try row.decode(Int.self, column: "sms_failed"), waitingForCompartment: try row.decode(Int.self, column: "waiting"))
        return (try row.decode(String.self, column: "today"), counts, attention)
    }

    /// Collected documents per day, the last 30 days, oldest first.
    static func pickupsPerDay(_ c: PostgresConnection, authorityID a: UUID) throws -> [DashboardHandlers.DayCount] {
        try c.query("""
            SELECT d::date::text AS day, count(x.collected_at)::int8 AS collected
            FROM generate_series((now() AT TIME ZONE \(timeZone))::date - 29, (now() AT TIME ZONE \(timeZone))::date, interval '1 day') AS d
            LEFT JOIN (SELECT (collected_at AT TIME ZONE \(timeZone))::date AS day, collected_at FROM application
                       WHERE authority_id = \(a) AND collected_at >= now() - interval '31 days') x ON x.day = d::date
            GROUP BY d ORDER BY d
            """).map { DashboardHandlers.DayCount(date: try $0.decode(String.self, column: "day"), count: try $0.decode(Int.self, column: "collected")) }
    }

    /// Documents collected in the last 90 days per whole days from delivery to collection; the last entry
    /// counts ``DashboardHandlers/histogramDays`` days or more.
    static func daysToPickup(_ c: PostgresConnection, authorityID a: UUID) throws -> [Int] {
        let last = DashboardHandlers.histogramDays
        var histogram = [Int](repeating: 0, count: last + 1)
        for row in try c.query("""
            SELECT least(\(last), greatest(0, floor(extract(epoch FROM a.collected_at - dl.received_at) / 86400)))::int8 AS days, count(*)::int8 AS documents
            FROM application a
            JOIN document d ON d.authority_id = a.authority_id AND d.application_id = a.id
            JOIN delivery dl ON dl.authority_id = d.authority_id AND dl.id = d.delivery_id
            WHERE a.authority_id = \(a) AND a.collected_at > now() - interval '90 days'
            GROUP BY 1
            """) {
            let bucket = try row.decode(Int.self, column: "days")
            if histogram.indices.contains(bucket) { histogram[bucket] += try row.decode(Int.self, column: "documents") }
        }
        return histogram
    }

    /// Occupied compartments per box and day (ISO date), the last 30 days.
    ///
    /// Each assignment counts on the days at whose end it occupied its compartment: from the day it was
    /// assigned to the day before it ended (only those overlapping the window are read; one row per
    /// assignment-day, summed per day and box).
    static func occupancy(_ c: PostgresConnection, authorityID a: UUID) throws -> [UUID: [String: Int]] {
        var points: [UUID: [String: Int]] = [:]
        for row in try c.query("""
            WITH bounds AS (SELECT (now() AT TIME ZONE \(timeZone))::date AS today),
            spans AS (
                SELECT c.box_id,
                       greatest((asg.assigned_at AT TIME ZONE \(timeZone))::date, b.today - 29) AS first_day,
                       least(coalesce((coalesce(asg.collected_at, asg.retrieved_at, asg.released_at) AT TIME ZONE \(timeZone))::date - 1, b.today), b.today) AS last_day
                FROM assignment asg JOIN compartment c ON c.authority_id = asg.authority_id AND c.id = asg.compartment_id, bounds b
                WHERE asg.authority_id = \(a)
                  AND coalesce(asg.collected_at, asg.retrieved_at, asg.released_at, 'infinity') > now() - interval '31 days'
            )
            SELECT d::date::text AS day, s.box_id, count(*)::int8 AS occupied
            FROM spans s, generate_series(s.first_day, s.last_day, interval '1 day') AS d
            WHERE s.first_day <= s.last_day
            GROUP BY 1, 2
            """) {
            points[try row.decode(UUID.self, column: "box_id"), default: [:]][try row.decode(String.self, column: "day")] = try row.decode(Int.self, column: "occupied")
        }
        return points
    }
}
