@testable import App
import Foundation
import HTTPTestSupport
import Postgres
import Testing

/// Issue 12 §2: at a site that loads with four eyes, the door's `loaded` report is refused unless two
/// staff badges authorised the loading at `POST /box/loading`.
@Suite("Four-eyes loading at the door")
struct FourEyesLoadingTests {
    @Test func aBoxTokenAlone_cannotProduceAReadySMS_atAFourEyesSite() throws {
        let (app, town, _, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let chef = try town.login(app, as: "chef")
        var settings = SiteSettingsTests.relaxed
        settings["fourEyesLoading"] = true
        #expect(chef.json("PUT", "/api/v1/sites/\(town.siteID)/pickup-settings", json: settings).0 == 200)
        let users = chef.list("/api/v1/users")
        for (user, badge) in [("chef", "BADGE-1001"), ("anna", "BADGE-1002")] {
            let id = users.first { $0["username"] as? String == user }?["id"] as? String ?? ""
            #expect(chef.json("PUT", "/api/v1/users/\(id)/badge", json: ["badge": badge]).0 == 200)
        }
        // Delivered with the fee paid: the document is assigned a compartment of the box at once.
        let (applicationID, number) = try town.register(chef)
        _ = chef.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "FE-12", "items": [["documentNumber": documentNumber(1210), "vorgangsnummer": number]]])
        let compartment = try #require(chef.json("GET", "/api/v1/applications/\(applicationID)").1["assignment"] as? [String: Any])["compartmentNumber"] as? Int

        // The box reports the door closed without anyone having badged in: refused, nothing happens.
        let (status, error, _) = boxPost(app.port, token: token, "/api/v1/box/events", json: ["eventId": "fe-1", "kind": "loaded", "compartmentNumber": compartment ?? 0])
        #expect(status == 409)
        #expect(error["error"] as? String == "four_eyes_missing")
        #expect(chef.json("GET", "/api/v1/applications/\(applicationID)").1["state"] as? String == "assigned")
        #expect(try town.count(app, "SELECT count(*)::int8 FROM sms_message") == 0)
        #expect(try town.count(app, "SELECT count(*)::int8 FROM assignment WHERE pin_digest IS NOT NULL OR pin_hmac IS NOT NULL") == 0)
        #expect(try town.auditActions(app).contains("assignment.loaded_refused_four_eyes"))
        let metrics = try TestClient(port: app.port).request("GET", "/metrics")?.text ?? ""
        #expect(metrics.contains("box_loading_four_eyes_refused_total 1"))

        // With two badges at the box, the same document loads and its PIN goes out.
        let (loading, instruction, _) = boxPost(app.port, token: token, "/api/v1/box/loading",
                                                json: ["documentNumber": documentNumber(1210), "staffBadges": ["BADGE-1001", "BADGE-1002"]])
        #expect(loading == 200, "\(instruction)")
        let (loaded, result, _) = boxPost(app.port, token: token, "/api/v1/box/events", json: ["eventId": "fe-2", "kind": "loaded", "compartmentNumber": compartment ?? 0])
        #expect(loaded == 200, "\(result)")
        #expect(result["state"] as? String == "ready_in_box")
        #expect(try town.count(app, "SELECT count(*)::int8 FROM sms_message WHERE template = 'ready_in_box'") == 1)
    }
}
