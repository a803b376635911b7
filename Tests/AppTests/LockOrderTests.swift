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
    /// Holds what one side locks first (`first`, in a transaction) while `writer` runs on another thread:
    /// true when the writer waited for a lock at a statement starting with one of `prefixes`, and `free`
    /// (`NOWAIT` locks of what the first side would lock next) then succeeded.
    static func holding(_ app: Application, _ first: PostgresQuery, while writer: @escaping @Sendable () -> Void,
                        waitingFor prefixes: [String] = ["SELECT b.id FROM box b"], free: [PostgresQuery]) throws -> Bool {
        try OpenHoursTests.whileHolding(app, { try $0.execute(first) }, other: writer, waitingFor: prefixes) { c in
            for query in free { try c.execute(query) }
        }
    }

    static func holdingTheBox(_ app: Application, _ box: UUID, while writer: @escaping @Sendable () -> Void,
                              waitingFor prefixes: [String] = ["SELECT b.id FROM box b"], free: [PostgresQuery]) throws -> Bool {
        try holding(app, "SELECT 1 FROM box WHERE id = \(box) FOR UPDATE", while: writer, waitingFor: prefixes, free: free)
    }

    static let loadedAssignmentFree: PostgresQuery = "SELECT 1 FROM assignment WHERE status = 'loaded' FOR UPDATE NOWAIT"

    /// The application's lock its writers take (`ApplicationStore.fetch(forUpdate:)`), if it is free.
    static func applicationFree(_ id: String) -> PostgresQuery {
        "SELECT 1 FROM application WHERE id = \(UUID(uuidString: id) ?? UUID()) FOR NO KEY UPDATE NOWAIT"
    }

    /// Whether `writer`, on another thread, finishes while `hold` keeps its locks (within 10 s).
    static func finishes(_ app: Application, whileHolding hold: (PostgresConnection) throws -> Void, _ writer: @escaping @Sendable () -> Void) throws -> Bool {
        let finished = DispatchSemaphore(value: 0)
        let inTime = try app.pool.withConnection { c in
            try c.simpleQuery("BEGIN")
            do { try hold(c) } catch {
                try? c.simpleQuery("ROLLBACK")
                throw error
            }
            Thread {
                writer()
                finished.signal()
            }.start()
            let inTime = finished.wait(timeout: .now() + 10) == .success
            try c.simpleQuery("COMMIT")
            return inTime
        }
        if !inTime { _ = finished.wait(timeout: .now() + 10) }
        return inTime
    }

    /// A staff member's call from another thread (logged in there): its status.
    static func staff(_ app: Application, _ town: AuthorityFixture, as user: String = "anna", _ path: String, json: [String: Any]? = nil) -> Int {
        (try? town.login(app, as: user))?.json("POST", path, json: json).0 ?? 0
    }

    /// A delivery from another thread: its status and the items' results, e.g. `201 matched,unknown`.
    static func deliver(_ app: Application, _ town: AuthorityFixture, note: String, _ items: [(document: Int, vorgangsnummer: String)]) -> String {
        let body: [String: Any] = ["deliveryNoteNumber": note, "items": items.map { ["documentNumber": documentNumber($0.document), "vorgangsnummer": $0.vorgangsnummer] }]
        let (status, delivery) = (try? town.login(app))?.json("POST", "/api/v1/deliveries", json: body) ?? (0, [:])
        return "\(status) " + ((delivery["items"] as? [[String: Any]]) ?? []).map { $0["result"] as? String ?? "?" }.joined(separator: ",")
    }

    /// A pickup's step locks the box and then the assignment (Migrations/0028). A pass that moved the
    /// assignment first and locked its box after would hold what the step waits for: it locks the box first
    /// and waits for the step, which then gets the assignment at once (`NOWAIT`).
    @Test func aPassWhileAPickupHoldsTheBox_waitsForItAndLeavesTheAssignmentFree() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 303)
        try app.pool.execute("UPDATE assignment SET pin_expires_at = now() - interval '1 minute' WHERE status = 'loaded'")
        let moved = Mutex64(), scheduler = app.deadlines
        #expect(try Self.holdingTheBox(app, box, while: { moved.add(by: (try? scheduler.runOnce()) ?? 0) }, free: [Self.loadedAssignmentFree]))
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
        #expect(try Self.holdingTheBox(app, box, while: {
            if Self.staff(app, town, "/api/v1/applications/\(id)/cancel", json: ["reason": "zurückgenommen"]) == 200 { cancelled.add(by: 1) }
        }, free: [Self.applicationFree(id), Self.loadedAssignmentFree]))
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
        #expect(try Self.holdingTheBox(app, box, while: {
            if PickupEventTests().event(port, token, "lock-order-open", "opened", compartment).0 == 200 { answered.add(by: 1) }
        }, waitingFor: ["SELECT 1 FROM box", "INSERT INTO box_event"], free: [Self.loadedAssignmentFree]))
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
        #expect(try Self.holdingTheBox(app, box, while: {
            if Self.staff(app, town, "/api/v1/applications/\(id)/pin") == 200 { sent.add(by: 1) }
        }, free: [Self.applicationFree(id), Self.loadedAssignmentFree]))
        #expect(sent.value == 1)
        #expect(try SMSFixture.texts(app, where: "template = 'new_pin'").count == 1)
    }

    /// A supervisor approving a new PIN (asked for within a day of a number change): the box first too.
    @Test func approvingANewPinWhileTheBoxIsHeld_waitsForItAndLeavesTheApplicationFree() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 309)
        try app.pool.execute("UPDATE application SET mobile_number_changed_at = now() WHERE id = \(UUID(uuidString: doc.applicationID) ?? UUID())")
        let (asked, request) = try town.login(app).json("POST", "/api/v1/applications/\(doc.applicationID)/pin")
        #expect(asked == 202)
        let approval = try #require(request["id"] as? String)
        let approved = Mutex64()
        #expect(try Self.holdingTheBox(app, box, while: {
            if Self.staff(app, town, as: "chef", "/api/v1/approvals/\(approval)/approve") == 200 { approved.add(by: 1) }
        }, free: [Self.applicationFree(doc.applicationID), Self.loadedAssignmentFree]))
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
        let number = try #require(try app.pool.query("SELECT vorgangsnummer FROM application WHERE id = \(UUID(uuidString: doc.applicationID) ?? UUID())")
            .first?.decode(String.self, at: 0))
        let (_, other) = try town.register(try town.login(app))
        let results = SharedText()
        #expect(try Self.holdingTheBox(app, box, while: { results.set(Self.deliver(app, town, note: "LOCK-307", [(308, number), (309, other)])) },
                                       free: [Self.applicationFree(doc.applicationID)]))
        #expect(results.value == "201 already_delivered,matched")
    }

    /// A writer of an application locks it so that rows naming it need not wait (`FOR NO KEY UPDATE`): a
    /// delivery that names it, and gives another document a compartment, answers while the writer holds it
    /// (a caseworker assigning it a compartment by hand, whose box the delivery may need next).
    @Test func aDeliveryNamingAnApplicationAWriterHolds_answersMeanwhile() throws {
        let (app, town, _, _) = try PickupTests.setUp()
        defer { app.shutdown() }
        let client = try town.login(app)
        let (waiting, waitingNumber) = try town.register(client, ["feeSettled": false])
        let (_, other) = try town.register(client)
        #expect(client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "LOCK-320", "items": [["documentNumber": documentNumber(320), "vorgangsnummer": waitingNumber]]]).0 == 201)
        let results = SharedText(), authority = town.authorityID
        #expect(try Self.finishes(app, whileHolding: { c in
            _ = try ApplicationStore.fetch(c, authorityID: authority, id: UUID(uuidString: waiting) ?? UUID(), forUpdate: true)
        }) { results.set(Self.deliver(app, town, note: "LOCK-321", [(321, waitingNumber), (322, other)])) })
        #expect(results.value == "201 already_delivered,matched")
    }
}
