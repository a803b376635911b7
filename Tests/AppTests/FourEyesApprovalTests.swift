@testable import App
import Foundation
import HTTPTestSupport
import Postgres
import Testing

/// Issue 12 §1: one insider cannot redirect the PIN of a delivered document to another phone.
@Suite("Four-eyes: mobile number and new PIN after delivery")
struct FourEyesApprovalTests {
    static let oldNumber = "+491711234567"
    static let newNumber = "+491717654321"

    /// The numbers and texts (opened as the dispatcher opens them) of one application's messages of `kind`.
    static func messages(_ app: Application, _ applicationID: String, kind: String) throws -> [(to: String, body: String)] {
        let id = UUID(uuidString: applicationID) ?? UUID()
        let filter = "application_id = '\(id.uuidString.lowercased())' AND template = '\(kind.filter { $0.isLetter || $0 == "_" })'"
        let numbers = try app.pool.query("SELECT to_number FROM sms_message WHERE \(unsafeSQL: filter) ORDER BY created_at, id").map { try $0.decode(String.self, at: 0) }
        return Array(zip(numbers, try SMSFixture.texts(app, where: filter)))
    }

    @Test func oneStaffMemberAlone_cannotRedirectALoadedDocument_atAnyStep() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 1201)
        let anna = try town.login(app)
        let chef = try town.login(app, as: "chef")
        // Step 1: changing the number directly is refused, whoever tries.
        for client in [anna, chef] {
            let (status, error) = client.json("PATCH", "/api/v1/applications/\(doc.applicationID)", json: ["mobileNumber": "0171 7654321"])
            #expect(status == 409)
            #expect(error["error"] as? String == "mobile_number_change_needs_approval")
        }
        // Step 2: asking for it changes nothing yet, and a new PIN meanwhile still goes to the old number.
        let (asked, request) = anna.json("POST", "/api/v1/applications/\(doc.applicationID)/mobile-number-changes", json: ["mobileNumber": "0171 7654321"])
        #expect(asked == 202)
        #expect(request["state"] as? String == "pending")
        #expect(request["mobileNumber"] as? String == Self.newNumber)
        #expect(anna.json("GET", "/api/v1/applications/\(doc.applicationID)").1["mobileNumber"] as? String == Self.oldNumber)
        #expect(anna.json("POST", "/api/v1/applications/\(doc.applicationID)/pin").0 == 200)
        #expect(try Self.messages(app, doc.applicationID, kind: "new_pin").map(\.to) == [Self.oldNumber])
        // Step 3: the requester cannot approve — not as a caseworker, and a supervisor not their own request.
        let approval = try #require(request["id"] as? String)
        let (refused, forbidden) = anna.json("POST", "/api/v1/approvals/\(approval)/approve")
        #expect(refused == 403)
        #expect(forbidden["error"] as? String == "forbidden")
        let (own, ownRequest) = chef.json("POST", "/api/v1/applications/\(doc.applicationID)/mobile-number-changes", json: ["mobileNumber": "0171 7654321"])
        #expect(own == 202)
        let (selfApproved, selfError) = chef.json("POST", "/api/v1/approvals/\(ownRequest["id"] as? String ?? "")/approve")
        #expect(selfApproved == 403)
        #expect(selfError["error"] as? String == "second_staff_member_required")
        // anna's request was superseded by chef's; neither took effect, and nobody was told of a change.
        #expect(anna.json("GET", "/api/v1/approvals/\(approval)").1["state"] as? String == "superseded")
        #expect(anna.json("GET", "/api/v1/applications/\(doc.applicationID)").1["mobileNumber"] as? String == Self.oldNumber)
        #expect(try Self.messages(app, doc.applicationID, kind: "mobile_number_changed").isEmpty)
        // The database itself refuses a decision by the requester.
        #expect(throws: PostgresError.self) {
            try app.pool.execute("UPDATE staff_approval SET state = 'approved', decided_by = requested_by, decided_at = now() WHERE state = 'pending'")
        }
    }

    @Test func twoStaffMembers_changeTheNumber_theOldNumberIsTold_andANewPinToItNeedsTwoAgain() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 1202)
        let anna = try town.login(app)
        let chef = try town.login(app, as: "chef")
        let (_, request) = anna.json("POST", "/api/v1/applications/\(doc.applicationID)/mobile-number-changes", json: ["mobileNumber": "0171 7654321"])
        let approval = try #require(request["id"] as? String)
        let pending = chef.json("GET", "/api/v1/approvals?state=pending").1["items"] as? [[String: Any]] ?? []
        #expect(pending.map { $0["id"] as? String } == [approval])
        #expect(pending.first?["currentMobileNumber"] as? String == Self.oldNumber)
        let (approved, decided) = chef.json("POST", "/api/v1/approvals/\(approval)/approve")
        #expect(approved == 200)
        #expect(decided["state"] as? String == "approved")
        #expect((decided["decidedBy"] as? [String: Any])?["displayName"] as? String == "Chef")
        let application = anna.json("GET", "/api/v1/applications/\(doc.applicationID)").1
        #expect(application["mobileNumber"] as? String == Self.newNumber)
        #expect(application["mobileNumberChangedAt"] != nil)
        // The old number is told, without the new one.
        let notices = try Self.messages(app, doc.applicationID, kind: "mobile_number_changed")
        #expect(notices.map(\.to) == [Self.oldNumber])
        #expect(notices.first.map { !$0.body.contains("7654321") && $0.body.contains("geändert") } == true)
        #expect(chef.json("POST", "/api/v1/approvals/\(approval)/approve").1["error"] as? String == "approval_not_pending")

        // A new PIN to the number changed minutes ago: asked for by one, sent only on a second one's approval.
        let (asked, pinRequest) = anna.json("POST", "/api/v1/applications/\(doc.applicationID)/pin")
        #expect(asked == 202)
        #expect(pinRequest["kind"] as? String == "pin_reissue")
        #expect(pinRequest["mobileNumber"] as? String == Self.newNumber)
        #expect(try Self.messages(app, doc.applicationID, kind: "new_pin").isEmpty)
        let pinApproval = try #require(pinRequest["id"] as? String)
        #expect(anna.json("POST", "/api/v1/approvals/\(pinApproval)/approve").0 == 403)
        #expect(chef.json("POST", "/api/v1/approvals/\(pinApproval)/approve").0 == 200)
        let pins = try Self.messages(app, doc.applicationID, kind: "new_pin")
        #expect(pins.map(\.to) == [Self.newNumber])
        let text = pins.first?.body ?? ""
        let pin = try #require(text.range(of: #"[0-9]{6}"#, options: .regularExpression).map { String(text[$0]) })
        #expect(boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 7654321", "pin": pin]).0 == 201)

        // Both steps of both requests are in the audit log, with ids only.
        let actions = try town.auditActions(app)
        for action in ["application.mobile_number_change_requested", "application.mobile_number_change_approved",
                       "application.pin_reissue_requested", "application.pin_reissue_approved", "application.pin_reissued"] {
            #expect(actions.contains(action), "\(action)")
        }
        let events = anna.call("GET", "/api/v1/applications/\(doc.applicationID)/events")?.text ?? ""
        #expect(!events.contains("7654321") && !events.contains("1234567") && !events.contains(pin))
    }

    @Test func aRejectedChange_changesNothing_andBeforeDeliveryOneCaseworkerChangesTheNumberDirectly() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 1203)
        let anna = try town.login(app)
        let chef = try town.login(app, as: "chef")
        let (_, request) = anna.json("POST", "/api/v1/applications/\(doc.applicationID)/mobile-number-changes", json: ["mobileNumber": "0171 7654321"])
        let (rejected, decided) = chef.json("POST", "/api/v1/approvals/\(request["id"] as? String ?? "")/reject")
        #expect(rejected == 200)
        #expect(decided["state"] as? String == "rejected")
        #expect(anna.json("GET", "/api/v1/applications/\(doc.applicationID)").1["mobileNumber"] as? String == Self.oldNumber)
        #expect(try Self.messages(app, doc.applicationID, kind: "mobile_number_changed").isEmpty)
        #expect(try town.auditActions(app).contains("application.mobile_number_change_rejected"))
        // Asking for the number it has, or an invalid one, is refused at once.
        #expect(anna.json("POST", "/api/v1/applications/\(doc.applicationID)/mobile-number-changes", json: ["mobileNumber": "0171 1234567"]).1["error"] as? String
                == "mobile_number_unchanged")
        #expect(anna.json("POST", "/api/v1/applications/\(doc.applicationID)/mobile-number-changes", json: ["mobileNumber": "12"]).0 == 400)

        // Before delivery nothing can be collected with the number: a caseworker changes it alone.
        let (fresh, _) = try town.register(anna)
        #expect(anna.json("POST", "/api/v1/applications/\(fresh)/mobile-number-changes", json: ["mobileNumber": "0171 7654321"]).1["error"] as? String
                == "approval_not_needed")
        let (patched, changed) = anna.json("PATCH", "/api/v1/applications/\(fresh)", json: ["mobileNumber": "0171 7654321"])
        #expect(patched == 200)
        #expect(changed["mobileNumber"] as? String == Self.newNumber)
        #expect(changed["mobileNumberChangedAt"] != nil)
        #expect(chef.json("GET", "/api/v1/approvals?applicationId=not-a-uuid").0 == 400)
        #expect(chef.json("GET", "/api/v1/approvals?state=maybe").0 == 400)
        #expect(chef.json("GET", "/api/v1/approvals/\(UUID())").0 == 404)
    }
}
