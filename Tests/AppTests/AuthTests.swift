@testable import App
import Foundation
import HTTPTestSupport
import Postgres
import Testing

@Suite("Login, sessions, CSRF")
struct AuthTests {
    @Test func logsIn_withHttpOnlyStrictCookie_andReportsTheUser() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let client = StaffClient(port: app.port)
        let reply = try #require(client.call("POST", "/api/v1/auth/login", json: ["authority": town.slug, "username": "anna", "password": town.password]))
        #expect(reply.status == 200)
        let setCookie = try #require(reply.header("Set-Cookie"))
        #expect(setCookie.contains("HttpOnly"))
        #expect(setCookie.contains("SameSite=Strict"))
        #expect(setCookie.contains("Path=/"))
        #expect(!setCookie.contains("Secure"))
        let (status, me) = client.json("GET", "/api/v1/auth/me")
        #expect(status == 200)
        #expect((me["user"] as? [String: Any])?["role"] as? String == "caseworker")
        #expect(me["csrfToken"] as? String == client.csrf)
    }

    @Test func refusesWrongPasswordAndUnknownUser_alike() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let client = StaffClient(port: app.port)
        let wrong = try #require(client.call("POST", "/api/v1/auth/login", json: ["authority": town.slug, "username": "anna", "password": "nope"]))
        let unknown = try #require(client.call("POST", "/api/v1/auth/login", json: ["authority": town.slug, "username": "nobody", "password": "nope"]))
        let noTown = try #require(client.call("POST", "/api/v1/auth/login", json: ["authority": "atlantis", "username": "anna", "password": "nope"]))
        #expect(wrong.status == 401)
        #expect(wrong.text == unknown.text)
        #expect(wrong.text == noTown.text)
        #expect(wrong.header("Set-Cookie") == nil)
    }

    @Test func throttlesFailedLogins_perAccount() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let client = StaffClient(port: app.port)
        for _ in 0..<5 {
            #expect(client.call("POST", "/api/v1/auth/login", json: ["authority": town.slug, "username": "anna", "password": "wrong"])?.status == 401)
        }
        let blocked = try #require(client.call("POST", "/api/v1/auth/login", json: ["authority": town.slug, "username": "anna", "password": town.password]))
        #expect(blocked.status == 429)
        #expect(Int(blocked.header("Retry-After") ?? "") ?? 0 > 0)
        // Another account is not affected.
        #expect(client.call("POST", "/api/v1/auth/login", json: ["authority": town.slug, "username": "chef", "password": town.password])?.status == 200)
    }

    @Test func newSessionAtEveryLogin_andLogoutEndsItOnTheServer() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let first = try town.login(app)
        let second = try town.login(app)
        #expect(first.cookie != second.cookie)
        let stolen = first.cookie
        #expect(first.call("POST", "/api/v1/auth/logout")?.status == 204)
        let replay = StaffClient(port: app.port)
        replay.cookie = stolen
        #expect(replay.call("GET", "/api/v1/auth/me")?.status == 401)
        #expect(second.call("GET", "/api/v1/auth/me")?.status == 200)
    }

    @Test func requiresTheCSRFToken_onStateChangingCalls() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let client = try town.login(app)
        let noToken = try #require(client.call("POST", "/api/v1/auth/logout", csrf: false))
        #expect(noToken.status == 403)
        #expect(noToken.text.contains("csrf_token_invalid"))
        let wrongToken = try #require(client.call("POST", "/api/v1/auth/logout", headers: ["X-CSRF-Token: forged"], csrf: false))
        #expect(wrongToken.status == 403)
        #expect(client.call("GET", "/api/v1/auth/me")?.status == 200)
    }

    @Test func expiresIdleSessions() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let client = try town.login(app)
        try app.pool.execute("UPDATE session SET last_seen_at = now() - interval '31 minutes' WHERE authority_id = \(town.authorityID)")
        #expect(client.call("GET", "/api/v1/auth/me")?.status == 401)
        let other = try town.login(app)
        try app.pool.execute("UPDATE session SET expires_at = now() - interval '1 second' WHERE authority_id = \(town.authorityID)")
        #expect(other.call("GET", "/api/v1/auth/me")?.status == 401)
    }

    @Test func passwordHashesAreArgon2id_andVerify() {
        let hash = PasswordHasher.hash("geheim")
        #expect(hash.hasPrefix("$argon2id$v=19$m=19456,t=2,p=1$"))
        #expect(PasswordHasher.verify("geheim", against: hash))
        #expect(!PasswordHasher.verify("Geheim", against: hash))
        #expect(!PasswordHasher.verify("geheim", against: "not a hash"))
    }
}
