@testable import App
import Foundation
import HTTPTestSupport
import Postgres
import Testing

/// `GET /api/v1/applications/{id}/export` (PRIVACY.md#requests-under-art-15-gdpr): everything held about
/// one application, for a request under Art. 15 GDPR; supervisors only, audited.
@Suite("Export of one application")
struct ApplicationExportTests {
    static func object(_ reply: TestClient.Reply?) throws -> [String: Any] {
        let body = try #require(reply).body
        return try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
    }

    @Test func holdsTheApplication_itsDocumentsAssignmentSMSRequestsAndEvents_butNoSecret() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, ["issuance": "renewal", "oldDocumentCan": "314159"], document: 960)
        // A four-eyes request names a number: it is held about the application too.
        #expect(try town.login(app).json("POST", "/api/v1/applications/\(doc.applicationID)/mobile-number-changes",
                                          json: ["mobileNumber": "+491719876543"]).0 == 202)
        let chef = try town.login(app, as: "chef")
        let reply = chef.call("GET", "/api/v1/applications/\(doc.applicationID)/export")
        #expect(reply?.status == 200)
        #expect(reply?.header("Content-Disposition")?.hasPrefix("attachment; filename=\"application-") == true)
        #expect(reply?.header("Cache-Control") == "no-store")
        let export = try Self.object(reply)
        let application = try #require(export["application"] as? [String: Any])
        #expect(application["familyName"] as? String == "Yılmaz" && application["mobileNumber"] as? String == "+491711234567")
        #expect(application["hasOldDocumentCan"] as? Bool == true)
        #expect((export["authority"] as? [String: Any])?["slug"] as? String == town.slug)
        #expect((export["documents"] as? [[String: Any]])?.first?["documentNumber"] as? String == documentNumber(960))
        #expect((export["deliveryItems"] as? [[String: Any]])?.first?["result"] as? String == "matched")
        let assignment = try #require((export["assignments"] as? [[String: Any]])?.first)
        #expect(assignment["status"] as? String == "loaded" && assignment["pinStored"] as? Bool == true && assignment["compartmentNumber"] as? Int == doc.compartment)
        let sms = try #require((export["smsMessages"] as? [[String: Any]])?.first)
        #expect(sms["to"] as? String == "+491711234567" && sms["kind"] as? String == "ready_in_box" && sms["textStored"] as? Bool == true)
        let approval = try #require((export["staffApprovals"] as? [[String: Any]])?.first)
        #expect(approval["kind"] as? String == "mobile_number_change" && approval["state"] as? String == "pending"
                && approval["mobileNumber"] as? String == "+491719876543")
        let actions = try #require(export["auditEvents"] as? [[String: Any]]).compactMap { $0["action"] as? String }
        #expect(actions.contains("application.registered") && actions.contains("application.loaded") && actions.last == "application.exported")
        let retention = try #require(export["retention"] as? [String: Any])
        #expect(retention["erasedBy"] != nil && retention["retentionDaysMax"] as? Int == 400)
        // Named, never given: no PIN, no CAN, no hash of either, no SMS text.
        let text = try #require(reply).text
        for secret in [doc.pin, "314159", "PIN:"] { #expect(!text.contains(secret), "\(secret)") }
        #expect(!text.contains("pin_hmac") && !text.contains("canHash") && !text.contains("body"))
        // Audited as an export, by the supervisor.
        #expect(try app.pool.query("SELECT count(*)::int8 FROM audit_event WHERE action = 'application.exported' AND entity_id = \(UUID(uuidString: doc.applicationID))")
            .first?.decode(Int.self, at: 0) == 1)
    }

    @Test func isForSupervisorsOfTheAuthority_only() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app), other = try AuthorityFixture.make(app)
        let (id, _) = try town.register(try town.login(app))
        #expect(try town.login(app).call("GET", "/api/v1/applications/\(id)/export")?.status == 403)
        #expect(StaffClient(port: app.port).call("GET", "/api/v1/applications/\(id)/export")?.status == 401)
        #expect(try other.login(app, as: "chef").call("GET", "/api/v1/applications/\(id)/export")?.status == 404)
        #expect(try town.login(app, as: "chef").call("GET", "/api/v1/applications/\(UUID())/export")?.status == 404)
        #expect(try town.login(app, as: "chef").call("GET", "/api/v1/applications/not-an-id/export")?.status == 404)
    }

    @Test func afterErasure_itShowsWhatStayed() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let anna = try town.login(app)
        let id = try CounterHandoverAPITests.readyAtCounter(app, town, anna, document: 961)
        #expect(anna.json("POST", "/api/v1/applications/\(id)/handover", json: ["collectedBy": "applicant", "identityChecked": true]).0 == 200)
        let before = try Self.object(try town.login(app, as: "chef").call("GET", "/api/v1/applications/\(id)/export"))
        let due = try #require((before["retention"] as? [String: Any])?["erasedBy"] as? String)
        // 30 days after the handover, compared as instants (comparing dates failed when a UTC midnight fell in between).
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions.insert(.withFractionalSeconds)
        let dueDate = try #require(fractional.date(from: due) ?? ISO8601DateFormatter().date(from: due), "\(due)")
        #expect(abs(dueDate.timeIntervalSince(Date().addingTimeInterval(30 * 86_400))) < 600, "\(due)")
        _ = try ErasureTests.pass(app).run(now: ErasureTests.later(days: 31))
        let export = try Self.object(try town.login(app, as: "chef").call("GET", "/api/v1/applications/\(id)/export"))
        let application = try #require(export["application"] as? [String: Any])
        #expect(application["familyName"] == nil && application["personalDataErasedAt"] != nil)
        #expect((export["smsMessages"] as? [[String: Any]])?.allSatisfy { $0["to"] == nil } == true)
        #expect((export["documents"] as? [[String: Any]])?.first?["documentNumber"] as? String != documentNumber(961))
        #expect((export["retention"] as? [String: Any])?["personalDataErasedAt"] != nil)
    }
}
