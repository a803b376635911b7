import Crypto
import Domain
import Foundation
import Postgres

/// Sites of an authority: creation, weekly pickup hours and dated exceptions. The HTTP handlers and
/// the operator command line share these functions, so both validate and audit alike.
public enum SiteAdmin {
    /// How the pickup deadline is counted (`site.deadline_kind`).
    enum DeadlineKind: String, Sendable, CaseIterable, PostgresCodable {
        case workingDays = "working_days"
        case calendarDays = "calendar_days"
    }

    /// A validated new site.
    struct NewSite {
        let name: String
        let address: String
        let land: Bundesland
        let timeZone: String
        let deadlineKind: DeadlineKind
        let deadlineDays: Int
    }

    /// Creates a site and returns its id (audited as `site.created` by `.system`).
    /// Errors: 400 naming the field; 409 `site_name_taken`.
    public static func create(pool: PostgresPool, authorityID: UUID, name: String, address: String, land: String,
                              timeZone: String? = nil, deadlineKind: String? = nil, deadlineDays: Int? = nil) throws -> UUID {
        let site = try validate(SiteDTO.Create(name: name, address: address, land: land, timeZone: timeZone, deadlineKind: deadlineKind, deadlineDays: deadlineDays))
        return try pool.transaction { try insert($0, .system(authorityID), site) }
    }

    /// The id of the site named `nameOrID` (its exact name, or its id) in the authority; 404 otherwise.
    public static func resolve(pool: PostgresPool, authorityID: UUID, nameOrID: String) throws -> UUID {
        let id = UUID(uuidString: nameOrID)
        guard (1...200).contains(nameOrID.utf8.count) else { throw ServiceError.notFound("site") }
        let rows = try pool.query("""
            SELECT id FROM site WHERE authority_id = \(authorityID) AND (id = \(id) OR name = \(nameOrID)) ORDER BY id = \(id) DESC NULLS LAST LIMIT 1
            """)
        guard let row = rows.first else { throw ServiceError.notFound("site") }
        return try row.decode(UUID.self, at: 0)
    }

