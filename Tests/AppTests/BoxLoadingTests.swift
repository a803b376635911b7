@testable import App
import Domain
import Foundation
import HTTPServer
import HTTPTestSupport
import Postgres
import Testing

/// A box controller's POST with its token.
func boxPost(_ port: Int, token: String, _ path: String, json: [String: Any], headers: [String] = []) -> (Int, [String: Any], TestClient.Reply?) {
    boxRequest(port, token: token, "POST", path, json: json, headers: headers)
}

@Suite("Loading at the box")
struct BoxLoadingTests {
    @Test func loadsTheScannedDocument_drawsAPin_andQueuesTheReadySMS() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let box = try town.makeBox(app, rows: 2, columns: 2)
        let token = try town.boxToken(app, box: box)
        let client = try town.login(app)
        let (id, number) = try town.register(client, ["smsLanguage": "en"])
        _ = client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "B-1", "items": [["documentNumber": documentNumber(51), "vorgangsnummer": number]]])
        let (status, instruction, _) = boxPost(app.port, token: token, "/api/v1/box/loading", json: ["documentNumber": documentNumber(51).lowercased()])
        #expect(status == 200, "\(instruction)")
        let compartment = try #require(instruction["compartmentNumber"] as? Int)
        #expect(instruction["documentNumbers"] as? [String] == [documentNumber(51)])
        #expect(instruction["contents"] as? [String] == ["document", "supplementary_sheet"])

        let event: [String: Any] = ["eventId": "evt-1", "kind": "loaded", "compartmentNumber": compartment]
        let (loadedStatus, loaded, _) = boxPost(app.port, token: token, "/api/v1/box/events", json: event)
        #expect(loadedStatus == 200, "\(loaded)")
        #expect(loaded["state"] as? String == "ready_in_box")
        let application = client.json("GET", "/api/v1/applications/\(id)").1
        #expect(application["state"] as? String == "ready_in_box")
        #expect(application["pickupDeadline"] as? String == loaded["pickupDeadline"] as? String)

        // The SMS is in the outbox with a 6-digit PIN, and only the PIN's HMAC is stored.
        let sms = try #require(try app.pool.query("SELECT body IS NULL AND body_sealed IS NOT NULL, to_number, status FROM sms_message").first)
        let text = try #require(try SMSFixture.texts(app).first)
        #expect(try sms.decode(Bool.self, at: 0))
        #expect(try sms.decode(String.self, at: 1) == "+491711234567")
        #expect(try sms.decode(String.self, at: 2) == "queued")
        #expect(!text.contains("Yılmaz") && !text.contains(number) && !text.contains("eAT"))
        let pin = try #require(text.range(of: #"PIN: [0-9]{6}"#, options: .regularExpression).map { String(text[$0].suffix(6)) })
        let stored = try #require(try app.pool.query("SELECT id, pin_digest, pin_hmac FROM assignment WHERE status = 'loaded'").first)
        let digest = try stored.decode([UInt8].self, column: "pin_digest")
        let assignmentID = try stored.decode(UUID.self, column: "id")
        #expect(digest == Pin.digest(pin, authorityID: town.authorityID, assignmentID: assignmentID, key: app.secretKey))
        #expect(digest.count == 32 && digest != Array(pin.utf8))
        // And in the old form, for a replica of the previous release during a rolling upgrade.
        #expect(try stored.decode([UInt8]?.self, column: "pin_hmac") == Pin.legacyHMAC(pin, assignmentID: assignmentID, key: app.secretKey))
        // PostgreSQL computes the same digest from the PIN key (what pickup_start_keyed compares).
        let pinKey = Pin.key(pin, authorityID: town.authorityID, key: app.secretKey)
        #expect(try app.pool.query("SELECT sha256(\(pinKey) || uuid_send(id)) = pin_digest FROM assignment WHERE id = \(assignmentID)").first?.decode(Bool.self, at: 0) == true)

        // A retry of the same event changes nothing; the same id with another event is refused; a new event is out of order.
        let (again, replay, reply) = boxPost(app.port, token: token, "/api/v1/box/events", json: event)
        #expect(again == 200)
        #expect(replay["pickupDeadline"] as? String == loaded["pickupDeadline"] as? String)
        #expect(reply?.header("Idempotent-Replayed") == "true")
        #expect(try app.pool.query("SELECT count(*)::int8 FROM sms_message").first?.decode(Int.self, at: 0) == 1)
        #expect(boxPost(app.port, token: token, "/api/v1/box/events", json: ["eventId": "evt-1", "kind": "loaded", "compartmentNumber": compartment + 1]).0 == 422)
        #expect(boxPost(app.port, token: token, "/api/v1/box/events", json: ["eventId": "evt-2", "kind": "loaded", "compartmentNumber": compartment]).0 == 409)
        // The public status shows it, with the deadline.
        let status2 = StaffClient(port: app.port).json("GET", "/api/v1/status/\(number)").1
        #expect(status2["status"] as? String == "ready_in_box")
        #expect(status2["readyUntil"] as? String == loaded["pickupDeadline"] as? String)
    }

    @Test func refusesDocumentsItCannotLoad() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let box = try town.makeBox(app, rows: 1, columns: 1)
        let token = try town.boxToken(app, box: box)
        let client = try town.login(app)
        let (_, counter) = try town.register(client, ["pickupMethod": "counter"])
        let (_, unpaid) = try town.register(client, ["feeSettled": false])
        _ = client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "B-2", "items": [
            ["documentNumber": documentNumber(61), "vorgangsnummer": counter], ["documentNumber": documentNumber(62), "vorgangsnummer": unpaid],
        ]])
        #expect(boxPost(app.port, token: token, "/api/v1/box/loading", json: ["documentNumber": documentNumber(99)]).1["error"] as? String == "unknown_document")
        #expect(boxPost(app.port, token: token, "/api/v1/box/loading", json: ["documentNumber": documentNumber(61)]).1["error"] as? String == "counter_pickup")
        #expect(boxPost(app.port, token: token, "/api/v1/box/loading", json: ["documentNumber": documentNumber(62)]).1["error"] as? String == "fee_not_settled")
        #expect(boxPost(app.port, token: token, "/api/v1/box/loading", json: ["documentNumber": "O0"]).0 == 400)
        #expect(boxPost(app.port, token: token, "/api/v1/box/events", json: ["eventId": "x", "kind": "vanished", "compartmentNumber": 1]).1["error"] as? String == "unsupported_event_kind")
        #expect(boxPost(app.port, token: token, "/api/v1/box/events", json: ["eventId": "y", "kind": "opened", "compartmentNumber": 1]).1["error"] as? String == "out_of_order")
        #expect(boxPost(app.port, token: "not-a-valid-token-at-all-xyz", "/api/v1/box/loading", json: ["documentNumber": documentNumber(61)]).0 == 401)
    }

    @Test func drawsUniformSixDigitPins() {
        var counts = [Int](repeating: 0, count: 10)
        for _ in 0..<5000 {
            let pin = Pin.draw()
            #expect(pin.count == 6 && pin.allSatisfy(\.isASCII) && pin.allSatisfy(\.isNumber))
            counts[Int(String(pin.first ?? "0")) ?? 0] += 1
        }
        // First digit roughly uniform (each 500 ± 150 of 5000).
        #expect(counts.allSatisfy { (350...650).contains($0) })
    }
}
