@testable import App
import Foundation
import HTTPServer
import HTTPTestSupport
import Postgres
import Testing

@Suite("Client addresses behind a proxy, throttling races, lifecycle corners")
struct ReviewFixTests {
    @Test func believesXForwardedFor_onlyFromTrustedProxies() throws {
        let trusted = try #require(TrustedProxies.parse("127.0.0.1, 10.0.0.0/8, fd00::/8"))
        func request(_ peer: String, _ forwarded: String?) -> Request {
            var headers: HTTPHeaders = [:]
            if let forwarded { headers.add("X-Forwarded-For", forwarded) }
            return Request(method: .GET, target: "/", headers: headers, remoteAddress: peer)
        }
        #expect(trusted.clientAddress(of: request("127.0.0.1", "203.0.113.5")) == "203.0.113.5")
        #expect(trusted.clientAddress(of: request("127.0.0.1", "198.51.100.9, 203.0.113.5, 10.1.2.3")) == "203.0.113.5")
        #expect(trusted.clientAddress(of: request("192.0.2.1", "203.0.113.5")) == "192.0.2.1")
        #expect(trusted.clientAddress(of: request("127.0.0.1", "not an address")) == "127.0.0.1")
        #expect(trusted.contains("fd12::1"))
        #expect(!trusted.contains("fe80::1"))
        #expect(TrustedProxies.parse("10.0.0.0/33") == nil)
        #expect(TrustedProxies.parse("example.org") == nil)
        #expect(TrustedProxies.limiterKey("2001:db8:1:2:3:4:5:6") == TrustedProxies.limiterKey("2001:db8:1:2:ffff::1"))
        #expect(TrustedProxies.limiterKey("203.0.113.5") == "203.0.113.5")
    }

    @Test func throttlesPerForwardedAddress_behindATrustedProxy() throws {
        let app = try AppFixture.make { c in
            c.trustedProxies = TrustedProxies.parse("127.0.0.1") ?? .none
            c.loginFailuresPerAddress = 3
            c.loginFailuresPerAccount = 100
        }
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let client = StaffClient(port: app.port)
        for _ in 0..<3 {
            #expect(client.call("POST", "/api/v1/auth/login", json: ["authority": town.slug, "username": "anna", "password": "x"], headers: ["X-Forwarded-For: 203.0.113.5"])?.status == 401)
        }
        #expect(client.call("POST", "/api/v1/auth/login", json: ["authority": town.slug, "username": "anna", "password": town.password], headers: ["X-Forwarded-For: 203.0.113.5"])?.status == 429)
        #expect(client.call("POST", "/api/v1/auth/login", json: ["authority": town.slug, "username": "anna", "password": town.password], headers: ["X-Forwarded-For: 203.0.113.6"])?.status == 200)
        let audit = try app.pool.query("SELECT client_address FROM audit_event WHERE action = 'auth.login' ORDER BY id DESC LIMIT 1").first?.decode(String.self, at: 0)
        #expect(audit == "203.0.113.6")
    }

    @Test func countsParallelGuesses_beforeCheckingThePassword() throws {
        let app = try AppFixture.make { c in c.workerThreads = 16 }
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let refused = Mutex64(), checked = Mutex64()
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            let status = StaffClient(port: app.port).call("POST", "/api/v1/auth/login", json: ["authority": town.slug, "username": "anna", "password": "guess"])?.status
            if status == 429 { refused.add() } else if status == 401 { checked.add() }
        }
        #expect(checked.value == 5)
        #expect(refused.value == 11)
    }

    @Test func switchingADeliveredDocumentToTheCounter_makesItReadyThere() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let client = try town.login(app)
        let (id, number) = try town.register(client, ["feeSettled": false])
        _ = client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "C-1", "items": [["documentNumber": documentNumber(7), "vorgangsnummer": number]]])
        #expect(client.json("GET", "/api/v1/applications/\(id)").1["state"] as? String == "delivered")
        let (status, updated) = client.json("PATCH", "/api/v1/applications/\(id)", json: ["pickupMethod": "counter"])
        #expect(status == 200)
        #expect(updated["state"] as? String == "ready_at_counter")
    }

    @Test func refusesToCancelOneOfAHousehold_whoseSharedCompartmentIsLoaded() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        try town.makeBox(app, rows: 1, columns: 2)
        let client = try town.login(app)
        let family = UUID().uuidString
        let (a, na) = try town.register(client, ["householdGroup": family])
        let (_, nb) = try town.register(client, ["householdGroup": family, "givenNames": "Kind"])
        _ = client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "H-9", "items": [
            ["documentNumber": documentNumber(71), "vorgangsnummer": na], ["documentNumber": documentNumber(72), "vorgangsnummer": nb],
        ]])
        try app.pool.execute("UPDATE assignment SET status = 'loaded' WHERE authority_id = \(town.authorityID)")
        try app.pool.execute("UPDATE application SET state = 'ready_in_box' WHERE authority_id = \(town.authorityID)")
        let (status, error) = client.json("POST", "/api/v1/applications/\(a)/cancel", json: ["reason": "zurückgezogen"])
        #expect(status == 409)
        #expect(error["error"] as? String == "household_shares_compartment")
        let occupied = try app.pool.query("SELECT count(*)::int8 FROM compartment WHERE authority_id = \(town.authorityID) AND state = 'occupied'").first?.decode(Int.self, at: 0)
        #expect(occupied == 1)
    }
}
