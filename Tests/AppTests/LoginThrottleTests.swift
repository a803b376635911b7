@testable import App
import Foundation
import HTTPTestSupport
import Postgres
import Testing

/// Issue 12 §3: strangers cannot lock a user out, and the throttle's table stays small.
@Suite("Login throttling against lockout and table growth")
struct LoginThrottleTests {
    /// Loopback is the trusted proxy, so each test names its client address in X-Forwarded-For.
    static func setUp() throws -> (Application, AuthorityFixture) {
        let app = try AppFixture.make { $0.trustedProxies = TrustedProxies.parse("127.0.0.1") ?? .none }
        return (app, try AuthorityFixture.make(app))
    }

    static func login(_ app: Application, _ town: AuthorityFixture, _ username: String, password: String, from address: String) -> TestClient.Reply? {
        StaffClient(port: app.port).call("POST", "/api/v1/auth/login", json: ["authority": town.slug, "username": username, "password": password],
                                         headers: ["X-Forwarded-For: \(address)"])
    }

    @Test func anAttackerHammeringAnna_doesNotStopAnnaAtHerUsualAddress() throws {
        let (app, town) = try Self.setUp()
        defer { app.shutdown() }
        let usual = "10.20.30.40", attacker = "203.0.113.66", travelling = "198.51.100.7"
        #expect(Self.login(app, town, "anna", password: town.password, from: usual)?.status == 200)
        // Five free failures from the attacker, then the account is delayed for unknown addresses …
        for _ in 0..<5 { #expect(Self.login(app, town, "anna", password: "guess", from: attacker)?.status == 401) }
        let delayed = try #require(Self.login(app, town, "anna", password: "guess", from: attacker))
        #expect(delayed.status == 429)
        #expect(Int(delayed.header("Retry-After") ?? "") == 2)
        #expect(Self.login(app, town, "anna", password: town.password, from: travelling)?.status == 429)
        // … but not for the address anna logs in from.
        #expect(Self.login(app, town, "anna", password: town.password, from: usual)?.status == 200)

        // The attacker keeps going: the address is blocked, and from then on nothing counts against anna.
        let accountKey = LoginThrottle.accountKey(town.authorityID, "anna", knownAddress: nil)
        func accountFailures() throws -> Int {
            try app.pool.query("SELECT failures FROM login_throttle WHERE key = \(accountKey)").first?.decode(Int.self, at: 0) ?? 0
        }
        for _ in 0..<25 { _ = Self.login(app, town, "anna", password: "guess", from: attacker) }
        let blocked = try #require(try app.pool.query("SELECT blocked_until > now() FROM login_throttle WHERE key = \(LoginThrottle.addressKey(attacker))").first)
        #expect(try blocked.decode(Bool.self, at: 0))
        let failuresWhenBlocked = try accountFailures()
        for _ in 0..<50 { #expect(Self.login(app, town, "anna", password: "guess", from: attacker)?.status == 429) }
        #expect(try accountFailures() == failuresWhenBlocked)
        #expect(Self.login(app, town, "anna", password: town.password, from: usual)?.status == 200)
        // Guessing from anna's own address is bounded too, on a counter of its own.
        for _ in 0..<5 { #expect(Self.login(app, town, "anna", password: "typo", from: usual)?.status == 401) }
        #expect(Self.login(app, town, "anna", password: town.password, from: usual)?.status == 429)
        #expect(Self.login(app, town, "chef", password: town.password, from: usual)?.status == 200)
    }

    @Test func throttleRows_stayBounded_under100000AttemptsWithRandomUsernames_andExpire() throws {
        let (app, town) = try Self.setUp()
        defer { app.shutdown() }
        let port = app.port
        let sent = Mutex64()
        let statuses = Mutex64()
        // 100,000 attempts, pipelined 100 at a time on 8 keep-alive connections.
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            guard let client = try? TestClient(port: port, timeout: 30) else { return }
            for _ in 0..<(100_000 / 8 / 100) {
                var batch = ""
                for _ in 0..<100 {
                    let body = #"{"authority":"\#(town.slug)","username":"u\#(UInt64.random(in: 0...UInt64.max))","password":"x"}"#
                    batch += "POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 203.0.113.\(worker % 2)\r\n"
                        + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
                }
                client.send(batch)
                for _ in 0..<100 {
                    guard let reply = client.readResponse() else { return }
                    sent.add()
                    if reply.status == 401 || reply.status == 429 { statuses.add() }
                }
            }
        }
        #expect(sent.value == 100_000)
        #expect(statuses.value == 100_000)
        // Two attacking addresses, no account rows for usernames that do not exist.
        let rows = try app.pool.query("SELECT count(*)::int8 FROM login_throttle").first?.decode(Int.self, at: 0) ?? -1
        #expect(rows == 2)
        // A real account's counter and the addresses' expire and are purged.
        _ = Self.login(app, town, "anna", password: "wrong", from: "192.0.2.1")
        #expect(try app.pool.query("SELECT count(*)::int8 FROM login_throttle").first?.decode(Int.self, at: 0) == 4)
        #expect(try LoginThrottle.purge(app.pool) == 0)
        try app.pool.execute("UPDATE login_throttle SET expires_at = now() - interval '1 second', blocked_until = NULL")
        #expect(try LoginThrottle.purge(app.pool) == 4)
    }
}
