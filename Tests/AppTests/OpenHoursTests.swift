@testable import App
import Foundation
import HTTPTestSupport
import Postgres
import PostgresTestSupport
import Testing

/// The pickup steps' "open now", remembered per box (migration 0028): `site_open_window` decides as the
/// steps decided from the tables before, the interval it gives is open throughout, and every change to
/// what it reads forgets the intervals of the site's boxes, also while a step holds the box.
@Suite("Pickup hours remembered per box")
struct OpenHoursTests {
    static let number = "0171 1234567"

    /// Every five minutes over four days around each of 2026's daylight-saving changes in Berlin (the
    /// last Sundays of March and October), the decision against the one migrations 0021–0025 made in the
    /// steps; every interval given is checked at its ends and its middle too.
    static func comparison(_ authority: UUID, _ site: UUID) -> PostgresQuery { """
        WITH grid AS (
            SELECT x FROM generate_series(timestamptz '2026-03-26 23:00+00', timestamptz '2026-03-31 00:00+00', interval '5 minutes') x
            UNION ALL
            SELECT x FROM generate_series(timestamptz '2026-10-22 22:00+00', timestamptz '2026-10-27 00:00+00', interval '5 minutes') x
        ), decided AS (
            SELECT g.x, w.open, w.open_from, w.open_until FROM grid g, site_open_window(\(authority), \(site), g.x) w
        ), windows AS (
            SELECT DISTINCT open_from, open_until FROM decided WHERE open_until IS NOT NULL
        ), checked AS (
            SELECT x FROM grid
            UNION SELECT open_from FROM windows
            UNION SELECT open_until - interval '1 microsecond' FROM windows
            UNION SELECT open_from + (open_until - open_from) / 2 FROM windows
        ), reference AS (
            SELECT c.x, CASE
                     WHEN e.day IS NOT NULL THEN NOT e.closed AND l.t::time >= e.opens AND l.t::time < e.closes
                     ELSE EXISTS (SELECT 1 FROM site_pickup_hours h WHERE h.authority_id = s.authority_id AND h.site_id = s.id
                                  AND h.weekday = extract(isodow FROM l.t) AND l.t::time >= h.opens AND l.t::time < h.closes)
                   END AS open
            FROM checked c JOIN site s ON s.authority_id = \(authority) AND s.id = \(site)
            CROSS JOIN LATERAL (SELECT c.x AT TIME ZONE s.time_zone AS t) l
            LEFT JOIN site_exception e ON e.authority_id = s.authority_id AND e.site_id = s.id AND e.day = l.t::date
        )
        SELECT (SELECT count(*) FROM decided d JOIN reference r USING (x) WHERE d.open IS DISTINCT FROM r.open)::int8,
               (SELECT count(*) FROM decided WHERE open_until IS NOT NULL AND NOT (open_from <= x AND x < open_until))::int8,
               (SELECT count(*) FROM windows w JOIN reference r ON r.x >= w.open_from AND r.x < w.open_until WHERE NOT r.open)::int8,
               (SELECT count(*) FROM decided)::int8,
               (SELECT count(*) FROM decided WHERE open)::int8,
               (SELECT count(*) FROM decided WHERE open AND open_until IS NULL)::int8
        """
    }

    struct Comparison: Equatable {
        var disagreements = 0, outsideTheirInterval = 0, closedInsideAnInterval = 0, instants = 0, open = 0, openWithoutInterval = 0
    }

    static func compare(_ app: Application, _ town: AuthorityFixture) throws -> Comparison {
        let row = try #require(try app.pool.query(comparison(town.authorityID, town.siteID)).first)
        return Comparison(disagreements: try row.decode(Int.self, at: 0), outsideTheirInterval: try row.decode(Int.self, at: 1),
                          closedInsideAnInterval: try row.decode(Int.self, at: 2), instants: try row.decode(Int.self, at: 3),
                          open: try row.decode(Int.self, at: 4), openWithoutInterval: try row.decode(Int.self, at: 5))
    }

