@testable import App
import Domain
import Foundation
import HTTPServer
import HTTPTestSupport
import Postgres
import Testing

/// A document loaded into a box of the fixture's site, open all week; returns the PIN from the SMS.
struct LoadedDocument {
    let token: String
    let pin: String
    let applicationID: String
    let compartment: Int

    static func make(_ app: Application, _ town: AuthorityFixture, box: UUID, token: String, _ overrides: [String: Any] = [:], document: Int) throws -> LoadedDocument {
        let client = try town.login(app)
        let (id, number) = try town.register(client, overrides)
        _ = client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "P-\(document)", "items": [["documentNumber": documentNumber(document), "vorgangsnummer": number]]])
        let (_, instruction, _) = boxPost(app.port, token: token, "/api/v1/box/loading", json: ["documentNumber": documentNumber(document)])
        let compartment = try #require(instruction["compartmentNumber"] as? Int)
        let (status, _, _) = boxPost(app.port, token: token, "/api/v1/box/events", json: ["eventId": "load-\(document)", "kind": "loaded", "compartmentNumber": compartment])
        #expect(status == 200)
        let text = try #require(try SMSFixture.texts(app, where: "application_id = '\((UUID(uuidString: id) ?? UUID()).uuidString)'").first)
        let pin = try #require(text.range(of: #"PIN: [0-9]{6}"#, options: .regularExpression).map { String(text[$0].suffix(6)) })
        return LoadedDocument(token: token, pin: pin, applicationID: id, compartment: compartment)
    }
}

extension AuthorityFixture {
    /// Pickup hours around the clock, so the tests do not depend on when they run.
    func openAllWeek(_ app: Application) throws {
        try app.pool.execute("DELETE FROM site_pickup_hours WHERE authority_id = \(authorityID)")
        try app.pool.execute("""
            INSERT INTO site_pickup_hours (authority_id, site_id, weekday, opens, closes)
            SELECT \(authorityID)::uuid, \(siteID)::uuid, d, time '00:00', time '24:00' FROM generate_series(1, 7) d
            """)
    }
}

@Suite("Pickup at the box")
struct PickupTests {
    static func setUp(_ configure: (inout AppConfiguration) -> Void = { _ in }) throws -> (Application, AuthorityFixture, UUID, String) {
        let app = try AppFixture.make(configure)
        let town = try AuthorityFixture.make(app)
        try town.openAllWeek(app)
        let box = try town.makeBox(app, rows: 2, columns: 3)
        return (app, town, box, try town.boxToken(app, box: box))
    }