    static func validate(_ body: SiteDTO.Create) throws -> NewSite {
        let name = try TextField.validate(body.name, field: "name")
        let address = try TextField.validate(body.address, field: "address", maxLength: 500)
        let land = try Input.enumValue(Bundesland.self, body.land, field: "land")
        let zone = body.timeZone ?? "Europe/Berlin"
        // IANA names are ASCII (`Area/Location`, `UTC`); checking that first keeps NUL, RTL and
        // 64 KiB strings away from Foundation. PostgreSQL must know the name too: see `insert`.
        guard (1...64).contains(zone.utf8.count),
              zone.utf8.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || "/_+-".utf8.contains($0) }),
              TimeZone(identifier: zone) != nil
        else { throw invalidTimeZone }
        let kind = try body.deadlineKind.map { try Input.enumValue(DeadlineKind.self, $0, field: "deadlineKind") } ?? .workingDays
        let days = body.deadlineDays ?? 10
        guard PickupDeadlinePolicy.allowedLength.contains(days) else {
            throw ServiceError.invalid("deadlineDays", "out_of_range", "The pickup deadline must be 1 to 60 days.")
        }
        return NewSite(name: name, address: address, land: land, timeZone: zone, deadlineKind: kind, deadlineDays: days)
    }

    static let invalidTimeZone = ServiceError.invalid("timeZone", "invalid_time_zone", "Use an IANA time zone identifier such as Europe/Berlin.")

    static func insert(_ connection: PostgresConnection, _ actor: AdminActor, _ site: NewSite) throws -> UUID {
        // The zone is used in SQL (`AT TIME ZONE`), so PostgreSQL's tz database must know it as well.
        let known = try connection.query("SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = \(site.timeZone))")
        guard try known.first?.decode(Bool.self, at: 0) == true else { throw invalidTimeZone }
        let id = Crypto.uuid()
        try connection.unique(ServiceError.conflict("site_name_taken", "A site with this name exists.", field: "name")) {
            try connection.execute("""
                INSERT INTO site (authority_id, id, name, address, time_zone, land, deadline_kind, deadline_days)
                VALUES (\(actor.authorityID), \(id), \(site.name), \(site.address), \(site.timeZone), \(site.land.rawValue),
                        \(site.deadlineKind.rawValue), \(site.deadlineDays))
                """)
        }
        try actor.audit(connection, "site.created", "site", id, detail: ["land": site.land.rawValue])
        return id
    }

    /// Locks the site row (so concurrent changes to its hours queue up), or 404.
    static func lock(_ connection: PostgresConnection, authorityID: UUID, siteID: UUID) throws {
        let rows = try connection.query("SELECT 1 FROM site WHERE authority_id = \(authorityID) AND id = \(siteID) FOR UPDATE")
        guard !rows.isEmpty else { throw ServiceError.notFound("site") }
    }

    // MARK: - Hours

    /// Replaces the weekly hours of a site: at most 4 intervals a weekday, none overlapping.
    static func validateHours(_ intervals: [SiteDTO.Interval]) throws -> [(weekday: Int, opens: TimeOfDay, closes: TimeOfDay)] {
        guard intervals.count <= 7 * maxIntervalsPerDay else {
            throw ServiceError.invalid("hours", "too_many_intervals", "At most \(maxIntervalsPerDay) intervals a weekday.")
        }
        var parsed: [(weekday: Int, opens: TimeOfDay, closes: TimeOfDay, index: Int)] = []
        for (i, interval) in intervals.enumerated() {
            guard (1...7).contains(interval.weekday) else {
                throw ServiceError.invalid("hours[\(i)].weekday", "invalid_weekday", "Weekdays are 1 (Monday) to 7 (Sunday).")
            }
            let opens = try TimeOfDay.parse(interval.opens, field: "hours[\(i)].opens", allowEndOfDay: false)
            let closes = try TimeOfDay.parse(interval.closes, field: "hours[\(i)].closes", allowEndOfDay: true)
            guard closes > opens else {
                throw ServiceError.invalid("hours[\(i)].closes", "closes_before_opens", "An interval must close after it opens.")
            }
            parsed.append((interval.weekday, opens, closes, i))
        }
        parsed.sort { ($0.weekday, $0.opens.minutes) < ($1.weekday, $1.opens.minutes) }
        var perDay: [Int: Int] = [:]
        for (k, current) in parsed.enumerated() {
            perDay[current.weekday, default: 0] += 1
            guard perDay[current.weekday, default: 0] <= maxIntervalsPerDay else {
                throw ServiceError.invalid("hours[\(current.index)]", "too_many_intervals", "At most \(maxIntervalsPerDay) intervals a weekday.")
            }
            // Touching intervals (12:00–14:00 after 08:00–12:00) are fine; overlapping ones are a typo.
            if k > 0, parsed[k - 1].weekday == current.weekday, current.opens < parsed[k - 1].closes {
                throw ServiceError.invalid("hours[\(current.index)]", "overlapping_intervals", "The interval overlaps another one on the same weekday.")
            }
        }
        return parsed.map { ($0.weekday, $0.opens, $0.closes) }
    }

    static let maxIntervalsPerDay = 4

    static func replaceHours(_ connection: PostgresConnection, _ actor: AdminActor, siteID: UUID,
                             _ hours: [(weekday: Int, opens: TimeOfDay, closes: TimeOfDay)]) throws {
        try lock(connection, authorityID: actor.authorityID, siteID: siteID)
        try connection.execute("DELETE FROM site_pickup_hours WHERE authority_id = \(actor.authorityID) AND site_id = \(siteID)")
        if !hours.isEmpty {
            try connection.execute("""
                INSERT INTO site_pickup_hours (authority_id, site_id, weekday, opens, closes)
                SELECT \(actor.authorityID), \(siteID), h.weekday, h.opens::time, h.closes::time
                FROM unnest(\(hours.map(\.weekday))::int[], \(hours.map(\.opens.text))::text[], \(hours.map(\.closes.text))::text[]) AS h(weekday, opens, closes)
                """)
        }
        try actor.audit(connection, "site.hours_replaced", "site", siteID, detail: ["intervals": String(hours.count)])
    }

    // MARK: - Exceptions

    /// Inserts or replaces the exception for one day; true when it was new.
    static func upsertException(_ connection: PostgresConnection, _ actor: AdminActor, siteID: UUID, _ body: SiteDTO.ExceptionUpsert) throws -> (SiteDTO.Exception, inserted: Bool) {
        let day = try Input.domain { () throws(DomainError) in try CivilDate(iso: body.day, field: "day") }
        var opens: TimeOfDay?, closes: TimeOfDay?
        if body.closed {
            if body.opens != nil { throw ServiceError.invalid("opens", "not_applicable", "A closed day has no opening hours.") }
            if body.closes != nil { throw ServiceError.invalid("closes", "not_applicable", "A closed day has no opening hours.") }
        } else {
            guard let o = body.opens else { throw ServiceError.invalid("opens", "missing_field", "Special hours need opens and closes.") }
            guard let c = body.closes else { throw ServiceError.invalid("closes", "missing_field", "Special hours need opens and closes.") }
            opens = try TimeOfDay.parse(o, field: "opens", allowEndOfDay: false)
            closes = try TimeOfDay.parse(c, field: "closes", allowEndOfDay: true)
            guard let opens, let closes, closes > opens else {
                throw ServiceError.invalid("closes", "closes_before_opens", "The site must close after it opens.")
            }
        }
        let note = try body.note.map { try TextField.validate($0, field: "note") }
        try lock(connection, authorityID: actor.authorityID, siteID: siteID)
        let rows = try connection.query("""
            INSERT INTO site_exception (authority_id, site_id, day, closed, opens, closes, note)
            VALUES (\(actor.authorityID), \(siteID), \(day.iso)::date, \(body.closed), \(opens?.text)::time, \(closes?.text)::time, \(note))
            ON CONFLICT (authority_id, site_id, day) DO UPDATE SET closed = excluded.closed, opens = excluded.opens, closes = excluded.closes, note = excluded.note
            RETURNING (xmax = 0)
            """)
        let inserted = try rows.first?.decode(Bool.self, at: 0) ?? false
        try actor.audit(connection, inserted ? "site.exception_added" : "site.exception_changed", "site", siteID, detail: ["day": day.iso, "closed": String(body.closed)])
        return (SiteDTO.Exception(day: day.iso, closed: body.closed, opens: opens?.text, closes: closes?.text, note: note), inserted)
    }

    static func deleteException(_ connection: PostgresConnection, _ actor: AdminActor, siteID: UUID, day text: String) throws {
        guard let day = try? CivilDate(iso: text) else { throw ServiceError.notFound("site exception") }
        try lock(connection, authorityID: actor.authorityID, siteID: siteID)
        let deleted = try connection.execute("""
            DELETE FROM site_exception WHERE authority_id = \(actor.authorityID) AND site_id = \(siteID) AND day = \(day.iso)::date
            """)
        guard deleted > 0 else { throw ServiceError.notFound("site exception") }
        try actor.audit(connection, "site.exception_removed", "site", siteID, detail: ["day": day.iso])
    }
}