    static func setHours(_ app: Application, _ town: AuthorityFixture, _ hours: [(Int, String, String)], exceptions: [(String, Bool, String?, String?)] = []) throws {
        try app.pool.transaction { c in
            try c.execute("DELETE FROM site_pickup_hours WHERE authority_id = \(town.authorityID)")
            try c.execute("DELETE FROM site_exception WHERE authority_id = \(town.authorityID)")
            for (weekday, opens, closes) in hours {
                try c.execute("""
                    INSERT INTO site_pickup_hours (authority_id, site_id, weekday, opens, closes)
                    VALUES (\(town.authorityID), \(town.siteID), \(weekday)::int2, \(opens)::time, \(closes)::time)
                    """)
            }
            for (day, closed, opens, closes) in exceptions {
                try c.execute("""
                    INSERT INTO site_exception (authority_id, site_id, day, closed, opens, closes)
                    VALUES (\(town.authorityID), \(town.siteID), \(day)::date, \(closed), \(opens)::time, \(closes)::time)
                    """)
            }
        }
    }

    static func window(_ app: Application, _ town: AuthorityFixture, at instant: String) throws -> [String?] {
        let row = try #require(try app.pool.query("""
            SELECT open::text, to_char(open_from AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), to_char(open_until AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')
            FROM site_open_window(\(town.authorityID), \(town.siteID), \(instant)::timestamptz)
            """).first)
        return [try row.decode(String?.self, at: 0), try row.decode(String?.self, at: 1), try row.decode(String?.self, at: 2)]
    }

    @Test func theIntervalDecision_agreesWithTheTables_acrossDaylightSavingChanges() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        // Open around the clock: an interval each day, except on the two days with a change, which have none.
        try Self.setHours(app, town, (1...7).map { ($0, "00:00", "24:00") })
        var result = try Self.compare(app, town)
        #expect(result.instants == 1165 + 1177)
        #expect(result.disagreements == 0 && result.outsideTheirInterval == 0 && result.closedInsideAnInterval == 0, "\(result)")
        #expect(result.open == result.instants)
        #expect(result.openWithoutInterval == 276 + 300, "the 23- and the 25-hour Sunday")
        // Office hours with overlaps and a gap, a closed day and a day of its own hours.
        try Self.setHours(app, town, (1...5).flatMap { [($0, "08:00", "12:00"), ($0, "10:00", "14:00"), ($0, "15:00", "18:30")] } + [(6, "09:00", "13:00")],
                          exceptions: [("2026-03-27", true, nil, nil), ("2026-10-23", false, "07:00", "09:00")])
        result = try Self.compare(app, town)
        #expect(result.disagreements == 0 && result.outsideTheirInterval == 0 && result.closedInsideAnInterval == 0, "\(result)")
        #expect(result.open > 0 && result.openWithoutInterval == 0, "\(result)")
        // Of two overlapping intervals, the one that lasts longer; the exception's own hours; a closed day.
        #expect(try Self.window(app, town, at: "2026-03-30 09:00 Europe/Berlin") == ["true", "2026-03-30 06:00", "2026-03-30 10:00"])
        #expect(try Self.window(app, town, at: "2026-03-30 11:00 Europe/Berlin") == ["true", "2026-03-30 08:00", "2026-03-30 12:00"])
        #expect(try Self.window(app, town, at: "2026-10-23 08:59 Europe/Berlin") == ["true", "2026-10-23 05:00", "2026-10-23 07:00"])
        #expect(try Self.window(app, town, at: "2026-10-23 10:00 Europe/Berlin") == ["false", nil, nil])
        #expect(try Self.window(app, town, at: "2026-03-27 10:00 Europe/Berlin") == ["false", nil, nil])
        // Sunday hours across the changes themselves (02:00 → 03:00 in March, 03:00 → 02:00 in October): an
        // interval that ends in the skipped or the repeated hour would be wrong in part, so none is given.
        try Self.setHours(app, town, [(7, "00:00", "00:30"), (7, "01:00", "02:15"), (7, "03:45", "05:00"), (7, "06:00", "24:00")])
        result = try Self.compare(app, town)
        #expect(result.disagreements == 0 && result.outsideTheirInterval == 0 && result.closedInsideAnInterval == 0, "\(result)")
        #expect(result.open > 0 && result.openWithoutInterval > 0, "\(result)")
        #expect(try Self.window(app, town, at: "2026-03-29 01:45 Europe/Berlin") == ["true", nil, nil])
        #expect(try Self.window(app, town, at: "2026-03-29 12:00 Europe/Berlin") == ["true", "2026-03-29 04:00", "2026-03-29 22:00"])
        #expect(try Self.window(app, town, at: "2026-10-25 00:15 Europe/Berlin") == ["true", "2026-10-24 22:00", "2026-10-24 22:30"])
        #expect(try Self.window(app, town, at: "2026-10-25 01:30 Europe/Berlin") == ["true", nil, nil])
    }

    /// The box's row, read as the steps read it.
    static func remembered(_ app: Application, _ box: UUID) throws -> Bool {
        try #require(try app.pool.query("SELECT pickups_open_until IS NOT NULL FROM box WHERE id = \(box)").first).decode(Bool.self, at: 0)
    }

    static func start(_ app: Application, _ token: String, _ pin: String) -> (Int, String?, String?) { start(app.port, token, pin) }

    static func start(_ port: Int, _ token: String, _ pin: String) -> (Int, String?, String?) {
        let (status, json, _) = boxPost(port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": number, "pin": pin])
        return (status, json["error"] as? String, json["pickupId"] as? String)
    }

    /// In UTC, which has no daylight-saving change, so an interval is remembered whenever the test runs.
    static func setUpInUTC() throws -> (Application, AuthorityFixture, UUID, String, LoadedDocument) {
        let (app, town, box, token) = try PickupTests.setUp()
        try app.pool.execute("UPDATE site SET time_zone = 'UTC' WHERE id = \(town.siteID)")
        return (app, town, box, token, try LoadedDocument.make(app, town, box: box, token: token, document: 801))
    }

    @Test func aStepRemembersTheInterval_andEveryChangeToWhatItReadsForgetsIt() throws {
        let (app, town, box, token, doc) = try Self.setUpInUTC()
        defer { app.shutdown() }
        let chef = try town.login(app, as: "chef")
        #expect(try !Self.remembered(app, box))
        #expect(Self.start(app, token, doc.pin).0 == 201)
        #expect(try Self.remembered(app, box))

        // The weekly hours replaced by a supervisor (the same hours: still forgotten, and remembered again).
        let allWeek: [[String: Any]] = (1...7).map { ["weekday": $0, "opens": "00:00", "closes": "24:00"] }
        #expect(chef.json("PUT", "/api/v1/sites/\(town.siteID)/hours", json: ["hours": allWeek]).0 == 200)
        #expect(try !Self.remembered(app, box))
        #expect(Self.start(app, token, doc.pin).0 == 201)
        #expect(try Self.remembered(app, box))

        // A closed day (today and tomorrow, in case the test runs across midnight): refused at both steps.
        let (_, _, pickup) = Self.start(app, token, doc.pin)
        let days = try app.pool.query("SELECT d::date::text FROM generate_series(now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC' + interval '1 day', interval '1 day') d")
            .map { try $0.decode(String.self, at: 0) }
        for day in days {
            #expect(chef.json("POST", "/api/v1/sites/\(town.siteID)/exceptions", json: ["day": day, "closed": true]).0 == 201)
        }
        #expect(try !Self.remembered(app, box))
        let closed = Self.start(app, token, doc.pin)
        #expect(closed.0 == 409 && closed.1 == "outside_pickup_hours")
        let factors = boxPost(app.port, token: token, "/api/v1/box/pickups/\(try #require(pickup))/factors",
                              json: ["pinLetterConfirmed": true, "dateOfBirth": "15.03.1990"])
        #expect(factors.0 == 409 && factors.1["error"] as? String == "outside_pickup_hours")
        #expect(try !Self.remembered(app, box), "a closed site remembers nothing")
        for day in days {
            #expect(chef.json("DELETE", "/api/v1/sites/\(town.siteID)/exceptions/\(day)").0 == 204)
        }
        #expect(Self.start(app, token, doc.pin).0 == 201)
        #expect(try Self.remembered(app, box))

        // The site's time zone, and the box moved to another site and back.
        try app.pool.execute("UPDATE site SET time_zone = 'Etc/GMT-1' WHERE id = \(town.siteID)")
        #expect(try !Self.remembered(app, box))
        #expect(Self.start(app, token, doc.pin).0 == 201)
        #expect(try Self.remembered(app, box))
        let other = UUID()
        try app.pool.execute("INSERT INTO site (authority_id, id, name, address, land) VALUES (\(town.authorityID), \(other), 'Rathaus', 'Markt 2', 'NW')")
        try app.pool.execute("UPDATE box SET site_id = \(other) WHERE id = \(box)")
        #expect(try !Self.remembered(app, box))
        try app.pool.execute("UPDATE box SET site_id = \(town.siteID) WHERE id = \(box)")
        // Another site's hours changing leaves this box's interval alone.
        #expect(Self.start(app, token, doc.pin).0 == 201)
        try app.pool.execute("INSERT INTO site_pickup_hours (authority_id, site_id, weekday, opens, closes) VALUES (\(town.authorityID), \(other), 1::int2, '08:00', '12:00')")
        #expect(try Self.remembered(app, box))
    }

    /// Opens a transaction on one connection and does `hold` in it, runs `other` on another thread and
    /// waits (at most 10 s) until a statement starting with one of `prefixes` waits for a lock; then does
    /// `beforeCommit`, commits and waits (at most 10 s) for `other` to end. Whether the wait was seen.
    static func whileHolding(_ app: Application, _ hold: (PostgresConnection) throws -> Void, other: @escaping @Sendable () -> Void,
                             waitingFor prefixes: [String], beforeCommit: (PostgresConnection) throws -> Void = { _ in }) throws -> Bool {
        let finished = DispatchSemaphore(value: 0)
        let seen = try app.pool.withConnection { c in
            try c.simpleQuery("BEGIN")
            try hold(c)
            Thread {
                other()
                finished.signal()
            }.start()
            let seen = try waitsForALock(c, prefixes)
            try beforeCommit(c)
            try c.simpleQuery("COMMIT")
            return seen
        }
        #expect(finished.wait(timeout: .now() + 10) == .success)
        return seen
    }

    /// `c` is inside a transaction, which would see one snapshot of the activity: cleared before each look.
    static func waitsForALock(_ c: PostgresConnection, _ prefixes: [String]) throws -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            try c.query("SELECT pg_stat_clear_snapshot()")
            let waiting = try c.query("""
                SELECT query FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
                """).map { try $0.decode(String.self, at: 0) }
            if waiting.contains(where: { query in prefixes.contains { query.hasPrefix($0) } }) { return true }
            usleep(20_000)
        }
        return false
    }

    @Test func aChangeWhileAStepHoldsTheBox_forgetsTheStepsIntervalAfterIt() throws {
        let (app, town, box, token, doc) = try Self.setUpInUTC()
        defer { app.shutdown() }
        let authority = town.authorityID, pool = app.pool
        // A step that decided from the hours before the change: it holds the box, the change waits; the
        // step writes its interval and commits.
        #expect(try Self.whileHolding(app, { step in try step.query("SELECT 1 FROM box WHERE id = \(box) FOR UPDATE") },
                                      other: { _ = try? pool.execute("DELETE FROM site_pickup_hours WHERE authority_id = \(authority)") },
                                      waitingFor: ["DELETE FROM site_pickup_hours"]) { step in
            try step.execute("UPDATE box SET pickups_open_from = now() - interval '1 hour', pickups_open_until = now() + interval '1 hour' WHERE id = \(box)")
        })
        #expect(try !Self.remembered(app, box))
        let closed = Self.start(app, token, doc.pin)
        #expect(closed.0 == 409 && closed.1 == "outside_pickup_hours")
    }

    /// Also when the box remembered nothing: the change still locks every box of the site.
    @Test func aStepWhileAChangeHoldsTheBox_decidesFromTheChangedHours() throws {
        let (app, town, box, token, doc) = try Self.setUpInUTC()
        defer { app.shutdown() }
        #expect(try !Self.remembered(app, box))
        let answer = SharedText()
        let port = app.port, pin = doc.pin
        // The step's call, or the admission before it when it writes the box's "seen".
        #expect(try Self.whileHolding(app, { change in try change.execute("DELETE FROM site_pickup_hours WHERE authority_id = \(town.authorityID)") },
                                      other: {
                                          let (status, error, _) = Self.start(port, token, pin)
                                          answer.set("\(status) \(error ?? "")")
                                      },
                                      waitingFor: ["SELECT s.outcome", "WITH b AS"]))
        #expect(answer.value == "409 outside_pickup_hours")
        #expect(try !Self.remembered(app, box))
    }

    /// A box moved into a site while a change to that site's hours is under way waits for the change: else
    /// a step at that box could remember an interval from the hours before the change, after it.
    @Test func aBoxMovedIntoASiteWhileItsHoursChange_waitsForTheChange() throws {
        let (app, town, box, token, doc) = try Self.setUpInUTC()
        defer { app.shutdown() }
        let other = UUID()
        try app.pool.execute("INSERT INTO site (authority_id, id, name, address, time_zone, land) VALUES (\(town.authorityID), \(other), 'Rathaus', 'Markt 2', 'UTC', 'NW')")
        try app.pool.execute("UPDATE box SET site_id = \(other) WHERE id = \(box)")
        let pool = app.pool, site = town.siteID
        #expect(try Self.whileHolding(app, { change in
                                          try change.execute("DELETE FROM site_pickup_hours WHERE authority_id = \(town.authorityID) AND site_id = \(site)")
                                      },
                                      other: { _ = try? pool.execute("UPDATE box SET site_id = \(site) WHERE id = \(box)") },
                                      waitingFor: ["UPDATE box SET site_id"]))
        #expect(try app.pool.query("SELECT site_id FROM box WHERE id = \(box)").first?.decode(UUID.self, at: 0) == town.siteID)
        let closed = Self.start(app, token, doc.pin)
        #expect(closed.0 == 409 && closed.1 == "outside_pickup_hours")
        #expect(try !Self.remembered(app, box))
    }
}

extension OpenHoursTests {
    /// The forgetting needs each statement's own snapshot: a change in a REPEATABLE READ transaction is
    /// refused with a machine code, not half-done.
    @Test func aChangeOutsideReadCommitted_isRefused() throws {
        let (app, town, box, token, doc) = try Self.setUpInUTC()
        defer { app.shutdown() }
        #expect(Self.start(app, token, doc.pin).0 == 201)
        try app.pool.withConnection { c in
            try c.simpleQuery("BEGIN ISOLATION LEVEL REPEATABLE READ")
            do {
                try c.execute("DELETE FROM site_pickup_hours WHERE authority_id = \(town.authorityID)")
                Issue.record("the change was made")
            } catch let error as PostgresError {
                #expect(error.sqlState == "0A000", "\(error)")
            }
            try c.simpleQuery("ROLLBACK")
        }
        #expect(try Self.remembered(app, box))
        #expect(try PickupClaimTests.count(app, "SELECT count(*)::int8 FROM site_pickup_hours WHERE authority_id = \(town.authorityID)") == 7)
    }

    /// TRUNCATE fires no DELETE trigger; the owner's TRUNCATE of either table forgets every box's interval.
    @Test func theOwnersTruncate_forgetsEveryInterval() throws {
        let (app, town, box, token, doc) = try Self.setUpInUTC()
        defer { app.shutdown() }
        let database = try #require(try app.pool.query("SELECT current_database()").first?.decode(String.self, at: 0))
        let owner = try PostgresConnection.connect(try TestPostgres.shared().connectionString(database: database), logger: AppFixture.logger)
        defer { owner.close() }
        for table in ["site_exception", "site_pickup_hours"] {
            if table == "site_pickup_hours" { try town.openAllWeek(app) }
            #expect(Self.start(app, token, doc.pin).0 == 201)
            #expect(try Self.remembered(app, box))
            try owner.simpleQuery("TRUNCATE \(table)")
            #expect(try !Self.remembered(app, box), "\(table)")
        }
        let closed = Self.start(app, token, doc.pin)
        #expect(closed.0 == 409 && closed.1 == "outside_pickup_hours")
    }
}
