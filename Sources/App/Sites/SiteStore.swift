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
            SELECT site_id, weekday, left(opens::text, 5), left(closes::text, 5) FROM site_pickup_hours
            WHERE authority_id = \(authorityID) AND (\(siteID)::uuid IS NULL OR site_id = \(siteID))
            ORDER BY site_id, weekday, opens
            """) {
            hours[try row.decode(UUID.self, at: 0), default: []].append(
                SiteDTO.Interval(weekday: try row.decode(Int.self, at: 1), opens: try row.decode(String.self, at: 2), closes: try row.decode(String.self, at: 3)))
        }
        var exceptions: [UUID: [SiteDTO.Exception]] = [:]
        // "Upcoming" is from today in the site's own time zone.
        for row in try connection.query("""
            SELECT e.site_id, e.day::text, e.closed, left(e.opens::text, 5), left(e.closes::text, 5), e.note
            FROM site_exception e JOIN site s ON s.authority_id = e.authority_id AND s.id = e.site_id
            WHERE e.authority_id = \(authorityID) AND (\(siteID)::uuid IS NULL OR e.site_id = \(siteID))
              AND e.day >= (now() AT TIME ZONE s.time_zone)::date
            ORDER BY e.site_id, e.day
            """) {
            exceptions[try row.decode(UUID.self, at: 0), default: []].append(SiteDTO.Exception(
                day: try row.decode(String.self, at: 1), closed: try row.decode(Bool.self, at: 2), opens: try row.decode(String?.self, at: 3),
                closes: try row.decode(String?.self, at: 4), note: try row.decode(String?.self, at: 5)))
        }
        return try siteRows.map { row in
            let id = try row.decode(UUID.self, at: 0)
            return SiteDTO.Site(
                id: id, name: try row.decode(String.self, at: 1), address: try row.decode(String.self, at: 2), land: try row.decode(String.self, at: 3),
                timeZone: try row.decode(String.self, at: 4), deadlineKind: try row.decode(String.self, at: 5), deadlineDays: try row.decode(Int.self, at: 6),
                pickupSettings: try pickupSettings(row, at: 8),
                hours: hours[id] ?? [], exceptions: exceptions[id] ?? [], createdAt: try row.decode(Date.self, at: 7))
        }
    }

    /// The four settings columns, in the order `pickup_requires_pin_letter, pickup_second_factor,
    /// pickup_requires_old_document, loading_requires_two_staff`, starting at `index`.
    static func pickupSettings(_ row: PostgresRow, at index: Int) throws -> SiteDTO.PickupSettings {
        SiteDTO.PickupSettings(pinLetter: try row.decode(Bool.self, at: index), secondFactor: try row.decode(String.self, at: index + 1),
                               oldDocument: try row.decode(Bool.self, at: index + 2), fourEyesLoading: try row.decode(Bool.self, at: index + 3))
    }

    /// One site, or 404 (also for another authority's).
    static func fetch(_ connection: PostgresConnection, authorityID: UUID, id: UUID) throws -> SiteDTO.Site {
        guard let site = try list(connection, authorityID: authorityID, siteID: id).first else { throw AppError.notFound("site") }
        return site
    }
}