    @Test func firstIssuance_mobileAndPin_thenPinLetterAndDateOfBirth_opensTheCompartment() throws {
        let (app, town, box, token) = try Self.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 101)
        let (status, session, _) = boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": doc.pin])
        #expect(status == 201)
        #expect(session["factors"] as? [String] == ["pin_letter", "date_of_birth"])
        let id = try #require(session["pickupId"] as? String)
        let (opened, open, _) = boxPost(app.port, token: token, "/api/v1/box/pickups/\(id)/factors", json: ["pinLetterConfirmed": true, "dateOfBirth": "15.03.1990"])
        #expect(opened == 200)
        #expect(open["compartmentNumbers"] as? [Int] == [doc.compartment])
        // A session is used once.
        #expect(boxPost(app.port, token: token, "/api/v1/box/pickups/\(id)/factors", json: ["pinLetterConfirmed": true, "dateOfBirth": "15.03.1990"]).0 == 409)
    }

    /// The box lost the answer that names the compartment (a 503 whose commit went through, a dropped
    /// connection): sent again with the same Idempotency-Key, the request gets the same answer, and the
    /// door opens (docs/ARCHITECTURE.md#faults).
    @Test func aRetryWithTheSameIdempotencyKey_getsTheSameAnswer_insteadOfARefusal() throws {
        let (app, town, box, token) = try Self.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 103)
        let start = ["mobileNumber": "0171 1234567", "pin": doc.pin]
        let (status, session, _) = boxPost(app.port, token: token, "/api/v1/box/pickups", json: start, headers: ["Idempotency-Key: start-1"])
        #expect(status == 201)
        let again = boxPost(app.port, token: token, "/api/v1/box/pickups", json: start, headers: ["Idempotency-Key: start-1"])
        #expect(again.0 == 201)
        #expect(again.1["pickupId"] as? String == session["pickupId"] as? String, "the same session, not a second one")
        let id = try #require(session["pickupId"] as? String)
        let factors: [String: Any] = ["pinLetterConfirmed": true, "dateOfBirth": "15.03.1990"]
        let first = boxPost(app.port, token: token, "/api/v1/box/pickups/\(id)/factors", json: factors, headers: ["Idempotency-Key: open-1"])
        #expect(first.0 == 200)
        let retry = boxPost(app.port, token: token, "/api/v1/box/pickups/\(id)/factors", json: factors, headers: ["Idempotency-Key: open-1"])
        #expect(retry.0 == 200)
        #expect(retry.1["compartmentNumbers"] as? [Int] == [doc.compartment])
        #expect(retry.2?.header("Idempotent-Replayed") == "true")
        // Without the key the session stays used.
        #expect(boxPost(app.port, token: token, "/api/v1/box/pickups/\(id)/factors", json: factors).0 == 409)
        // Another box cannot replay this box's answer: keys are scoped to the box.
        let otherBox = try town.makeBox(app, rows: 1, columns: 1)
        let other = boxPost(app.port, token: try town.boxToken(app, box: otherBox), "/api/v1/box/pickups/\(id)/factors", json: factors, headers: ["Idempotency-Key: open-1"])
        #expect(other.0 != 200)
    }

    @Test func renewal_asksForTheCAN_andTheOldDocument() throws {
        let (app, town, box, token) = try Self.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, ["issuance": "renewal", "oldDocumentCan": "123456"], document: 102)
        let (_, session, _) = boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "+491711234567", "pin": doc.pin])
        #expect(session["factors"] as? [String] == ["pin_letter", "can", "old_document_destroyed"])
        let id = try #require(session["pickupId"] as? String)
        let wrong = boxPost(app.port, token: token, "/api/v1/box/pickups/\(id)/factors", json: ["pinLetterConfirmed": true, "can": "654321", "oldDocumentInserted": true])
        #expect(wrong.0 == 403)
        let right = boxPost(app.port, token: token, "/api/v1/box/pickups/\(id)/factors", json: ["pinLetterConfirmed": true, "can": "123456", "oldDocumentInserted": true])
        #expect(right.0 == 200)
    }

    @Test func refusesUnknownNumberWrongPinAndWrongBirthDate_alike() throws {
        let (app, town, box, token) = try Self.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 103)
        let wrongPin = doc.pin == "000000" ? "000001" : "000000"
        let unknown = boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 7654321", "pin": doc.pin])
        let wrong = boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": wrongPin])
        let (_, session, _) = boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": doc.pin])
        let birth = boxPost(app.port, token: token, "/api/v1/box/pickups/\(session["pickupId"] as? String ?? "")/factors", json: ["pinLetterConfirmed": true, "dateOfBirth": "16.03.1990"])
        for reply in [unknown, wrong, birth] {
            #expect(reply.0 == 403)
            #expect(reply.2?.text == #"{"error":"pickup_refused","message":"The details do not match. Please check them or ask at the counter."}"#)
        }
        #expect(boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "٠١٧١١٢٣٤٥٦٧", "pin": doc.pin]).0 == 400)
        #expect(boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": "12345"]).0 == 400)
        #expect(boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": "１２３４５６"]).0 == 400)
    }

    @Test func aBurstOf200ParallelWrongAttempts_blocksTheBoxAtExactlyTheLimit() throws {
        let (app, town, box, token) = try Self.setUp()
        defer { app.shutdown() }
        _ = try LoadedDocument.make(app, town, box: box, token: token, document: 105)
        let port = app.port
        let answers = Mutex64()
        // 200 different numbers: no assignment lock is in the way, only the box's count decides.
        DispatchQueue.concurrentPerform(iterations: 200) { i in
            let status = boxPost(port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 \(5_000_000 + i)", "pin": "123456"]).0
            if status == 403 || status == 429 { answers.add() }
        }
        #expect(answers.value == 200)
        let outcomes = try app.pool.query("SELECT outcome, count(*)::int8 FROM pickup_attempt WHERE box_id = \(box) GROUP BY outcome")
            .reduce(into: [String: Int]()) { $0[try $1.decode(String.self, at: 0)] = try $1.decode(Int.self, at: 1) }
        // "More than 10 failures within 10 minutes block": the 11th blocks, every later one is refused unchecked.
        let limit = app.configuration.pickupLimits.perBox
        #expect(outcomes["refused"] == limit + 1)
        #expect(outcomes["throttled"] == 200 - (limit + 1))
    }

    @Test func countsExactlyFiveOf100ParallelWrongPins_thenRefusesEvenTheRightOne_andThrottlesTheBox() throws {
        let (app, town, box, token) = try Self.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 104)
        let wrongPin = doc.pin == "999999" ? "999998" : "999999"
        let port = app.port
        let throttled = Mutex64()
        DispatchQueue.concurrentPerform(iterations: 100) { _ in
            if boxPost(port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": wrongPin]).0 == 429 { throttled.add() }
        }
        let row = try #require(try app.pool.query("SELECT failed_attempts, locked FROM assignment WHERE status = 'loaded'").first)
        #expect(try row.decode(Int.self, at: 0) == 5)
        #expect(try row.decode(Bool.self, at: 1) == true)
        #expect(throttled.value > 0)
        // The box is blocked for a while (and says so) …
        let blocked = boxPost(port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": doc.pin])
        #expect(blocked.0 == 429)
        #expect(Int(blocked.2?.header("Retry-After") ?? "") ?? 0 > 0)
        // Staff see the alert on the box, operators in the metrics.
        let client = try town.login(app)
        #expect(client.json("GET", "/api/v1/boxes/\(box)").1["pickupsBlockedUntil"] != nil)
        let metrics = try TestClient(port: port).request("GET", "/metrics")?.text ?? ""
        #expect(metrics.contains("boxes_pickups_blocked 1"))
        // … and once it is not, the locked assignment still refuses the right PIN.
        try app.pool.execute("UPDATE box SET pickups_blocked_until = NULL")
        try app.pool.execute("DELETE FROM pickup_attempt")
        #expect(boxPost(port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": doc.pin]).0 == 403)
    }

    @Test func lockingOneAssignment_leavesAnotherOfTheSameNumberUsable() throws {
        let (app, town, box, token) = try Self.setUp()
        defer { app.shutdown() }
        let first = try LoadedDocument.make(app, town, box: box, token: token, document: 105)
        let second = try LoadedDocument.make(app, town, box: box, token: token, ["givenNames": "Zweite"], document: 106)
        #expect(first.compartment != second.compartment)
        for _ in 0..<5 {
            let (_, session, _) = boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": first.pin])
            _ = boxPost(app.port, token: token, "/api/v1/box/pickups/\(session["pickupId"] as? String ?? "")/factors", json: ["pinLetterConfirmed": false])
        }
        #expect(boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": first.pin]).0 == 403)
        let (status, session, _) = boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": second.pin])
        #expect(status == 201)
        #expect(boxPost(app.port, token: token, "/api/v1/box/pickups/\(session["pickupId"] as? String ?? "")/factors",
                        json: ["pinLetterConfirmed": true, "dateOfBirth": "15.03.1990"]).1["compartmentNumbers"] as? [Int] == [second.compartment])
    }

    @Test func refusesOutsidePickupHours_andSessionsOfOtherBoxes() throws {
        let (app, town, box, token) = try Self.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 107)
        let (_, session, _) = boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": doc.pin])
        let otherBox = try town.makeBox(app, rows: 1, columns: 1)
        let otherToken = try town.boxToken(app, box: otherBox)
        #expect(boxPost(app.port, token: otherToken, "/api/v1/box/pickups/\(session["pickupId"] as? String ?? "")/factors", json: ["pinLetterConfirmed": true]).0 == 404)
        #expect(boxPost(app.port, token: otherToken, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": doc.pin]).0 == 403)
        try app.pool.execute("DELETE FROM site_pickup_hours WHERE authority_id = \(town.authorityID)")
        let closed = boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": doc.pin])
        #expect(closed.0 == 409)
        #expect(closed.1["error"] as? String == "outside_pickup_hours")
    }

    /// Whichever input was wrong — an unknown mobile number, a wrong PIN, a wrong date of birth — the box
    /// gets the same status, headers and bytes, and the server did the same work: one failure counted
    /// against the box each. (How long each takes is measured in the benchmark, `BENCH_ONLY=refusals`:
    /// durations compared inside a test fail on a busy machine.)
    @Test func refusalsAreAlike_whicheverInputWasWrong() throws {
        let (app, town, box, token) = try Self.setUp { c in
            c.pickupLimits.perBox = 100_000
            c.pickupLimits.perAssignment = 100_000
        }
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 108)
        let wrongPin = doc.pin == "000000" ? "000001" : "000000"
        let (_, session, _) = boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": doc.pin])
        let path = "/api/v1/box/pickups/\(session["pickupId"] as? String ?? "")/factors"
        let attempts: [(String, [String: Any])] = [
            ("/api/v1/box/pickups", ["mobileNumber": "0171 7654321", "pin": doc.pin]),
            ("/api/v1/box/pickups", ["mobileNumber": "0171 1234567", "pin": wrongPin]),
            (path, ["pinLetterConfirmed": true, "dateOfBirth": "16.03.1990"]),
        ]
        func failures() throws -> Int {
            try app.pool.query("SELECT count(*)::int FROM pickup_attempt WHERE box_id = \(box) AND outcome IN ('refused', 'factors_refused')")
                .first.map { try $0.decode(Int.self, at: 0) } ?? -1
        }
        var answers: [String] = []
        for (path, json) in attempts {
            let before = try failures()
            let reply = try #require(boxPost(app.port, token: token, path, json: json).2)
            #expect(reply.status == 403)
            #expect(try failures() == before + 1, "\(json.keys.sorted()) counts one failure")
            // Everything but the per-request headers.
            let headers = reply.headers.filter { !["date", "x-request-id"].contains($0.0.lowercased()) }.map { "\($0.0.lowercased()): \($0.1)" }.sorted()
            answers.append("\(reply.status) \(headers) \(String(decoding: reply.body, as: UTF8.self))")
        }
        #expect(Set(answers).count == 1, "\(answers)")
        #expect(answers.first?.contains("pickup_refused") == true)
    }

    @Test func pinCheck_hashesOncePerCandidate_andOnceForAnUnknownNumber() {
        var hashed: [UUID] = []
        let hmac: (String, UUID) -> [UInt8] = { pin, id in hashed.append(id); return Array((id.uuidString + pin).utf8) }
        func candidate(_ id: UUID = UUID(), pin: String, locked: Bool = false) -> BoxPickup.Candidate {
            BoxPickup.Candidate(id: id, stored: Array((id.uuidString + pin).utf8), locked: locked, applicationID: UUID(), issuance: .first, hasCAN: false)
        }
        let unknown = BoxPickup.match("123456", among: [], hmac: hmac)
        #expect(unknown.candidate == nil && unknown.hashes == 1 && hashed.count == 1)
        let one = [candidate(pin: "654321")]
        let wrong = BoxPickup.match("123456", among: one, hmac: hmac)
        #expect(wrong.candidate == nil && wrong.hashes == 1 && hashed.count == 2)
        let household = [candidate(pin: "111111"), candidate(pin: "123456"), candidate(pin: "123456")]
        let right = BoxPickup.match("123456", among: household, hmac: hmac)
        #expect(right.candidate?.id == household[1].id && right.hashes == 3 && hashed.count == 5, "every candidate is hashed, the first match wins")
        let locked = BoxPickup.match("123456", among: [candidate(pin: "123456", locked: true)], hmac: hmac)
        #expect(locked.candidate == nil && locked.hashes == 1)
    }
}
