@testable import App
import Crypto
import Domain
import Foundation
import HTTPTestSupport
import Postgres
import Testing

@Suite("Boxes and compartments API")
struct BoxAdminTests {
    @Test func createsABox_andListsItWithCountsAndOnlineState() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let chef = try town.login(app, as: "chef")
        let (status, box) = chef.json("POST", "/api/v1/boxes", json: ["siteId": town.siteID.uuidString, "name": "Foyer", "panelLanguages": ["de", "en", "ar", "tr"]])
        #expect(status == 201)
        let id = try #require(box["id"] as? String)
        #expect(box["panelLanguages"] as? [String] == ["de", "en", "ar", "tr"])
        #expect(box["hasToken"] as? Bool == false)
        #expect(box["online"] as? Bool == false)
        #expect(chef.call("GET", "/api/v1/boxes/\(id)")?.status == 200)
        _ = try town.makeBox(app, chef, name: "Eingang", rows: 2, columns: 3)
        let anna = try town.login(app)
        let boxes = anna.list("/api/v1/boxes")
        #expect(boxes.map { $0["name"] as? String } == ["Eingang", "Foyer"])
        let counts = boxes.first?["compartmentCounts"] as? [String: Int]
        #expect(counts == ["total": 6, "available": 6, "occupied": 0, "blocked": 0])
        #expect(boxes.last?["panelLanguages"] as? [String] == ["de", "en", "ar", "tr"])
        #expect(boxes.first?["compartments"] == nil)
        // Online means polled within 2 minutes.
        try app.pool.query("UPDATE box SET last_seen_at = now() - interval '90 seconds' WHERE authority_id = \(town.authorityID) AND name = 'Foyer'")
        try app.pool.query("UPDATE box SET last_seen_at = now() - interval '3 minutes' WHERE authority_id = \(town.authorityID) AND name = 'Eingang'")
        let polled = anna.list("/api/v1/boxes")
        #expect(polled.map { $0["online"] as? Bool } == [false, true])
        #expect(polled.allSatisfy { $0["lastSeenAt"] is String })
        #expect(try town.auditActions(app).contains("box.created"))
    }

    nonisolated(unsafe) static let invalidBoxes: [(String, [String: Any], Int, String, String)] = [
        ("not a UUID", ["siteId": "Bürgerhaus"], 400, "invalid_field", "siteId"),
        ("unknown site", ["siteId": UUID().uuidString], 400, "unknown_site", "siteId"),
        ("NUL in name", ["name": HostileText.nul], 400, "invalid_characters", "name"),
        ("RTL override in name", ["name": HostileText.rtlOverride], 400, "invalid_characters", "name"),
        ("101-character name", ["name": String(repeating: "x", count: 101)], 400, "too_long", "name"),
        ("upper-case language", ["panelLanguages": ["DE"]], 400, "invalid_language", "panelLanguages[0]"),
        ("duplicate language", ["panelLanguages": ["de", "de"]], 400, "duplicate_language", "panelLanguages[1]"),
        ("no language", ["panelLanguages": []], 400, "invalid_languages", "panelLanguages"),
        ("language as number", ["panelLanguages": [49]], 400, "invalid_type", "panelLanguages[0]"),
        ("unknown field", ["tokenHash": "00"], 400, "unknown_field", "tokenHash"),
        ("taken name", ["name": "Foyer"], 409, "box_name_taken", "name"),
    ]

    @Test func refusesInvalidBoxes() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let chef = try town.login(app, as: "chef")
        #expect(chef.json("POST", "/api/v1/boxes", json: ["siteId": town.siteID.uuidString, "name": "Foyer"]).0 == 201)
        for (name, overrides, status, code, field) in Self.invalidBoxes {
            var body: [String: Any] = ["siteId": town.siteID.uuidString, "name": "Box 2"]
            for (k, v) in overrides { body[k] = v }
            let (got, error) = chef.json("POST", "/api/v1/boxes", json: body)
            #expect(got == status, "\(name)")
            #expect(error["error"] as? String == code, "\(name): \(error)")
            #expect(error["field"] as? String == field, "\(name)")
        }
        let (sqlStatus, sqlBox) = chef.json("POST", "/api/v1/boxes", json: ["siteId": town.siteID.uuidString, "name": "x'); DROP TABLE box; --"])
        #expect(sqlStatus == 201)
        #expect(sqlBox["name"] as? String == "x'); DROP TABLE box; --")
        #expect(chef.json("POST", "/api/v1/boxes", json: ["siteId": town.siteID.uuidString, "name": HostileText.huge]).0 == 413)
        #expect(try town.count(app, "SELECT count(*)::int8 FROM box WHERE authority_id = \(town.authorityID)") == 2)
    }

    @Test func issuesATokenShownOnce_storingOnlyItsHash_andRotationReplacesIt() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let chef = try town.login(app, as: "chef")
        let id = try town.makeBox(app, chef)
        let first = try #require(chef.call("POST", "/api/v1/boxes/\(id)/token"))
        #expect(first.status == 200)
        #expect(first.header("Cache-Control") == "no-store")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(first.body)) as? [String: Any])
        let token = try #require(body["token"] as? String)
        // 256 bits, base64url without padding.
        #expect(token.utf8.count == 43)
        #expect(token.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F })
        let stored = try #require(try app.pool.query("SELECT token_hash FROM box WHERE authority_id = \(town.authorityID) AND id = \(UUID(uuidString: id)!)").first?.decode([UInt8].self, at: 0))
        #expect(stored == Crypto.sha256(Array(token.utf8)))
        #expect(stored != Array(token.utf8))
        // The box is found by the hash of the token it presents (as the box routes will do) …
        let found = try app.pool.query("SELECT id FROM box WHERE token_hash = \(Crypto.sha256(Array(token.utf8)))").first?.decode(UUID.self, at: 0)
        #expect(found == UUID(uuidString: id))
        // … and the token is never shown again.
        let (_, detail) = chef.json("GET", "/api/v1/boxes/\(id)")
        #expect(detail["hasToken"] as? Bool == true)
        #expect(chef.call("GET", "/api/v1/boxes")?.text.contains(token) == false)
        let (_, rotated) = chef.json("POST", "/api/v1/boxes/\(id)/token")
        let second = try #require(rotated["token"] as? String)
        #expect(second != token)
        let now = try app.pool.query("SELECT token_hash FROM box WHERE authority_id = \(town.authorityID)").first?.decode([UInt8].self, at: 0)
        #expect(now == Crypto.sha256(Array(second.utf8)))
        #expect(try app.pool.query("SELECT id FROM box WHERE token_hash = \(Crypto.sha256(Array(token.utf8)))").isEmpty)
        let audit = try app.pool.query("SELECT action, coalesce(detail::text, '') FROM audit_event WHERE authority_id = \(town.authorityID) AND action LIKE 'box.token%' ORDER BY id")
        #expect(try audit.map { try $0.decode(String.self, at: 0) } == ["box.token_issued", "box.token_rotated"])
        #expect(try audit.allSatisfy { row in let d = try row.decode(String.self, at: 1); return !d.contains(token) && !d.contains(second) })
    }

    @Test func laysOut456Compartments_inOneRequest_withTheLowRowsAccessible() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let chef = try town.login(app, as: "chef")
        let (_, box) = chef.json("POST", "/api/v1/boxes", json: ["siteId": town.siteID.uuidString, "name": "Magdeburg"])
        let id = try #require(box["id"] as? String)
        // 19 rows, top row first: 185 cm down to 5 cm.
        let heights = (0..<19).map { 185 - $0 * 10 }
        let started = Date()
        let (status, grid) = chef.json("POST", "/api/v1/boxes/\(id)/compartments", json: [
            "rows": 19, "columns": 24, "rowHeightsCm": heights, "sizeClasses": (0..<19).map { $0 < 3 ? 1 : ($0 < 16 ? 2 : 3) },
        ])
        let elapsed = Date().timeIntervalSince(started)
        #expect(status == 201, "\(grid)")
        #expect(elapsed < 30, "took \(elapsed) s")   // a hang guard; the one-INSERT speed is for benchmarks
        let compartments = try #require(grid["compartments"] as? [[String: Any]])
        #expect(compartments.count == 456)
        #expect(compartments.map { $0["number"] as? Int } == (1...456).map { $0 })
        let first = compartments[0], last = compartments[455], secondRow = compartments[24]
        #expect(first["row"] as? Int == 1 && first["column"] as? Int == 1 && first["floorHeightCm"] as? Int == 185)
        #expect(secondRow["row"] as? Int == 2 && secondRow["column"] as? Int == 1)
        #expect(last["row"] as? Int == 19 && last["column"] as? Int == 24 && last["floorHeightCm"] as? Int == 5 && last["sizeClass"] as? Int == 3)
        for c in compartments {
            let height = try #require(c["floorHeightCm"] as? Int)
            #expect(c["accessible"] as? Bool == CompartmentCandidate.isAccessible(floorHeightCm: height), "number \(c["number"] ?? "")")
            #expect(c["state"] as? String == "available")
        }
        // 45 … 105 cm: rows 9 to 15 from the top, 7 rows × 24.
        #expect(compartments.filter { $0["accessible"] as? Bool == true }.count == 168)
        #expect(compartments.filter { $0["accessible"] as? Bool == true }.allSatisfy { (9...15).contains($0["row"] as? Int ?? 0) })
        #expect((grid["compartmentCounts"] as? [String: Int])?["total"] == 456)
        #expect(try town.auditActions(app).last == "box.compartments_created")

        // The same numbers again: refused, nothing added.
        let (again, error) = chef.json("POST", "/api/v1/boxes/\(id)/compartments", json: ["rows": 1, "columns": 2, "startNumber": 456, "firstRow": 20, "rowHeightsCm": [0]])
        #expect(again == 409)
        #expect(error["error"] as? String == "compartment_numbers_taken")
        #expect(error["firstTakenNumber"] as? String == "456")
        // New numbers on occupied grid positions: refused too.
        let (overlap, positionError) = chef.json("POST", "/api/v1/boxes/\(id)/compartments", json: ["rows": 1, "columns": 2, "startNumber": 457, "rowHeightsCm": [200]])
        #expect(overlap == 409)
        #expect(positionError["error"] as? String == "compartment_positions_taken")
        // An extension module beside it.
        let (extended, module) = chef.json("POST", "/api/v1/boxes/\(id)/compartments", json: [
            "rows": 2, "columns": 2, "startNumber": 457, "firstColumn": 25, "rowHeightsCm": [100, 60], "sizeClass": 4,
        ])
        #expect(extended == 201)
        #expect((module["compartments"] as? [[String: Any]])?.last?["column"] as? Int == 26)
        #expect(try town.count(app, "SELECT count(*)::int8 FROM compartment WHERE authority_id = \(town.authorityID)") == 460)
    }

    nonisolated(unsafe) static let invalidLayouts: [(String, [String: Any], String, String)] = [
        ("no rows", ["rows": 0], "out_of_range", "rows"),
        ("101 columns", ["columns": 101], "out_of_range", "columns"),
        ("more than 2000", ["rows": 100, "columns": 21], "too_many_compartments", "columns"),
        ("heights count", ["rowHeightsCm": [100]], "wrong_count", "rowHeightsCm"),
        ("bottom row first", ["rowHeightsCm": [10, 60]], "row_heights_not_descending", "rowHeightsCm[1]"),
        ("equal heights", ["rowHeightsCm": [60, 60]], "row_heights_not_descending", "rowHeightsCm[1]"),
        ("301 cm", ["rowHeightsCm": [301, 60]], "out_of_range", "rowHeightsCm[0]"),
        ("negative height", ["rowHeightsCm": [60, -1]], "out_of_range", "rowHeightsCm[1]"),
        ("size class 6", ["sizeClass": 6], "out_of_range", "sizeClass"),
        ("size class 0 in a row", ["sizeClasses": [1, 0]], "out_of_range", "sizeClasses[1]"),
        ("both size forms", ["sizeClass": 1, "sizeClasses": [1, 1]], "conflicting_fields", "sizeClasses"),
        ("size classes count", ["sizeClasses": [1]], "wrong_count", "sizeClasses"),
        ("numbers beyond 10000", ["startNumber": 9998], "out_of_range", "startNumber"),
        ("start 0", ["startNumber": 0], "out_of_range", "startNumber"),
        ("Arabic-Indic digits", ["rows": HostileText.arabicIndicDigits], "invalid_type", "rows"),
        ("height as string", ["rowHeightsCm": ["100", "50"]], "invalid_type", "rowHeightsCm[0]"),
        ("SQL in rows", ["rows": "1; DROP TABLE compartment"], "invalid_type", "rows"),
        ("unknown field", ["accessibleRows": [1]], "unknown_field", "accessibleRows"),
    ]

    @Test func refusesInvalidLayouts_withA400NamingTheField() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let chef = try town.login(app, as: "chef")
        let (_, box) = chef.json("POST", "/api/v1/boxes", json: ["siteId": town.siteID.uuidString, "name": "Leer"])
        let id = try #require(box["id"] as? String)
        for (name, overrides, code, field) in Self.invalidLayouts {
            var body: [String: Any] = ["rows": 2, "columns": 3, "rowHeightsCm": [100, 60]]
            for (k, v) in overrides { body[k] = v }
            let (status, error) = chef.json("POST", "/api/v1/boxes/\(id)/compartments", json: body)
            #expect(status == 400, "\(name)")
            #expect(error["error"] as? String == code, "\(name): \(error)")
            #expect(error["field"] as? String == field, "\(name)")
        }
        #expect(chef.json("POST", "/api/v1/boxes/\(id)/compartments", json: ["rows": 1, "columns": 1, "rowHeightsCm": [1], "x": HostileText.huge]).0 == 413)
        #expect(chef.json("POST", "/api/v1/boxes/\(id)/compartments", json: ["rows": 2, "columns": 2.5, "rowHeightsCm": [100, 60]]).0 == 400)
        #expect(try town.count(app, "SELECT count(*)::int8 FROM compartment WHERE authority_id = \(town.authorityID)") == 0)
    }

    @Test func blocksAndUnblocksCompartments_asACaseworker() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let id = try town.makeBox(app, try town.login(app, as: "chef"))
        let anna = try town.login(app)
        let base = "/api/v1/boxes/\(id)/compartments"
        let (blocked, compartment) = anna.json("POST", "\(base)/3/block", json: ["reason": "defect", "note": "Tür klemmt"])
        #expect(blocked == 200)
        #expect(compartment["state"] as? String == "blocked")
        #expect(compartment["blockReason"] as? String == "defect")
        #expect(compartment["blockNote"] as? String == "Tür klemmt")
        let (again, error) = anna.json("POST", "\(base)/3/block", json: ["reason": "maintenance"])
        #expect(again == 409)
        #expect(error["error"] as? String == "compartment_already_blocked")
        #expect(error["state"] as? String == "blocked")
        let (_, grid) = anna.json("GET", "/api/v1/boxes/\(id)")
        #expect((grid["compartmentCounts"] as? [String: Int])?["blocked"] == 1)
        let (unblocked, free) = anna.json("POST", "\(base)/3/unblock")
        #expect(unblocked == 200)
        #expect(free["state"] as? String == "available")
        #expect(free["blockReason"] == nil)
        let (notBlocked, notBlockedError) = anna.json("POST", "\(base)/3/unblock")
        #expect(notBlocked == 409)
        #expect(notBlockedError["error"] as? String == "compartment_not_blocked")
        #expect(notBlockedError["state"] as? String == "available")
        // An occupied compartment cannot be blocked.
        try app.pool.query("UPDATE compartment SET state = 'occupied' WHERE authority_id = \(town.authorityID) AND number = 4")
        let (occupied, occupiedError) = anna.json("POST", "\(base)/4/block", json: ["reason": "maintenance"])
        #expect(occupied == 409)
        #expect(occupiedError["error"] as? String == "compartment_occupied")
        #expect(occupiedError["state"] as? String == "occupied")
        #expect(anna.json("POST", "\(base)/4/unblock").0 == 409)
        #expect(try town.auditActions(app).filter { $0.hasPrefix("compartment.") } == ["compartment.blocked", "compartment.unblocked"])
    }

    nonisolated(unsafe) static let invalidBlocks: [(String, String, [String: Any], Int, String?)] = [
        ("unknown reason", "1", ["reason": "broken"], 400, "reason"),
        ("reason as number", "1", ["reason": 1], 400, "reason"),
        ("other without note", "1", ["reason": "other"], 400, "note"),
        ("NUL in note", "1", ["reason": "defect", "note": HostileText.nul], 400, "note"),
        ("RTL override in note", "1", ["reason": "defect", "note": HostileText.rtlOverride], 400, "note"),
        ("201-character note", "1", ["reason": "defect", "note": String(repeating: "x", count: 201)], 400, "note"),
        ("unknown field", "1", ["reason": "defect", "state": "available"], 400, "state"),
        ("unknown number", "99", ["reason": "defect"], 404, nil),
        ("number 0", "0", ["reason": "defect"], 404, nil),
        ("Arabic-Indic number", "%D9%A3", ["reason": "defect"], 404, nil),
        ("SQL number", "1%20OR%201%3D1", ["reason": "defect"], 404, nil),
    ]

    @Test func refusesInvalidBlocks() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let id = try town.makeBox(app, try town.login(app, as: "chef"))
        let anna = try town.login(app)
        for (name, number, body, status, field) in Self.invalidBlocks {
            let (got, error) = anna.json("POST", "/api/v1/boxes/\(id)/compartments/\(number)/block", json: body)
            #expect(got == status, "\(name): \(error)")
            #expect(error["field"] as? String == field, "\(name)")
        }
        #expect(anna.json("POST", "/api/v1/boxes/\(id)/compartments/1/block", json: ["reason": "other", "note": HostileText.huge]).0 == 413)
        #expect(try town.count(app, "SELECT count(*)::int8 FROM compartment WHERE authority_id = \(town.authorityID) AND state = 'blocked'") == 0)
    }

    @Test func showsTheVorgangsnummerOfAnOccupiedCompartment_butNoNames() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let id = try town.makeBox(app, try town.login(app, as: "chef"))
        let anna = try town.login(app)
        let (_, application) = anna.json("POST", "/api/v1/applications", json: town.applicationBody())
        let number = try #require(application["vorgangsnummer"] as? String)
        let applicationID = try #require(UUID(uuidString: application["id"] as? String ?? ""))
        try app.pool.transaction { c in
            let compartment = try #require(try c.query("SELECT id FROM compartment WHERE authority_id = \(town.authorityID) AND number = 5").first?.decode(UUID.self, at: 0))
            let assignment = UUID()
            try c.execute("INSERT INTO assignment (authority_id, id, compartment_id, status) VALUES (\(town.authorityID), \(assignment), \(compartment), 'loaded')")
            try c.execute("UPDATE compartment SET state = 'occupied' WHERE authority_id = \(town.authorityID) AND id = \(compartment)")
            try c.execute("UPDATE application SET state = 'ready_in_box', assignment_id = \(assignment) WHERE authority_id = \(town.authorityID) AND id = \(applicationID)")
        }
        let reply = try #require(anna.call("GET", "/api/v1/boxes/\(id)"))
        #expect(reply.status == 200)
        #expect(!reply.text.contains("Yılmaz"))
        #expect(!reply.text.contains("Ayşe"))
        let grid = try #require((try JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any])?["compartments"] as? [[String: Any]])
        let five = try #require(grid.first { $0["number"] as? Int == 5 })
        #expect(five["state"] as? String == "occupied")
        #expect(five["vorgangsnummern"] as? [String] == [number])
        #expect(five["assignmentStatus"] as? String == "loaded")
        #expect(grid.filter { $0["number"] as? Int != 5 }.allSatisfy { ($0["vorgangsnummern"] as? [String])?.isEmpty == true })
    }

    @Test func hidesOtherAuthoritiesBoxes_asNotFound() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let a = try AuthorityFixture.make(app)
        let b = try AuthorityFixture.make(app)
        let id = try a.makeBox(app, try a.login(app, as: "chef"))
        let chefB = try b.login(app, as: "chef")
        #expect(chefB.json("GET", "/api/v1/boxes/\(id)").0 == 404)
        #expect(chefB.json("POST", "/api/v1/boxes/\(id)/compartments/1/block", json: ["reason": "defect"]).0 == 404)
        #expect(chefB.json("POST", "/api/v1/boxes/\(id)/compartments/1/unblock").0 == 404)
        #expect(chefB.json("POST", "/api/v1/boxes/\(id)/token").0 == 404)
        #expect(chefB.json("POST", "/api/v1/boxes/\(id)/compartments", json: ["rows": 1, "columns": 1, "startNumber": 50, "firstRow": 50, "rowHeightsCm": [80]]).0 == 404)
        #expect(chefB.json("GET", "/api/v1/boxes/not-a-uuid").0 == 404)
        // B cannot put a box into A's site.
        let (status, error) = chefB.json("POST", "/api/v1/boxes", json: ["siteId": a.siteID.uuidString, "name": "Fremd"])
        #expect(status == 400)
        #expect(error["error"] as? String == "unknown_site")
        #expect(chefB.list("/api/v1/boxes").isEmpty)
        #expect(try a.count(app, "SELECT count(*)::int8 FROM box WHERE token_hash IS NOT NULL") == 0)
        #expect(try a.count(app, "SELECT count(*)::int8 FROM compartment WHERE state <> 'available'") == 0)
    }
}
