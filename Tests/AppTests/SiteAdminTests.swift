@testable import App
import Foundation
import HTTPTestSupport
import Postgres
import Testing

@Suite("Sites API")
struct SiteAdminTests {
    nonisolated(unsafe) static let newSite: [String: Any] = ["name": "Rathaus Mitte", "address": "Friedensplatz 1, 44135 Dortmund", "land": "NW"]

    static func body(_ overrides: [String: Any]) -> [String: Any] {
        var body = newSite
        for (k, v) in overrides { body[k] = v }
        return body
    }

    @Test func createsASite_withDefaults_andCaseworkersSeeIt() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let chef = try town.login(app, as: "chef")
        let (status, site) = chef.json("POST", "/api/v1/sites", json: Self.newSite)
        #expect(status == 201)
        #expect(site["timeZone"] as? String == "Europe/Berlin")
        #expect(site["deadlineKind"] as? String == "working_days")
        #expect(site["deadlineDays"] as? Int == 10)
        #expect((site["hours"] as? [Any])?.isEmpty == true)
        let custom = chef.json("POST", "/api/v1/sites", json: Self.body(["name": "Außenstelle", "land": "BY", "timeZone": "Europe/Vienna",
                                                                         "deadlineKind": "calendar_days", "deadlineDays": 7]))
        #expect(custom.0 == 201)
        #expect(custom.1["deadlineKind"] as? String == "calendar_days")
        #expect(custom.1["deadlineDays"] as? Int == 7)
        let anna = try town.login(app)
        let sites = anna.list("/api/v1/sites")
        #expect(sites.map { $0["name"] as? String } == ["Außenstelle", "Bürgerhaus", "Rathaus Mitte"])
        let fixture = try #require(sites.first { $0["name"] as? String == "Bürgerhaus" })
        #expect((fixture["hours"] as? [[String: Any]])?.count == 5)
        #expect(try town.auditActions(app).filter { $0 == "site.created" }.count == 2)
    }

    @Test func storesSQLLikeText_verbatim() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let chef = try town.login(app, as: "chef")
        let (status, site) = chef.json("POST", "/api/v1/sites", json: Self.body(["name": HostileText.sqlLike, "address": "'; DELETE FROM site; --"]))
        #expect(status == 201)
        #expect(site["name"] as? String == HostileText.sqlLike)
        #expect(try town.count(app, "SELECT count(*)::int8 FROM site WHERE authority_id = \(town.authorityID)") == 2)
    }

    nonisolated(unsafe) static let invalid: [(String, [String: Any], String, String)] = [
        ("unknown Land", ["land": "XX"], "invalid_value", "land"),
        ("Land as number", ["land": 5], "invalid_type", "land"),
        ("lower-case Land", ["land": "nw"], "invalid_value", "land"),
        ("unknown time zone", ["timeZone": "Mars/Olympus_Mons"], "invalid_time_zone", "timeZone"),
        ("NUL in time zone", ["timeZone": "Europe/Berlin\u{0}"], "invalid_characters", "timeZone"),
        ("RTL override in time zone", ["timeZone": "Europe/\u{202E}Berlin"], "invalid_time_zone", "timeZone"),
        ("SQL in time zone", ["timeZone": "UTC'; DROP TABLE site; --"], "invalid_time_zone", "timeZone"),
        ("unknown deadline kind", ["deadlineKind": "weeks"], "invalid_value", "deadlineKind"),
        ("deadline 0 days", ["deadlineDays": 0], "out_of_range", "deadlineDays"),
        ("deadline 61 days", ["deadlineDays": 61], "out_of_range", "deadlineDays"),
        ("Arabic-Indic digits for days", ["deadlineDays": HostileText.arabicIndicDigits], "invalid_type", "deadlineDays"),
        
        ("NUL in name", ["name": HostileText.nul], "invalid_characters", "name"),
        ("RTL override in address", ["address": HostileText.rtlOverride], "invalid_characters", "address"),
        ("empty name", ["name": "  "], "missing_field", "name"),
        ("201-character name", ["name": String(repeating: "x", count: 201)], "too_long", "name"),
        ("name as number", ["name": 12], "invalid_type", "name"),
        ("unknown field", ["boxes": 3], "unknown_field", "boxes"),
    ]

    @Test func refusesInvalidSites_withA400NamingTheField() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let chef = try town.login(app, as: "chef")
        for (name, overrides, code, field) in Self.invalid {
            let (status, error) = chef.json("POST", "/api/v1/sites", json: Self.body(overrides))
            #expect(status == 400, "\(name)")
            #expect(error["error"] as? String == code, "\(name): \(error)")
            #expect(error["field"] as? String == field, "\(name)")
        }
        var missing = Self.newSite
        missing.removeValue(forKey: "land")
        #expect(chef.json("POST", "/api/v1/sites", json: missing).1["field"] as? String == "land")
        #expect(chef.json("POST", "/api/v1/sites", json: Self.body(["name": HostileText.huge])).0 == 413)
        // A fraction where a whole number belongs: the JSON decoder cannot name the field, but it is a 400.
        #expect(chef.json("POST", "/api/v1/sites", json: Self.body(["deadlineDays": 1.5])).0 == 400)
        #expect(try town.count(app, "SELECT count(*)::int8 FROM site WHERE authority_id = \(town.authorityID)") == 1)
    }

    @Test func refusesATakenSiteName_with409() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let chef = try town.login(app, as: "chef")
        let (status, error) = chef.json("POST", "/api/v1/sites", json: Self.body(["name": "Bürgerhaus"]))
        #expect(status == 409)
        #expect(error["error"] as? String == "site_name_taken")
        // Another authority may use the same name.
        let other = try AuthorityFixture.make(app)
        #expect(try other.login(app, as: "chef").json("POST", "/api/v1/sites", json: Self.newSite).0 == 201)
        #expect(chef.json("POST", "/api/v1/sites", json: Self.newSite).0 == 201)
    }

    @Test func replacesTheWeeklyHours_sortedAndWholesale() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let chef = try town.login(app, as: "chef")
        let hours: [[String: Any]] = [
            ["weekday": 2, "opens": "13:00", "closes": "18:30"], ["weekday": 2, "opens": "07:00", "closes": "13:00"],
            ["weekday": 6, "opens": "00:00", "closes": "24:00"],
        ]
        let (status, site) = chef.json("PUT", "/api/v1/sites/\(town.siteID)/hours", json: ["hours": hours])
        #expect(status == 200, "\(site)")
        let stored = try #require(site["hours"] as? [[String: Any]])
        #expect(stored.map { "\($0["weekday"] ?? "")@\($0["opens"] ?? "")-\($0["closes"] ?? "")" } == ["2@07:00-13:00", "2@13:00-18:30", "6@00:00-24:00"])
        #expect(try town.auditActions(app).last == "site.hours_replaced")
        let (cleared, empty) = chef.json("PUT", "/api/v1/sites/\(town.siteID)/hours", json: ["hours": []])
        #expect(cleared == 200)
        #expect((empty["hours"] as? [Any])?.isEmpty == true)
    }

    nonisolated(unsafe) static let invalidHours: [(String, [[String: Any]], String, String)] = [
        ("closes before opens", [["weekday": 1, "opens": "12:00", "closes": "08:00"]], "closes_before_opens", "hours[0].closes"),
        ("empty interval", [["weekday": 1, "opens": "08:00", "closes": "08:00"]], "closes_before_opens", "hours[0].closes"),
        ("overlap", [["weekday": 3, "opens": "08:00", "closes": "12:00"], ["weekday": 3, "opens": "11:59", "closes": "14:00"]], "overlapping_intervals", "hours[1]"),
        ("five intervals a day", (0..<5).map { ["weekday": 4, "opens": "0\($0):00", "closes": "0\($0):30"] }, "too_many_intervals", "hours[4]"),
        ("weekday 0", [["weekday": 0, "opens": "08:00", "closes": "12:00"]], "invalid_weekday", "hours[0].weekday"),
        ("weekday 8", [["weekday": 8, "opens": "08:00", "closes": "12:00"]], "invalid_weekday", "hours[0].weekday"),
        ("hour 25", [["weekday": 1, "opens": "08:00", "closes": "25:00"]], "invalid_time", "hours[0].closes"),
        ("opens at 24:00", [["weekday": 1, "opens": "24:00", "closes": "24:00"]], "invalid_time", "hours[0].opens"),
        ("single-digit hour", [["weekday": 1, "opens": "8:00", "closes": "12:00"]], "invalid_time", "hours[0].opens"),
        ("Arabic-Indic digits", [["weekday": 1, "opens": "٠٨:٠٠", "closes": "12:00"]], "invalid_time", "hours[0].opens"),
        ("seconds", [["weekday": 1, "opens": "08:00:00", "closes": "12:00"]], "invalid_time", "hours[0].opens"),
        ("NUL", [["weekday": 1, "opens": "08:00\u{0}", "closes": "12:00"]], "invalid_characters", "hours[0].opens"),
        ("SQL", [["weekday": 1, "opens": "08:00'::time); DROP TABLE site; --", "closes": "12:00"]], "invalid_time", "hours[0].opens"),
        ("weekday as string", [["weekday": "1", "opens": "08:00", "closes": "12:00"]], "invalid_type", "hours[0].weekday"),
        ("unknown field", [["weekday": 1, "opens": "08:00", "closes": "12:00", "boxId": "x"]], "unknown_field", "hours[0].boxId"),
    ]

    @Test func refusesInvalidHours_andKeepsTheOldOnes() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let chef = try town.login(app, as: "chef")
        for (name, hours, code, field) in Self.invalidHours {
            let (status, error) = chef.json("PUT", "/api/v1/sites/\(town.siteID)/hours", json: ["hours": hours])
            #expect(status == 400, "\(name)")
            #expect(error["error"] as? String == code, "\(name): \(error)")
            #expect(error["field"] as? String == field, "\(name)")
        }
        #expect(chef.json("PUT", "/api/v1/sites/\(town.siteID)/hours", json: ["hours": "08:00-12:00"]).1["error"] as? String == "invalid_type")
        #expect(try town.count(app, "SELECT count(*)::int8 FROM site_pickup_hours WHERE authority_id = \(town.authorityID)") == 5)
    }

    @Test func upsertsListsAndDeletesExceptions() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let chef = try town.login(app, as: "chef")
        let path = "/api/v1/sites/\(town.siteID)/exceptions"
        let (created, exception) = chef.json("POST", path, json: ["day": "2099-12-24", "closed": true, "note": "Heiligabend"])
        #expect(created == 201)
        #expect(exception["closed"] as? Bool == true)
        let (replaced, special) = chef.json("POST", path, json: ["day": "2099-12-24", "closed": false, "opens": "08:00", "closes": "12:00"])
        #expect(replaced == 200)
        #expect(special["opens"] as? String == "08:00")
        #expect(chef.json("POST", path, json: ["day": "2000-01-03", "closed": true]).0 == 201)
        // Only upcoming exceptions are listed.
        let site = try #require(try town.login(app).list("/api/v1/sites").first)
        let listed = try #require(site["exceptions"] as? [[String: Any]])
        #expect(listed.count == 1)
        #expect(listed.first?["day"] as? String == "2099-12-24")
        #expect(listed.first?["closes"] as? String == "12:00")
        #expect(listed.first?["note"] == nil)
        #expect(chef.call("DELETE", "\(path)/2099-12-24")?.status == 204)
        #expect(chef.json("DELETE", "\(path)/2099-12-24").0 == 404)
        #expect(chef.json("DELETE", "\(path)/not-a-day").0 == 404)
        let actions = try town.auditActions(app).filter { $0.hasPrefix("site.") }
        #expect(actions.suffix(4) == ["site.exception_added", "site.exception_changed", "site.exception_added", "site.exception_removed"], "\(actions)")
    }

    nonisolated(unsafe) static let invalidExceptions: [(String, [String: Any], String, String)] = [
        ("impossible date", ["day": "2099-02-30", "closed": true], "invalid_date", "day"),
        ("German date form", ["day": "24.12.2099", "closed": true], "invalid_date", "day"),
        ("Arabic-Indic digits", ["day": "٢٠٩٩-١٢-٢٤", "closed": true], "invalid_date", "day"),
        ("open without hours", ["day": "2099-12-24", "closed": false], "missing_field", "opens"),
        ("closed with hours", ["day": "2099-12-24", "closed": true, "opens": "08:00"], "not_applicable", "opens"),
        ("closes before opens", ["day": "2099-12-24", "closed": false, "opens": "12:00", "closes": "08:00"], "closes_before_opens", "closes"),
        ("RTL override in note", ["day": "2099-12-24", "closed": true, "note": HostileText.rtlOverride], "invalid_characters", "note"),
        ("NUL in note", ["day": "2099-12-24", "closed": true, "note": HostileText.nul], "invalid_characters", "note"),
        ("closed as string", ["day": "2099-12-24", "closed": "yes"], "invalid_type", "closed"),
        ("missing closed", ["day": "2099-12-24"], "missing_field", "closed"),
        ("unknown field", ["day": "2099-12-24", "closed": true, "holiday": true], "unknown_field", "holiday"),
    ]

    @Test func refusesInvalidExceptions_withA400NamingTheField() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let chef = try town.login(app, as: "chef")
        for (name, body, code, field) in Self.invalidExceptions {
            let (status, error) = chef.json("POST", "/api/v1/sites/\(town.siteID)/exceptions", json: body)
            #expect(status == 400, "\(name)")
            #expect(error["error"] as? String == code, "\(name): \(error)")
            #expect(error["field"] as? String == field, "\(name)")
        }
        #expect(chef.json("POST", "/api/v1/sites/\(town.siteID)/exceptions", json: ["day": "2099-12-24", "closed": true, "note": HostileText.huge]).0 == 413)
        #expect(try town.count(app, "SELECT count(*)::int8 FROM site_exception WHERE authority_id = \(town.authorityID)") == 0)
    }

    @Test func hidesOtherAuthoritiesSites_asNotFound() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let a = try AuthorityFixture.make(app)
        let b = try AuthorityFixture.make(app)
        let chefB = try b.login(app, as: "chef")
        let hours = ["hours": [["weekday": 1, "opens": "08:00", "closes": "12:00"]]]
        #expect(chefB.json("PUT", "/api/v1/sites/\(a.siteID)/hours", json: hours).0 == 404)
        #expect(chefB.json("POST", "/api/v1/sites/\(a.siteID)/exceptions", json: ["day": "2099-12-24", "closed": true]).0 == 404)
        _ = try a.login(app, as: "chef").json("POST", "/api/v1/sites/\(a.siteID)/exceptions", json: ["day": "2099-12-24", "closed": true])
        #expect(chefB.json("DELETE", "/api/v1/sites/\(a.siteID)/exceptions/2099-12-24").0 == 404)
        #expect(chefB.json("PUT", "/api/v1/sites/not-a-uuid/hours", json: hours).0 == 404)
        #expect(chefB.list("/api/v1/sites").map { $0["id"] as? String } == [b.siteID.uuidString.lowercased()])
        #expect(try a.count(app, "SELECT count(*)::int8 FROM site_pickup_hours WHERE authority_id = \(a.authorityID)") == 5)
        #expect(try a.count(app, "SELECT count(*)::int8 FROM site_exception WHERE authority_id = \(a.authorityID)") == 1)
    }
}
