@testable import App
import Foundation
import HTTPTestSupport
import Postgres
import Testing

/// Per-site pickup settings, four-eyes loading with staff badges, and the retrieval list (docs/ARCHITECTURE.md#pickup, #loading, #deadline).
@Suite("Site pickup settings, four-eyes loading, retrieval list")
struct SiteSettingsTests {
    static var relaxed: [String: Any] { ["pinLetter": false, "secondFactor": "none", "oldDocument": false, "fourEyesLoading": false] }

    @Test func supervisorsChangeThePickupFactors_boxesSeeThem_andPickupsFollow() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let chef = try town.login(app, as: "chef")
        let anna = try town.login(app)
        #expect(anna.json("PUT", "/api/v1/sites/\(town.siteID)/pickup-settings", json: Self.relaxed).0 == 403)
        var wrong = Self.relaxed
        wrong["secondFactor"] = "fingerprint"
        #expect(chef.json("PUT", "/api/v1/sites/\(town.siteID)/pickup-settings", json: wrong).0 == 400)
        #expect(chef.json("PUT", "/api/v1/sites/\(town.siteID)/pickup-settings", json: ["pinLetter": false]).0 == 400)
        #expect(chef.json("PUT", "/api/v1/sites/\(UUID())/pickup-settings", json: Self.relaxed).0 == 404)
        var wrongType = Self.relaxed
        wrongType["pinLetter"] = "yes"
        #expect(chef.json("PUT", "/api/v1/sites/\(town.siteID)/pickup-settings", json: wrongType).1["error"] as? String == "invalid_type")
        wrong["secondFactor"] = "none'; DROP TABLE site; --"
        #expect(chef.json("PUT", "/api/v1/sites/\(town.siteID)/pickup-settings", json: wrong).1["error"] as? String == "invalid_value")

        let (_, before) = poll(app.port, token: token)
        let defaults = (before["configuration"] as? [String: Any])?["pickupSettings"] as? [String: Any]
        #expect(defaults?["secondFactor"] as? String == "date_of_birth_or_can")
        #expect(defaults?["pinLetter"] as? Bool == true)

        let (status, site) = chef.json("PUT", "/api/v1/sites/\(town.siteID)/pickup-settings", json: Self.relaxed)
        #expect(status == 200)
        #expect((site["pickupSettings"] as? [String: Any])?["secondFactor"] as? String == "none")
        let (_, after) = poll(app.port, token: token)
        let configuration = after["configuration"] as? [String: Any]
        #expect((configuration?["pickupSettings"] as? [String: Any])?["pinLetter"] as? Bool == false)
        let texts = configuration?["panelTexts"] as? [[String: Any]] ?? []
        #expect(!texts.isEmpty && texts.allSatisfy { ($0["texts"] as? [String: String])?["enterPin"]?.isEmpty == false })

