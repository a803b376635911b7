@testable import App
import Foundation
import HTTPServer
import HTTPTestSupport
import Postgres
import Testing

@Suite("Pickup and retrieval events")
struct PickupEventTests {
    func event(_ port: Int, _ token: String, _ id: String, _ kind: String, _ compartment: Int, fault: String? = nil) -> (Int, [String: Any]) {
        var body: [String: Any] = ["eventId": id, "kind": kind, "compartmentNumber": compartment]
        if let fault { body["fault"] = fault }
        let (status, object, _) = boxPost(port, token: token, "/api/v1/box/events", json: body)
        return (status, object)
    }

    func verify(_ app: Application, _ doc: LoadedDocument, factors: [String: Any]) throws {
        let (_, session, _) = boxPost(app.port, token: doc.token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": doc.pin])
        let (status, _, _) = boxPost(app.port, token: doc.token, "/api/v1/box/pickups/\(session["pickupId"] as? String ?? "")/factors", json: factors)
        #expect(status == 200)
    }

    @Test func completesThePickup_withTheRequiredEvents_andHandsOver() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 201)
        #expect(event(app.port, token, "e0", "opened", doc.compartment).0 == 409)   // no verified pickup yet
        try verify(app, doc, factors: ["pinLetterConfirmed": true, "dateOfBirth": "15.03.1990"])
        #expect(event(app.port, token, "e1", "closed", doc.compartment).0 == 409)   // closed before opened
        #expect(event(app.port, token, "e2", "opened", doc.compartment).0 == 200)
        #expect(event(app.port, token, "e3", "closed", doc.compartment).0 == 409)   // document still inside
        #expect(event(app.port, token, "e4", "document_removed", doc.compartment).0 == 200)
        let (status, result) = event(app.port, token, "e5", "closed", doc.compartment)
        #expect(status == 200)
        #expect(result["state"] as? String == "collected")
        let client = try town.login(app)
        let application = client.json("GET", "/api/v1/applications/\(doc.applicationID)").1
        #expect(application["state"] as? String == "collected")
        #expect(application["collectedAt"] != nil)
        // The changes, not the reads (the GET above is audited as `application.read`).
        let actions = try app.pool.query("""
            SELECT action FROM audit_event WHERE entity_id = \(UUID(uuidString: doc.applicationID) ?? UUID()) AND action <> ALL(\(Audit.readActions)::text[]) ORDER BY id
            """).map { try $0.decode(String.self, at: 0) }
        #expect(actions.suffix(2) == ["application.collected", "application.handed_over"])
        let free = try app.pool.query("SELECT state FROM compartment WHERE box_id = \(box) AND number = \(doc.compartment)").first?.decode(String.self, at: 0)
        #expect(free == "available")
        // The PIN is gone with the pickup.
        #expect(boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": doc.pin]).0 == 403)
    }

    @Test func renewal_needsTheOldDocumentDestroyed() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, ["issuance": "renewal", "oldDocumentCan": "123456"], document: 202)
        try verify(app, doc, factors: ["pinLetterConfirmed": true, "can": "123456", "oldDocumentInserted": true])
        #expect(event(app.port, token, "r1", "opened", doc.compartment).0 == 200)
        #expect(event(app.port, token, "r2", "document_removed", doc.compartment).0 == 200)
        #expect(event(app.port, token, "r3", "closed", doc.compartment).0 == 409)
        #expect(event(app.port, token, "r4", "old_document_destroyed", doc.compartment).0 == 200)
        #expect(event(app.port, token, "r5", "closed", doc.compartment).1["state"] as? String == "collected")
    }

    @Test func retrieval_movesTheDocumentToTheCounter_andTellsTheApplicant() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 203)
        #expect(event(app.port, token, "t0", "retrieved", doc.compartment).0 == 409)
        try app.pool.execute("UPDATE assignment SET status = 'retrieval_due' WHERE status = 'loaded'")
        try app.pool.execute("UPDATE application SET state = 'retrieval_due' WHERE state = 'ready_in_box'")
        let (status, result) = event(app.port, token, "t1", "retrieved", doc.compartment)
        #expect(status == 200)
        #expect(result["state"] as? String == "ready_at_counter")
        let templates = try app.pool.query("SELECT template FROM sms_message ORDER BY created_at").map { try $0.decode(String.self, at: 0) }
        #expect(templates == ["ready_in_box", "moved_to_counter"])
    }

    @Test func recordsFaults_andRefusesUnknownOnes() throws {
        let (app, _, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        _ = box
        #expect(event(app.port, token, "f1", "fault", 1, fault: "door_jammed").1["state"] as? String == "fault_recorded")
        #expect(event(app.port, token, "f2", "fault", 1, fault: "gremlins").0 == 400)
        #expect(event(app.port, token, "f3", "teleported", 1).0 == 400)
    }
}
