@testable import App
import Foundation
import HTTPServer
import HTTPTestSupport
import Postgres
import Testing

/// Writers of a loaded document take its box first (docs/ARCHITECTURE.md#deadline), as a pickup's steps do:
/// while a connection holds the box as a step would, each writer waits for the box, and what the step
/// locks next (`NOWAIT`) is still free. A writer that took it first would hold what the step waits for.
@Suite("Lock order: the box first")
struct LockOrderTests {
    /// A pickup's step locks the box and then the assignment (Migrations/0028). A pass that moved the
    /// assignment first and locked its box after would hold what the step waits for: it locks the box first
    /// and waits for the step, which then gets the assignment at once (`NOWAIT`).
    @Test func aPassWhileAPickupHoldsTheBox_waitsForItAndLeavesTheAssignmentFree() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 303)
        try app.pool.execute("UPDATE assignment SET pin_expires_at = now() - interval '1 minute' WHERE status = 'loaded'")
        let moved = Mutex64(), scheduler = app.deadlines
        #expect(try OpenHoursTests.whileHolding(app, { step in try step.execute("SELECT 1 FROM box WHERE id = \(box) FOR UPDATE") },
                                                other: { moved.add(by: (try? scheduler.runOnce()) ?? 0) },
                                                waitingFor: ["SELECT b.id FROM box b"]) { step in
            try step.execute("SELECT 1 FROM assignment WHERE status = 'loaded' FOR UPDATE NOWAIT")
        })
        #expect(moved.value == 1)
        let state = try town.login(app).json("GET", "/api/v1/applications/\(doc.applicationID)").1["state"] as? String
        #expect(state == "retrieval_due")
    }

    /// Likewise a caseworker cancelling a loaded document while the person is at the box: the cancellation
    /// waits for the box before it locks the application or the assignment.
    @Test func aCancellationWhileAPickupHoldsTheBox_waitsForItAndLeavesTheAssignmentFree() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 304)
        let cancelled = Mutex64(), id = doc.applicationID
        #expect(try OpenHoursTests.whileHolding(app, { step in try step.execute("SELECT 1 FROM box WHERE id = \(box) FOR UPDATE") },
                                                other: {
                                                    let status = (try? town.login(app))?.json("POST", "/api/v1/applications/\(id)/cancel", json: ["reason": "zurückgenommen"]).0
                                                    if status == 200 { cancelled.add(by: 1) }
                                                },
                                                waitingFor: ["SELECT b.id FROM box b"]) { step in
            try step.execute("SELECT 1 FROM application WHERE id = \(UUID(uuidString: id) ?? UUID()) FOR UPDATE NOWAIT")
            try step.execute("SELECT 1 FROM assignment WHERE status = 'loaded' FOR UPDATE NOWAIT")
        })
        #expect(cancelled.value == 1)
        let status = try app.pool.query("SELECT status FROM assignment").first?.decode(String.self, at: 0)
        #expect(status == "retrieval_due")
    }

    /// The door's events after a verified pickup: the event waits for the box before it locks the assignment.
    @Test func aDoorEventWhileTheBoxIsHeld_waitsForItAndLeavesTheAssignmentFree() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 305)
        try PickupEventTests().verify(app, doc, factors: ["pinLetterConfirmed": true, "dateOfBirth": "15.03.1990"])
        // The event's admission writes the box's "seen" when it is older than 10 s, and would wait for the box there.
        try app.pool.execute("UPDATE box SET last_seen_at = now() WHERE id = \(box)")
        let answered = Mutex64(), port = app.port, compartment = doc.compartment
        #expect(try OpenHoursTests.whileHolding(app, { step in try step.execute("SELECT 1 FROM box WHERE id = \(box) FOR UPDATE") },
                                                other: {
                                                    let (status, _) = PickupEventTests().event(port, token, "lock-order-open", "opened", compartment)
                                                    if status == 200 { answered.add(by: 1) }
                                                },
                                                waitingFor: ["SELECT 1 FROM box", "INSERT INTO box_event"]) { step in
            try step.execute("SELECT 1 FROM assignment WHERE status = 'loaded' FOR UPDATE NOWAIT")
        })
        #expect(answered.value == 1)
        let opened = try app.pool.query("SELECT opened_at IS NOT NULL FROM assignment").first?.decode(Bool.self, at: 0)
        #expect(opened == true)
    }

    /// A new PIN for a document in the box: the box before the application and the assignment.
    @Test func aNewPinWhileTheBoxIsHeld_waitsForItAndLeavesTheApplicationFree() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 306)
        let sent = Mutex64(), id = doc.applicationID
        #expect(try OpenHoursTests.whileHolding(app, { step in try step.execute("SELECT 1 FROM box WHERE id = \(box) FOR UPDATE") },
                                                other: {
                                                    if (try? town.login(app))?.json("POST", "/api/v1/applications/\(id)/pin").0 == 200 { sent.add(by: 1) }
                                                },
                                                waitingFor: ["SELECT b.id FROM box b"]) { step in
            try step.execute("SELECT 1 FROM application WHERE id = \(UUID(uuidString: id) ?? UUID()) FOR UPDATE NOWAIT")
            try step.execute("SELECT 1 FROM assignment WHERE status = 'loaded' FOR UPDATE NOWAIT")
        })
        #expect(sent.value == 1)
        #expect(try SMSFixture.texts(app, where: "template = 'new_pin'").count == 1)
    }

    /// A supervisor approving a new PIN (asked for within a day of a number change): the box first too.
    @Test func approvingANewPinWhileTheBoxIsHeld_waitsForItAndLeavesTheApplicationFree() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 309)
        let applicationID = UUID(uuidString: doc.applicationID) ?? UUID()
        try app.pool.execute("UPDATE application SET mobile_number_changed_at = now() WHERE id = \(applicationID)")
        let (asked, request) = try town.login(app).json("POST", "/api/v1/applications/\(doc.applicationID)/pin")
        #expect(asked == 202)
        let approval = try #require(request["id"] as? String)
        let approved = Mutex64()
        #expect(try OpenHoursTests.whileHolding(app, { step in try step.execute("SELECT 1 FROM box WHERE id = \(box) FOR UPDATE") },
                                                other: {
                                                    if (try? town.login(app, as: "chef"))?.json("POST", "/api/v1/approvals/\(approval)/approve").0 == 200 { approved.add(by: 1) }
                                                },
                                                waitingFor: ["SELECT b.id FROM box b"]) { step in
            try step.execute("SELECT 1 FROM application WHERE id = \(applicationID) FOR UPDATE NOWAIT")
            try step.execute("SELECT 1 FROM assignment WHERE status = 'loaded' FOR UPDATE NOWAIT")
        })
        #expect(approved.value == 1)
        #expect(try SMSFixture.texts(app, where: "template = 'new_pin'").count == 1)
    }

    /// A delivery that names a document already in the box (it changes nothing there) and gives another
    /// document a compartment of that box: it waits for the box before it takes any lock on the first
    /// one's application, which a cancellation or a new PIN holding the box locks next.
    @Test func aDeliveryNamingADocumentInTheBox_waitsForTheBoxAndLeavesItsApplicationFree() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 307)
        let applicationID = UUID(uuidString: doc.applicationID) ?? UUID()
        let number = try #require(try app.pool.query("SELECT vorgangsnummer FROM application WHERE id = \(applicationID)").first?.decode(String.self, at: 0))
        let (_, other) = try town.register(try town.login(app))
        let results = SharedText()
        #expect(try OpenHoursTests.whileHolding(app, { cancel in try cancel.execute("SELECT 1 FROM box WHERE id = \(box) FOR UPDATE") },
                                                other: {
                                                    let items: [[String: Any]] = [["documentNumber": documentNumber(308), "vorgangsnummer": number],
                                                                                  ["documentNumber": documentNumber(309), "vorgangsnummer": other]]
                                                    let (status, delivery) = (try? town.login(app))?.json("POST", "/api/v1/deliveries",
                                                                                                          json: ["deliveryNoteNumber": "LOCK-307", "items": items]) ?? (0, [:])
                                                    results.set("\(status) " + ((delivery["items"] as? [[String: Any]]) ?? []).map { $0["result"] as? String ?? "?" }.joined(separator: ","))
                                                },
                                                waitingFor: ["SELECT b.id FROM box b"]) { cancel in
            try cancel.execute("SELECT 1 FROM application WHERE id = \(applicationID) FOR UPDATE NOWAIT")
        })
        #expect(results.value == "201 already_delivered,matched")
    }

    /// The other half: an application whose document is not in a box is locked by its writers before
    /// their box (a caseworker assigning a compartment by hand). A delivery that names it writes that
    /// item before it takes a box: it waits for the application holding nothing of the box.
    @Test func aDeliveryNamingAnApplicationNotInABox_waitsForItBeforeTakingABox() throws {
        let (app, town, box, _) = try PickupTests.setUp()
        defer { app.shutdown() }
        let client = try town.login(app)
        let (waiting, waitingNumber) = try town.register(client, ["feeSettled": false])
        let (_, other) = try town.register(client)
        #expect(client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "LOCK-320", "items": [["documentNumber": documentNumber(320), "vorgangsnummer": waitingNumber]]]).0 == 201)
        let waitingID = UUID(uuidString: waiting) ?? UUID()
        let results = SharedText()
        #expect(try OpenHoursTests.whileHolding(app, { assign in try assign.execute("SELECT 1 FROM application WHERE id = \(waitingID) FOR UPDATE") },
                                                other: {
                                                    let items: [[String: Any]] = [["documentNumber": documentNumber(321), "vorgangsnummer": waitingNumber],
                                                                                  ["documentNumber": documentNumber(322), "vorgangsnummer": other]]
                                                    let (status, delivery) = (try? town.login(app))?.json("POST", "/api/v1/deliveries",
                                                                                                          json: ["deliveryNoteNumber": "LOCK-321", "items": items]) ?? (0, [:])
                                                    results.set("\(status) " + ((delivery["items"] as? [[String: Any]]) ?? []).map { $0["result"] as? String ?? "?" }.joined(separator: ","))
                                                },
                                                waitingFor: ["INSERT INTO delivery_item", "SELECT id, vorgangsnummer"]) { assign in
            try assign.execute("SELECT 1 FROM box WHERE id = \(box) FOR UPDATE NOWAIT")
        })
        #expect(results.value == "201 already_delivered,matched")
    }
}
