@testable import App
import Foundation
import HTTPTestSupport
import Postgres
import Testing

/// Issue 12 §4: `POST /box/loading` with a stolen box token tells nothing about other sites' documents,
/// and guessing badges (or document numbers) is throttled like PINs.
@Suite("Loading at the box against a stolen token")
struct BoxLoadingAbuseTests {
    @Test func aDocumentOfAnotherSite_isAnsweredLikeAnUnknownNumber() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        // A second site of the same authority with its own box; the document is delivered there.
        let otherSite = UUID()
        try app.pool.execute("""
            INSERT INTO site (authority_id, id, name, address, land) VALUES (\(town.authorityID), \(otherSite), 'Außenstelle', 'Weg 2, 44135 Dortmund', 'NW')
            """)
        let client = try town.login(app)
        let (_, number) = try town.register(client, ["siteId": otherSite.uuidString])
        _ = client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "X-1", "items": [["documentNumber": documentNumber(1230), "vorgangsnummer": number]]])
        let elsewhere = boxPost(app.port, token: token, "/api/v1/box/loading", json: ["documentNumber": documentNumber(1230)])
        let unknown = boxPost(app.port, token: token, "/api/v1/box/loading", json: ["documentNumber": documentNumber(1231)])
        #expect(elsewhere.0 == 404)
        #expect(elsewhere.0 == unknown.0)
        #expect(elsewhere.2?.text == unknown.2?.text)
        #expect(elsewhere.1["error"] as? String == "unknown_document")
        _ = box
    }

    @Test func guessingBadges_blocksLoadingAtTheBox_atExactlyTheLimit_evenForTheRightBadges() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let chef = try town.login(app, as: "chef")
        var settings = SiteSettingsTests.relaxed
        settings["fourEyesLoading"] = true
        #expect(chef.json("PUT", "/api/v1/sites/\(town.siteID)/pickup-settings", json: settings).0 == 200)
        let users = chef.list("/api/v1/users")
        for (user, badge) in [("chef", "BADGE-2001"), ("anna", "BADGE-2002")] {
            let id = users.first { $0["username"] as? String == user }?["id"] as? String ?? ""
            #expect(chef.json("PUT", "/api/v1/users/\(id)/badge", json: ["badge": badge]).0 == 200)
        }
        let (_, number) = try town.register(chef)
        _ = chef.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "B-1", "items": [["documentNumber": documentNumber(1240), "vorgangsnummer": number]]])
        let port = app.port
        DispatchQueue.concurrentPerform(iterations: 40) { i in
            _ = boxPost(port, token: token, "/api/v1/box/loading", json: ["documentNumber": documentNumber(1240), "staffBadges": ["BADGE-2001", "GUESS-\(i)"]])
        }
        let outcomes = try app.pool.query("SELECT outcome, count(*)::int8 FROM box_loading_attempt WHERE box_id = \(box) GROUP BY outcome")
            .reduce(into: [String: Int]()) { $0[try $1.decode(String.self, at: 0)] = try $1.decode(Int.self, at: 1) }
        let limit = app.configuration.pickupLimits.perBox
        #expect(outcomes["badge_refused"] == limit + 1)
        #expect(outcomes["throttled"] == 40 - (limit + 1))
        let (status, error, reply) = boxPost(port, token: token, "/api/v1/box/loading", json: ["documentNumber": documentNumber(1240), "staffBadges": ["BADGE-2001", "BADGE-2002"]])
        #expect(status == 429)
        #expect(error["error"] as? String == "box_throttled")
        #expect(Int(reply?.header("Retry-After") ?? "") ?? 0 > 0)
        // Staff see it on the box; nothing was assigned or authorised meanwhile.
        #expect(chef.json("GET", "/api/v1/boxes/\(box)").1["loadingBlockedUntil"] != nil)
        #expect(try town.count(app, "SELECT count(*)::int8 FROM assignment WHERE loading_authorised_by IS NOT NULL") == 0)
        // Pickups at the box are not affected.
        #expect(chef.json("GET", "/api/v1/boxes/\(box)").1["pickupsBlockedUntil"] == nil)
    }
}
