@testable import App
import Foundation
import HTTPServer
import HTTPTestSupport
import Postgres
import PostgresTestSupport
import Testing

@Suite("Pickup deadline and new PINs")
struct DeadlineAndPinTests {
    @Test func movesPassedDeadlinesToRetrieval_once_evenWithTwoServerProcesses() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let database = try app.pool.query("SELECT current_database()").first?.decode(String.self, at: 0) ?? ""
        let other = try AppFixture.make(AppFixture.makeConfiguration(), connectionString: try TestPostgres.shared().connectionString(database: database))
        defer { other.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 301)
        try app.pool.execute("UPDATE assignment SET pin_expires_at = now() - interval '1 minute' WHERE status = 'loaded'")
        let moved = Mutex64()
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            let scheduler = i % 2 == 0 ? app.deadlines : other.deadlines
            moved.add(by: (try? scheduler.runOnce()) ?? 0)
        }
        #expect(moved.value == 1)
        let client = try town.login(app)
        #expect(client.json("GET", "/api/v1/applications/\(doc.applicationID)").1["state"] as? String == "retrieval_due")
        #expect(client.json("GET", "/api/v1/applications?state=retrieval_due").1["total"] as? Int == 1)
        let events = try app.pool.query("SELECT count(*)::int8 FROM audit_event WHERE action = 'application.deadline_passed'").first?.decode(Int.self, at: 0)
        #expect(events == 1)
        // The box sees it in its feed, and the PIN no longer opens anything.
        let kinds = (poll(app.port, token: token).1["changes"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
        #expect(kinds.last == "to_retrieve")
        #expect(boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": doc.pin]).0 == 403)
    }

    /// A pass holds the boxes of the assignments it moves until it commits: at most a batch of them at a time.
    @Test func movesPassedDeadlinesInBatches() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        for n in 0..<5 { _ = try LoadedDocument.make(app, town, box: box, token: token, document: 310 + n) }
        try app.pool.execute("UPDATE assignment SET pin_expires_at = now() - interval '1 minute' WHERE status = 'loaded'")
        let scheduler = DeadlineScheduler(pool: app.pool, logger: app.logger, interval: 3600, sms: app.configuration.sms, cipher: app.smsCipher, batch: 2)
        #expect(try scheduler.runOnce() == 2)
        #expect(try scheduler.runAll() == 3)   // a full batch of two, then the last one
        #expect(try scheduler.runAll() == 0)
        let due = try app.pool.query("SELECT count(*)::int8 FROM assignment WHERE status = 'retrieval_due'").first?.decode(Int.self, at: 0)
        #expect(due == 5)
    }

    @Test func reissuesAPin_unlocking_andLimitsItPerDay() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 302)
        try app.pool.execute("UPDATE assignment SET locked = true, failed_attempts = 5 WHERE status = 'loaded'")
        let client = try town.login(app)
        let (status, _) = client.json("POST", "/api/v1/applications/\(doc.applicationID)/pin")
        #expect(status == 200)
        let bodies = try SMSFixture.texts(app, where: "template = 'new_pin'")
        #expect(bodies.count == 1)
        let text = bodies.first ?? ""
        let pin = try #require(text.range(of: #"[0-9]{6}"#, options: .regularExpression).map { String(text[$0]) })
        // The old PIN died; the new one works; the lock is gone.
        if pin != doc.pin {
            #expect(boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": doc.pin]).0 == 403)
        }
        #expect(boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": pin]).0 == 201)
        #expect(client.json("POST", "/api/v1/applications/\(doc.applicationID)/pin").0 == 200)
        #expect(client.json("POST", "/api/v1/applications/\(doc.applicationID)/pin").0 == 200)
        #expect(client.json("POST", "/api/v1/applications/\(doc.applicationID)/pin").0 == 429)
        let (registered, _) = try town.register(client)
        #expect(client.json("POST", "/api/v1/applications/\(registered)/pin").0 == 409)
        let audit = try app.pool.query("SELECT count(*)::int8 FROM audit_event WHERE action = 'application.pin_reissued' AND coalesce(detail::text, '') LIKE '%' || \(pin) || '%'").first?.decode(Int.self, at: 0)
        #expect(audit == 0)
    }
}
