import Foundation
import Postgres

/// The SQL that reads sites with their weekly hours and upcoming exceptions.
enum SiteStore {
    /// All sites of the authority (or the one with `siteID`), by name. Three queries, not one per site.
    static func list(_ connection: PostgresConnection, authorityID: UUID, siteID: UUID? = nil) throws -> [SiteDTO.Site] {
        let siteRows = try connection.query("""
            SELECT id, name, address, land, time_zone, deadline_kind, deadline_days, created_at,
                   pickup_requires_pin_letter, pickup_second_factor, pickup_requires_old_document, loading_requires_two_staff FROM site
            WHERE authority_id = \(authorityID) AND (\(siteID)::uuid IS NULL OR id = \(siteID))
            ORDER BY name, id
            """)
        var hours: [UUID: [SiteDTO.Interval]] = [:]
        for row in try connection.query("""
            SELECT site_id, weekday, left(opens::text, 5) AS opens, left(closes::text, 5) AS closes FROM site_pickup_hours
            WHERE authority_id = \(authorityID) AND (\(siteID)::uuid IS NULL OR site_id = \(siteID))
            ORDER BY site_id, weekday, opens
            """) {
            hours[try row.decode(UUID.self, column: "site_id"), default: []].append(
                SiteDTO.Interval(weekday: try row.decode(Int.self, column: "weekday"), opens: try row.decode(String.self, column: "opens"),
                                 closes: try row.decode(String.self, column: "closes")))
        }
        var exceptions: [UUID: [SiteDTO.Exception]] = [:]
        // "Upcoming" is from today in the site's own time zone.
        for row in try connection.query("""
            SELECT e.site_id, e.day::text AS day, e.closed, left(e.opens::text, 5) AS opens, left(e.closes::text, 5) AS closes, e.note
            FROM site_exception e JOIN site s ON s.authority_id = e.authority_id AND s.id = e.site_id
            WHERE e.authority_id = \(authorityID) AND (\(siteID)::uuid IS NULL OR e.site_id = \(siteID))
              AND e.day >= (now() AT TIME ZONE s.time_zone)::date
            ORDER BY e.site_id, e.day
            """) {
            exceptions[try row.decode(UUID.self, column: "site_id"), default: []].append(SiteDTO.Exception(
                day: try row.decode(String.self, column: "day"), closed: try row.decode(Bool.self, column: "closed"),
                opens: try row.decode(String?.self, column: "opens"), closes: try row.decode(String?.self, column: "closes"),
                note: try row.decode(String?.self, column: "note")))
        }
        return try siteRows.map { row in
            let id = try row.decode(UUID.self, column: "id")
            return SiteDTO.Site(
                id: id, name: try row.decode(String.self, column: "name"), address: try row.decode(String.self, column: "address"),
                land: try row.decode(String.self, column: "land"), timeZone: try row.decode(String.self, column: "time_zone"),
                deadlineKind: try row.decode(String.self, column: "deadline_kind"), deadlineDays: try row.decode(Int.self, column: "deadline_days"),
                pickupSettings: try pickupSettings(row),
                hours: hours[id] ?? [], exceptions: exceptions[id] ?? [], createdAt: try row.decode(Date.self, column: "created_at"))
        }
    }

    /// The four settings columns of a query that selects them by their names: `pickup_requires_pin_letter,
    /// pickup_second_factor, pickup_requires_old_document, loading_requires_two_staff`.
    static func pickupSettings(_ row: PostgresRow) throws -> SiteDTO.PickupSettings {
        SiteDTO.PickupSettings(pinLetter: try row.decode(Bool.self, column: "pickup_requires_pin_letter"),
                               secondFactor: try row.decode(String.self, column: "pickup_second_factor"),
                               oldDocument: try row.decode(Bool.self, column: "pickup_requires_old_document"),
                               fourEyesLoading: try row.decode(Bool.self, column: "loading_requires_two_staff"))
    }

    /// One site, or 404 (also for another authority's).
    static func fetch(_ connection: PostgresConnection, authorityID: UUID, id: UUID) throws -> SiteDTO.Site {
        guard let site = try list(connection, authorityID: authorityID, siteID: id).first else { throw ServiceError.notFound("site") }
        return site
    }
}
