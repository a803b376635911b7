@testable import App
import Foundation
import HTTPTestSupport
import Postgres
import Testing

/// Access is decided from the request head, before the body is read: a client without credentials
/// cannot make the server hold its body (docs/ARCHITECTURE.md#faults).
@Suite("Access decided before the body")
struct AdmissionTests {
    /// A head announcing `length` bytes of JSON and the first `sent` bytes of it.
    static func post(_ path: String, length: Int = 1_000_000, headers: [String] = [], expectContinue: Bool = false) -> String {
        var text = "POST \(path) HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: \(length)\r\n"
        if expectContinue { text += "Expect: 100-continue\r\n" }
        for h in headers { text += h + "\r\n" }
        return text + "\r\n"
    }

    @Test func staffRouteWithoutSession_answers401AtOnce_withoutContinue_andCloses() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let client = try TestClient(port: app.port, timeout: 3)
        client.send(Self.post("/api/v1/deliveries", expectContinue: true))
        let reply = try #require(client.readResponse())
        #expect(reply.status == 401, "no 100 Continue before the decision")
        #expect(reply.text.contains(#""error":"unauthenticated""#))
        #expect(reply.header("Connection") == "close")
        #expect(client.isClosedByPeer())
    }

    @Test func staffRouteWithUnknownSession_answers401_beforeTheBodyArrives() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let client = try TestClient(port: app.port, timeout: 3)
        let forged = "Cookie: pickupbox_session=\(UUID().uuidString.lowercased()).\(String(repeating: "x", count: 43))"
        // Most of a 1 MB body, never completed: the answer must not wait for the rest.
        client.send(Self.post("/api/v1/deliveries", headers: [forged, "X-CSRF-Token: t"]) + String(repeating: " ", count: 64 * 1024))
        let started = Date()
        let reply = try #require(client.readResponse())
        #expect(reply.status == 401)
        #expect(Date().timeIntervalSince(started) < 2)
        #expect(client.isClosedByPeer())
    }

    @Test func staffRouteWithoutCSRFToken_answers403_beforeTheBody() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let staff = try town.login(app)
        let client = try TestClient(port: app.port, timeout: 3)
        client.send(Self.post("/api/v1/deliveries", headers: ["Cookie: \(staff.cookie ?? "")"], expectContinue: true))
        let reply = try #require(client.readResponse())
        #expect(reply.status == 403)
        #expect(reply.text.contains(#""error":"csrf_token_invalid""#))
        #expect(client.isClosedByPeer())
    }

    @Test func supervisorRouteForACaseworker_answers403_beforeTheBody() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let staff = try town.login(app)
        let client = try TestClient(port: app.port, timeout: 3)
        client.send(Self.post("/api/v1/users", length: 4000, headers: ["Cookie: \(staff.cookie ?? "")", "X-CSRF-Token: \(staff.csrf ?? "")"], expectContinue: true))
        let reply = try #require(client.readResponse())
        #expect(reply.status == 403)
        #expect(reply.text.contains(#""error":"forbidden""#))
    }

    @Test func admittedStaffRequest_getsContinue_thenItsAnswer() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let staff = try town.login(app)
        let body = #"{"deliveryNoteNumber":"LS-1","items":[{"documentNumber":"L01X00T47"}]}"#
        let client = try TestClient(port: app.port, timeout: 3)
        client.send(Self.post("/api/v1/deliveries", length: body.utf8.count, headers: ["Cookie: \(staff.cookie ?? "")", "X-CSRF-Token: \(staff.csrf ?? "")"], expectContinue: true))
        #expect(client.readResponse()?.status == 100)
        client.send(body)
        let reply = try #require(client.readResponse())
        #expect(reply.status == 201, "\(reply.text)")
        // The connection stays usable.
        #expect(client.request("GET", "/api/v1/auth/session", headers: ["Cookie: \(staff.cookie ?? "")"])?.status == 200)
    }

    @Test func boxRouteWithoutValidToken_answers401_beforeTheBody() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        for authorization in [[], ["Authorization: Bearer " + String(repeating: "z", count: 40)]] {
            let client = try TestClient(port: app.port, timeout: 3)
            client.send(Self.post("/api/v1/box/events", length: 4000, headers: authorization, expectContinue: true))
            let reply = try #require(client.readResponse())
            #expect(reply.status == 401)
            #expect(reply.text.contains(#""error":"invalid_box_token""#))
            #expect(client.isClosedByPeer())
        }
    }

    @Test func unknownPathWithABody_answers404_withoutReadingIt() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let client = try TestClient(port: app.port, timeout: 3)
        client.send(Self.post("/api/v1/nothing-here", expectContinue: true))
        #expect(client.readResponse()?.status == 404)
        #expect(client.isClosedByPeer())
    }

    @Test func publicRoutes_takeOnlySmallBodies() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        for path in ["/api/v1/auth/login", "/api/v1/sms/delivery-reports/webhook"] {
            let client = try TestClient(port: app.port, timeout: 3)
            client.send(Self.post(path, length: 100_000, expectContinue: true))
            #expect(client.readResponse()?.status == 413, "\(path)")
        }
        let client = try TestClient(port: app.port, timeout: 3)
        client.send("GET /health HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n")
        #expect(client.readResponse()?.status == 413)
    }

    @Test func deliveryReportWithoutSignature_answers401_beforeTheBody() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let client = try TestClient(port: app.port, timeout: 3)
        client.send(Self.post("/api/v1/sms/delivery-reports/webhook", length: 1000, expectContinue: true))
        let reply = try #require(client.readResponse())
        #expect(reply.status == 401)
        #expect(reply.text.contains(#""error":"invalid_signature""#))
    }
}
