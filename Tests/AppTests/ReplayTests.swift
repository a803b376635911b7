@testable import App
import Foundation
import HTTPTestSupport
import Postgres
import SMSGateway
import Testing

/// Issue 12 §4: a replayed delivery report changes nothing.
@Suite("Replayed delivery reports")
struct ReplayTests {
    typealias Reports = SMSDeliveryReportTests

    static func answer(_ reply: TestClient.Reply?) -> [String: Any] {
        reply.flatMap { try? JSONSerialization.jsonObject(with: Data($0.body)) as? [String: Any] } ?? [:]
    }

    @Test func webhook_aReplayedReport_isAcknowledgedAndChangesNothing_andAStaleOneIsRefused() throws {
        let app = try Reports.app(provider: .webhook)
        defer { app.shutdown() }
        let id = try Reports.sentMessage(app)
        let body = #"{"reference": "\#(id.uuidString.lowercased())", "status": "failed"}"#
        let now = Int(Date().timeIntervalSince1970)
        func headers(at timestamp: Int) -> [String] {
            ["Content-Type: application/json", "X-Timestamp: \(timestamp)",
             "X-Signature: " + DeliveryReports.webhookSignature(body: Array(body.utf8), timestamp: timestamp, secret: Array(SMSFixture.dlrSecret.utf8))]
        }
        let first = Reports.post(app, "webhook", body: body, headers: headers(at: now))
        #expect(first?.status == 200)
        #expect(Self.answer(first)["applied"] as? Int == 1)
        #expect(try Reports.status(app, id) == "failed")
        // Were the message sent again, the captured report must not fail it a second time.
        try app.pool.execute("UPDATE sms_message SET status = 'sent', final_at = NULL, error = NULL WHERE id = \(id)")
        let replay = Reports.post(app, "webhook", body: body, headers: headers(at: now))
        #expect(replay?.status == 200)
        #expect(Self.answer(replay)["replayed"] as? Int == 1)
        #expect(Self.answer(replay)["applied"] as? Int == 0)
        #expect(try Reports.status(app, id) == "sent")
        // A copy signed long ago (outside the 5-minute window) fails the signature check.
        #expect(Reports.post(app, "webhook", body: body, headers: headers(at: now - 400))?.status == 401)
        // A report without the signed timestamp is refused.
        #expect(Reports.post(app, "webhook", body: body, headers: headers(at: now).filter { !$0.hasPrefix("X-Timestamp") })?.status == 401)
        #expect(try Reports.status(app, id) == "sent")
        // Receipts are purged once no replay could pass the window.
        #expect(try SMSDeliveryReports.purge(app.pool) == 0)
        try app.pool.execute("UPDATE sms_report_receipt SET expires_at = now() - interval '1 second'")
        #expect(try SMSDeliveryReports.purge(app.pool) == 1)
    }

    @Test func twilio_theSameMessageAndStatus_countOnce() throws {
        let callback = "https://pickupbox.example.org/api/v1/sms/delivery-reports/twilio"
        let app = try Reports.app(provider: .twilio, token: "AC0123456789:auth-token-secret", secret: nil, callback: callback, sender: "+4915100000000")
        defer { app.shutdown() }
        let sid = "SM00000000000000000000000000000012"
        let id = try Reports.sentMessage(app, kind: "reminder", provider: "twilio", providerID: sid)
        func post(_ status: String) -> TestClient.Reply? {
            let parameters = [("MessageSid", sid), ("MessageStatus", status)]
            let signature = DeliveryReports.twilioSignature(url: callback, formParameters: parameters, authToken: "auth-token-secret")
            return Reports.post(app, "twilio", body: parameters.map { "\($0.0)=\($0.1)" }.joined(separator: "&"),
                                headers: ["Content-Type: application/x-www-form-urlencoded", "X-Twilio-Signature: \(signature)"])
        }
        #expect(Self.answer(post("undelivered"))["applied"] as? Int == 1)
        try app.pool.execute("UPDATE sms_message SET status = 'sent', final_at = NULL, error = NULL WHERE id = \(id)")
        let replay = post("undelivered")
        #expect(replay?.status == 200)
        #expect(Self.answer(replay)["replayed"] as? Int == 1)
        #expect(try Reports.status(app, id) == "sent")
        // Another status of the same message is news.
        #expect(Self.answer(post("delivered"))["applied"] as? Int == 1)
        #expect(try Reports.status(app, id) == "delivered")
    }

    @Test func seven_aReplayedNonce_changesNothing() throws {
        let callback = "https://pickupbox.example.org/api/v1/sms/delivery-reports/seven"
        let app = try Reports.app(provider: .seven, callback: callback)
        defer { app.shutdown() }
        let id = try Reports.sentMessage(app, kind: "reminder", provider: "seven", providerID: "77012")
        let body = #"{"webhook_event": "dlr", "data": {"msg_id": "77012", "status": "NOTDELIVERED"}}"#
        let now = Int(Date().timeIntervalSince1970)
        let signature = DeliveryReports.sevenSignature(method: "POST", url: callback, body: Array(body.utf8), timestamp: now, nonce: "n-12",
                                                       signingSecret: Array(SMSFixture.dlrSecret.utf8))
        let headers = ["Content-Type: application/json", "X-Timestamp: \(now)", "X-Nonce: n-12", "X-Signature: \(signature)"]
        #expect(Self.answer(Reports.post(app, "seven", body: body, headers: headers))["applied"] as? Int == 1)
        try app.pool.execute("UPDATE sms_message SET status = 'sent', final_at = NULL, error = NULL WHERE id = \(id)")
        #expect(Self.answer(Reports.post(app, "seven", body: body, headers: headers))["replayed"] as? Int == 1)
        #expect(try Reports.status(app, id) == "sent")
    }
}