        // Mobile number and PIN are then enough.
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 701)
        let (created, session, _) = boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": doc.pin])
        #expect(created == 201)
        #expect(session["factors"] as? [String] == [])
        #expect(try app.pool.query("SELECT count(*)::int8 FROM audit_event WHERE action = 'site.pickup_settings_changed'").first?.decode(Int.self, at: 0) == 1)
    }

    @Test func fourEyesLoading_needsTwoBadgesOfTwoActiveStaff() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let chef = try town.login(app, as: "chef")
        var settings = Self.relaxed
        settings["fourEyesLoading"] = true
        #expect(chef.json("PUT", "/api/v1/sites/\(town.siteID)/pickup-settings", json: settings).0 == 200)
        let users = try #require(chef.call("GET", "/api/v1/users").flatMap { try JSONSerialization.jsonObject(with: Data($0.body)) as? [[String: Any]] })
        let ids = Dictionary(uniqueKeysWithValues: users.compactMap { u in (u["username"] as? String).map { ($0, u["id"] as? String ?? "") } })
        let (badgeStatus, chefUser) = chef.json("PUT", "/api/v1/users/\(ids["chef"] ?? "")/badge", json: ["badge": "BADGE-0001"])
        #expect(badgeStatus == 200)
        #expect(chefUser["hasBadge"] as? Bool == true)
        #expect(chef.json("PUT", "/api/v1/users/\(ids["anna"] ?? "")/badge", json: ["badge": "BADGE-0001"]).0 == 409)
        #expect(chef.json("PUT", "/api/v1/users/\(ids["anna"] ?? "")/badge", json: ["badge": "x"]).0 == 400)
        for bad: Any in ["BADGE-٠٠٠٢", String(repeating: "B", count: 65), "BADGE 0002", 12345678] {
            let (status, body) = chef.json("PUT", "/api/v1/users/\(ids["anna"] ?? "")/badge", json: ["badge": bad])
            #expect(status == 400 && body["error"] != nil, "\(bad)")
        }
        #expect(chef.json("PUT", "/api/v1/users/\(ids["anna"] ?? "")/badge", json: ["badge": "BADGE-0002"]).0 == 200)
        #expect(try app.pool.query("SELECT count(*)::int8 FROM app_user WHERE badge_hash = convert_to('BADGE-0002', 'UTF8')").first?.decode(Int.self, at: 0) == 0,
                "only a keyed hash is stored")

        let client = try town.login(app)
        let (_, number) = try town.register(client)
        _ = client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "FE-1", "items": [["documentNumber": documentNumber(711), "vorgangsnummer": number]]])
        _ = box
        func load(_ badges: [String]?) -> (Int, [String: Any]) {
            var body: [String: Any] = ["documentNumber": documentNumber(711)]
            if let badges { body["staffBadges"] = badges }
            let (status, json, _) = boxPost(app.port, token: token, "/api/v1/box/loading", json: body)
            return (status, json)
        }
        #expect(load(nil).1["error"] as? String == "four_eyes_required")
        #expect(load(["BADGE-0001"]).0 == 403)
        #expect(load(["BADGE-0001", "BADGE-0001"]).1["error"] as? String == "four_eyes_required")
        #expect(load(["BADGE-0001", "BADGE-9999"]).1["error"] as? String == "unknown_badge")
        #expect(load(["BADGE-0001", "BADGE-0002", "BADGE-0003"]).0 == 400)
        #expect(load(["BADGE-0001", "' OR 1=1 --"]).1["error"] as? String == "invalid_badge")
        #expect(try app.pool.query("SELECT count(*)::int8 FROM assignment WHERE loading_authorised_by IS NOT NULL").first?.decode(Int.self, at: 0) == 0)

        let (loaded, instruction) = load(["BADGE-0002", "BADGE-0001"])
        #expect(loaded == 200, "\(instruction)")
        let authorised = try app.pool.query("SELECT loading_authorised_by FROM assignment").first?.decode([String].self, at: 0) ?? []
        #expect(Set(authorised.map { $0.lowercased() }) == Set([ids["chef"] ?? "", ids["anna"] ?? ""].map { $0.lowercased() }))
        #expect(try app.pool.query("SELECT count(*)::int8 FROM audit_event WHERE action = 'application.loading_authorised'").first?.decode(Int.self, at: 0) == 1)

        // A disabled colleague's badge no longer counts.
        #expect(chef.json("POST", "/api/v1/users/\(ids["anna"] ?? "")/disable", json: [:]).0 == 200)
        #expect(load(["BADGE-0002", "BADGE-0001"]).1["error"] as? String == "unknown_badge")
        #expect(chef.call("DELETE", "/api/v1/users/\(ids["chef"] ?? "")/badge")?.status == 204)
        #expect(chef.call("DELETE", "/api/v1/users/\(ids["chef"] ?? "")/badge")?.status == 404)
    }

    @Test func theRetrievalList_namesBoxCompartmentAndDocuments_asJSONAndCSV() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 721)
        _ = try LoadedDocument.make(app, town, box: box, token: token, document: 722)
        try app.pool.execute("""
            UPDATE assignment SET pin_expires_at = now() - interval '1 minute'
            WHERE id = (SELECT assignment_id FROM application WHERE id = \(UUID(uuidString: doc.applicationID) ?? UUID()))
            """)
        #expect(try app.deadlines.runOnce() == 1)
        let anna = try town.login(app)
        let (status, list) = anna.json("GET", "/api/v1/sites/\(town.siteID)/retrieval-list")
        #expect(status == 200)
        let items = list["items"] as? [[String: Any]] ?? []
        #expect(items.count == 1)
        #expect(items.first?["compartmentNumber"] as? Int == doc.compartment)
        #expect(items.first?["documentNumbers"] as? [String] == [documentNumber(721)])
        #expect(items.first?["reason"] as? String == "deadline_passed")
        let csv = try #require(anna.call("GET", "/api/v1/sites/\(town.siteID)/retrieval-list?format=csv"))
        #expect(csv.status == 200)
        #expect(csv.header("Content-Type")?.hasPrefix("text/csv") == true)
        #expect(csv.text.hasPrefix("box;compartment;documents;vorgangsnummern;reason;pickup_deadline\r\n"))
        #expect(csv.text.contains(documentNumber(721)) && !csv.text.contains(documentNumber(722)))
        #expect(!csv.text.contains("Mustermann"))
        #expect(anna.json("GET", "/api/v1/sites/\(town.siteID)/retrieval-list?format=pdf").0 == 400)
        #expect(anna.json("GET", "/api/v1/sites/\(town.siteID)/retrieval-list?format=csv%27%20OR%201=1").1["error"] as? String == "invalid_parameter")
        #expect(anna.json("GET", "/api/v1/sites/\(UUID())/retrieval-list").0 == 404)
        #expect(PrintableList.field("=HYPERLINK(\"x\")") == "\"'=HYPERLINK(\"\"x\"\")\"")
    }
}
