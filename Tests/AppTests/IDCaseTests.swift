@testable import App
import Foundation
import HTTPServer
import HTTPTestSupport
import Synchronization
import Testing

@Suite("Ids in lower case")
struct IDCaseTests {
    /// The UUIDs in `text` written with an upper-case hex digit.
    static func upperCaseIDs(_ text: String) -> [String] {
        let regex = try? NSRegularExpression(pattern: "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
        return (regex?.matches(in: text, range: NSRange(text.startIndex..., in: text)) ?? [])
            .compactMap { Range($0.range, in: text).map { String(text[$0]) } }
            .filter { $0 != $0.lowercased() }
    }

    @Test func everyIdTheServerAnswersWith_isLowerCase_andInputTakesEitherCase() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 131)
        let anna = try town.login(app)
        let chef = try town.login(app, as: "chef")
        var answers: [(String, String)] = []
        func record(_ what: String, _ reply: TestClient.Reply?) {
            guard let reply else { Issue.record("\(what): no answer"); return }
            #expect((200..<300).contains(reply.status), "\(what): \(reply.status) \(reply.text)")
            answers.append((what, reply.headers.map { "\($0.0): \($0.1)" }.joined(separator: "\n") + "\n\n" + reply.text))
        }
        // Writes that answer with ids: a new application (and its Location), a delivery, a box pickup.
        let (other, number) = try town.register(anna)
        record("POST /api/v1/deliveries", anna.call("POST", "/api/v1/deliveries", json: [
            "deliveryNoteNumber": "IDS-1", "items": [["documentNumber": documentNumber(132), "vorgangsnummer": number]]]))
        record("POST /api/v1/applications", anna.call("POST", "/api/v1/applications", json: town.applicationBody(["pickupMethod": "counter", "mobileNumber": "0171 5550001"])))
        let start = boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": doc.pin])
        record("POST /api/v1/box/pickups", start.2)
        let pickup = try #require(start.1["pickupId"] as? String)
        record("POST /api/v1/box/pickups/{id}/factors", boxPost(app.port, token: token, "/api/v1/box/pickups/\(pickup)/factors",
                                                                 json: ["pinLetterConfirmed": true, "dateOfBirth": "15.03.1990"]).2)
        record("POST /api/v1/applications/{id}/assignment", anna.call("POST", "/api/v1/applications/\(other)/assignment"))
        // Reads: the application and what hangs off it, lists, the box's feed, the export, the audit trail.
        for path in ["/api/v1/applications", "/api/v1/applications/\(doc.applicationID)",
                     "/api/v1/applications/\(doc.applicationID)/events", "/api/v1/applications/\(other)", "/api/v1/sites", "/api/v1/boxes",
                     "/api/v1/boxes/\(box.uuidString.lowercased())", "/api/v1/boxes/\(box.uuidString.lowercased())/loading-list", "/api/v1/auth/me", "/api/v1/sms/messages"] {
            record("GET \(path)", anna.call("GET", path))
        }
        for path in ["/api/v1/users", "/api/v1/applications/\(doc.applicationID)/export", "/api/v1/audit"] {
            record("GET \(path)", chef.call("GET", path))
        }
        record("GET /api/v1/box/assignments", boxRequest(app.port, token: token, "GET", "/api/v1/box/assignments?since=0&wait=0").2)

        #expect(answers.count == 19)
        for (what, text) in answers {
            #expect(Self.upperCaseIDs(text) == [], "\(what) answers with upper-case ids")
        }
        // The walk saw ids at all (a lower-case one in every answer that names an object).
        #expect(answers.filter { $0.1.contains(doc.applicationID.lowercased()) }.count >= 5)

        // Ids in requests are taken in either case.
        #expect(anna.call("GET", "/api/v1/applications/\(doc.applicationID.uppercased())")?.status == 200)
        #expect(anna.call("GET", "/api/v1/boxes/\(box.uuidString.uppercased())")?.status == 200)
    }

    @Test func everyAnswerTheServerEncodes_isHeldToJSONEncodersBytes() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        // Installed for the whole test process by `AppFixture.make` (the server's answers go through the same call).
        let before = ReferenceJSON.checked.load(ordering: .relaxed)
        struct Answer: Encodable { let id = UUID(); let at = Date(); let note = "a/b \"c\"" }
        _ = try JSONCoding.encode(Answer())
        #expect(ReferenceJSON.checked.load(ordering: .relaxed) > before, "the reference check is not installed")
    }

    @Test func encodedUUIDs_areLowerCase_butStringsThatLookLikeOneAreLeftAlone() throws {
        struct Body: Encodable {
            let id: UUID
            let ids: [UUID]
            let byID: [String: UUID]
            let note: String
            let nested: [String: [UUID?]]
        }
        let id = UUID()
        let text = String(decoding: try JSONCoding.encode(Body(id: id, ids: [id, UUID()], byID: ["a": UUID()], note: "0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D", nested: ["x": [nil, UUID()]])), as: UTF8.self)
        #expect(Self.upperCaseIDs(text).count == 1, "only the string field keeps its case: \(text)")
        #expect(text.contains("\"id\":\"\(id.uuidString.lowercased())\""))
    }
}
