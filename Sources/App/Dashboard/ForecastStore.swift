import Domain
import Foundation
import Postgres

/// What the capacity forecast of a box reads: its compartments, the documents in it, how long documents
/// stayed, and what is still to come from production.
enum ForecastStore {
    static let timeZone = DashboardHandlers.timeZone

    struct Box {
        let name: String
        let siteID: UUID
        let today: CivilDate
        /// Usable (not blocked) compartments of the box, and of all boxes at its site.
        let capacity: Int
        let siteCapacity: Int
    }

    /// Box pickups of a site still to come, grouped by whether they are delivered and by age in days.
    struct Waiting {
        let delivered: Bool
        let ageDays: Int
        let count: Int
    }

    static func box(_ c: PostgresConnection, authorityID a: UUID, boxID: UUID) throws -> Box {
        guard let row = try c.query("""
            SELECT b.name, b.site_id, (now() AT TIME ZONE \(timeZone))::date::text AS today,
                   (SELECT count(*) FROM compartment WHERE authority_id = b.authority_id AND box_id = b.id AND state <> \(CompartmentState.blocked))::int8 AS capacity,
                   (SELECT count(*) FROM compartment c JOIN box o ON o.authority_id = c.authority_id AND o.id = c.box_id
                    WHERE c.authority_id = b.authority_id AND o.site_id = b.site_id AND c.state <> \(CompartmentState.blocked))::int8 AS site_capacity
            FROM box b WHERE b.authority_id = \(a) AND b.id = \(boxID)
            """).first else { throw AppError.notFound("box") }
        return Box(name: try row.decode(String.self, column: "name"), siteID: try row.decode(UUID.self, column: "site_id"),
                   today: try CivilDate(iso: try row.decode(String.self, column: "today")),
                   capacity: try row.decode(Int.self, column: "capacity"), siteCapacity: try row.decode(Int.self, column: "site_capacity"))
    }

    /// Documents in the box now: days since loading (assigned but not loaded yet: 0).
    static func agesInBox(_ c: PostgresConnection, authorityID a: UUID, boxID: UUID) throws -> [Int] {
        try c.query("""
            SELECT coalesce(floor(extract(epoch FROM now() - asg.loaded_at) / 86400), 0)::int8 AS days
            FROM assignment asg JOIN compartment c ON c.authority_id = asg.authority_id AND c.id = asg.compartment_id
            WHERE asg.authority_id = \(a) AND c.box_id = \(boxID) AND asg.status = ANY(\(AssignmentStatus.allCases.filter(\.isLive)))
            """).map { try $0.decode(Int.self, column: "days") }
    }

    /// How long documents stayed in this box (loading to pickup or retrieval), the last 180 days: days → count.
    static func stays(_ c: PostgresConnection, authorityID a: UUID, boxID: UUID) throws -> [Int: Int] {
        var stays: [Int: Int] = [:]
        for row in try c.query("""
            SELECT floor(extract(epoch FROM coalesce(asg.collected_at, asg.retrieved_at) - asg.loaded_at) / 86400)::int8 AS days, count(*)::int8 AS stays
            FROM assignment asg JOIN compartment c ON c.authority_id = asg.authority_id AND c.id = asg.compartment_id
            WHERE asg.authority_id = \(a) AND c.box_id = \(boxID) AND asg.loaded_at IS NOT NULL
              AND coalesce(asg.collected_at, asg.retrieved_at) > now() - interval '180 days'
            GROUP BY 1
            """) {
            stays[try row.decode(Int.self, column: "days"), default: 0] += try row.decode(Int.self, column: "stays")
        }
        return stays
    }

    /// Production time at the site: registration to the delivery that matched it, over the most recent
    /// 2,000 matched documents (newest deliveries first by index; enough for a median, and bounded).
    static func productionDays(_ c: PostgresConnection, authorityID a: UUID, siteID: UUID) throws -> (median: Int?, observed: Int) {
        let row = try c.query("""
            SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY x.days)::int8 AS median, count(*)::int8 AS observed FROM (
                SELECT floor(extract(epoch FROM dl.received_at - ap.created_at) / 86400) AS days
                FROM delivery dl
                JOIN delivery_item i ON i.authority_id = dl.authority_id AND i.delivery_id = dl.id AND i.result = \(DeliveryResult.matched)
                JOIN application ap ON ap.authority_id = i.authority_id AND ap.id = i.application_id
                WHERE dl.authority_id = \(a) AND ap.site_id = \(siteID) AND dl.received_at > now() - interval '180 days'
                ORDER BY dl.received_at DESC LIMIT 2000
            ) x
            """).first
        return (try row?.decode(Int?.self, column: "median") ?? nil, try row?.decode(Int.self, column: "observed") ?? 0)
    }

    /// Box pickups of the site still to come: in production (by age) and delivered without a compartment.
    static func waiting(_ c: PostgresConnection, authorityID a: UUID, siteID: UUID) throws -> [Waiting] {
        try c.query("""
            SELECT state = \(ApplicationState.delivered) AS delivered, floor(extract(epoch FROM now() - created_at) / 86400)::int8 AS age_days,
                   count(*)::int8 AS applications
            FROM application
            WHERE authority_id = \(a) AND site_id = \(siteID) AND pickup_method = \(PickupMethod.box)
              AND state = ANY(\([ApplicationState.registered, .inProduction, .delivered]))
            GROUP BY 1, 2
            """).map {
            Waiting(delivered: try $0.decode(Bool.self, column: "delivered"), ageDays: try $0.decode(Int.self, column: "age_days"),
                    count: try $0.decode(Int.self, column: "applications"))
        }
    }
}
