@testable import App
import Foundation
import HTTPTestSupport
import Postgres
import Testing

@Suite("Handover at the counter")
struct CounterHandoverAPITests {
    /// A counter pickup whose document arrived: `ready_at_counter`.
    static func readyAtCounter(_ app: Application, _ town: AuthorityFixture, _ client: StaffClient, document: Int, _ overrides: [String: Any] = [:]) throws -> String {
        var body: [String: Any] = ["pickupMethod": "counter"]
        for (k, v) in overrides { body[k] = v }
        let (id, number) = try town.register(client, body)
        let (status, _) = client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "H-\(document)", "items": [["documentNumber": documentNumber(document), "vorgangsnummer": number]]])
        #expect(status == 201)
        #expect(client.json("GET", "/api/v1/applications/\(id)").1["state"] as? String == "ready_at_counter")
        return id
    }

    @Test func proxy_withoutIdentityOrPowerOfAttorney_isRefusedAtTheField_thenHandedOver() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let client = try town.login(app)
        let id = try Self.readyAtCounter(app, town, client, document: 701)
        let path = "/api/v1/applications/\(id)/handover"

        var (status, error) = client.json("POST", path, json: ["collectedBy": "proxy", "proxyName": "Eva Muster", "powerOfAttorneyChecked": true, "identityChecked": false])
        #expect(status == 400)
        #expect(error["error"] as? String == "identity_not_checked")
        #expect(error["field"] as? String == "identityChecked")
        (status, error) = client.json("POST", path, json: ["collectedBy": "proxy", "proxyName": " ", "identityChecked": true])
        #expect(error["error"] as? String == "proxy_name_missing")
        (status, error) = client.json("POST", path, json: ["collectedBy": "proxy", "proxyName": "Eva Muster", "identityChecked": true])
        #expect(error["error"] as? String == "power_of_attorney_missing")
        (status, error) = client.json("POST", path, json: ["collectedBy": "neighbour", "identityChecked": true])
        #expect(status == 400 && error["field"] as? String == "collectedBy")
        // Nothing changed by the refusals.
        #expect(client.json("GET", "/api/v1/applications/\(id)").1["state"] as? String == "ready_at_counter")

        let (done, application) = client.json("POST", path, json: ["collectedBy": "proxy", "proxyName": "Eva Muster", "powerOfAttorneyChecked": true, "identityChecked": true])
        #expect(done == 200, "\(application)")
        #expect(application["state"] as? String == "collected")
        #expect(application["collectedAt"] != nil)
        #expect((application["handover"] as? [String: Any])?["recipient"] as? String == "proxy")
        #expect((application["handover"] as? [String: Any])?["proxyName"] as? String == "Eva Muster")
        // The timeline names the handover, without the proxy's name.
        let events = try #require(client.call("GET", "/api/v1/applications/\(id)/events"))
        #expect(events.text.contains("application.handed_over"))
        #expect(!events.text.contains("Eva Muster"))
        // Once collected, no second handover.
        let (again, conflict) = client.json("POST", path, json: ["collectedBy": "applicant", "identityChecked": true])
        #expect(again == 409)
        #expect(conflict["state"] as? String == "collected")
    }

    @Test func renewalNeedsTheOldDocument_andAnOpenFeeMustBePaid() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let client = try town.login(app)
        let id = try Self.readyAtCounter(app, town, client, document: 702, ["issuance": "renewal", "feeSettled": false])
        let path = "/api/v1/applications/\(id)/handover"
        var (_, error) = client.json("POST", path, json: ["collectedBy": "applicant", "identityChecked": true])
        #expect(error["error"] as? String == "old_document_not_collected")
        (_, error) = client.json("POST", path, json: ["collectedBy": "applicant", "identityChecked": true, "oldDocumentCollected": true])
        #expect(error["error"] as? String == "fee_not_settled")
        #expect(error["field"] as? String == "feeSettled")
        let (status, application) = client.json("POST", path, json: ["collectedBy": "applicant", "identityChecked": true, "oldDocumentCollected": true, "feeSettled": true])
        #expect(status == 200)
        #expect((application["fee"] as? [String: Any])?["settled"] as? Bool == true)
        #expect((application["handover"] as? [String: Any])?["proxyName"] == nil)
    }

    @Test func refusedInEveryOtherState_andForAnotherAuthority() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let client = try town.login(app)
        let (registered, _) = try town.register(client)
        let (status, error) = client.json("POST", "/api/v1/applications/\(registered)/handover", json: ["collectedBy": "applicant", "identityChecked": true])
        #expect(status == 409)
        #expect(error["error"] as? String == "illegal_transition")
        #expect(error["state"] as? String == "registered")
        let other = try AuthorityFixture.make(app)
        let stranger = try other.login(app)
        let id = try Self.readyAtCounter(app, town, client, document: 703)
        #expect(stranger.json("POST", "/api/v1/applications/\(id)/handover", json: ["collectedBy": "applicant", "identityChecked": true]).0 == 404)
    }
}
