@testable import App
import Foundation
import HTTPTestSupport
import Postgres
import Testing

@Suite("Users API")
struct UserAdminTests {
    nonisolated(unsafe) static let newUser: [String: Any] = ["username": "Berta.Klein", "displayName": "Berta Klein", "role": "caseworker", "password": "Bürgerbüro-2026-sicher"]

    static func body(_ overrides: [String: Any]) -> [String: Any] {
        var body = newUser
        for (k, v) in overrides { body[k] = v }
        return body
    }

    @Test func createsAUserWhoCanLogIn_andListsUsersWithoutHashes() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let chef = try town.login(app, as: "chef")
        let (status, user) = chef.json("POST", "/api/v1/users", json: Self.newUser)
        #expect(status == 201)
        #expect(user["username"] as? String == "berta.klein")
        #expect(user["role"] as? String == "caseworker")
        #expect(user["disabled"] as? Bool == false)
        #expect(user.keys.sorted() == ["createdAt", "disabled", "displayName", "hasBadge", "id", "role", "username"])
        let berta = StaffClient(port: app.port)
        let login = berta.call("POST", "/api/v1/auth/login", json: ["authority": town.slug, "username": "berta.klein", "password": "Bürgerbüro-2026-sicher"])
        #expect(login?.status == 200)
        let listing = try #require(chef.call("GET", "/api/v1/users"))
        #expect(listing.status == 200)
        #expect(!listing.text.contains("argon2"))
        #expect(!listing.text.lowercased().contains("password"))
        #expect(chef.list("/api/v1/users").map { $0["username"] as? String } == ["anna", "berta.klein", "chef"])
        let audit = try app.pool.query("SELECT action, detail::text FROM audit_event WHERE authority_id = \(town.authorityID) AND action = 'user.created'")
        #expect(audit.count == 1)
        #expect(try audit.first?.decode(String.self, at: 1).contains("Bürgerbüro") == false)
    }

    @Test func createsASupervisor_whoMayUseSupervisorRoutes() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let chef = try town.login(app, as: "chef")
        #expect(chef.json("POST", "/api/v1/users", json: Self.body(["username": "leitung", "role": "supervisor"])).0 == 201)
        let leitung = StaffClient(port: app.port)
        #expect(leitung.call("POST", "/api/v1/auth/login", json: ["authority": town.slug, "username": "leitung", "password": "Bürgerbüro-2026-sicher"])?.status == 200)
        #expect(leitung.call("GET", "/api/v1/users")?.status == 200)
    }

    nonisolated(unsafe) static let invalid: [(String, [String: Any], String, String)] = [
        ("space in username", ["username": "berta klein"], "invalid_username", "username"),
        ("umlaut in username", ["username": "jürgen"], "invalid_username", "username"),
        ("Kelvin sign in username", ["username": "\u{212A}arl"], "invalid_username", "username"),
        ("one-character username", ["username": "b"], "invalid_username", "username"),
        ("username starting with a dot", ["username": ".berta"], "invalid_username", "username"),
        ("NUL in username", ["username": HostileText.nul], "invalid_characters", "username"),
        ("SQL in username", ["username": "x'; DROP TABLE app_user; --"], "invalid_username", "username"),
        ("Arabic-Indic digits in username", ["username": "berta١٢"], "invalid_username", "username"),
        ("RTL override in display name", ["displayName": HostileText.rtlOverride], "invalid_characters", "displayName"),
        ("NUL in display name", ["displayName": HostileText.nul], "invalid_characters", "displayName"),
        ("unknown role", ["role": "admin"], "invalid_value", "role"),
        ("box role", ["role": "box"], "invalid_value", "role"),
        ("11-character password", ["password": "elf Zeichen"], "password_too_short", "password"),
        ("1025-byte password", ["password": String(repeating: "p", count: 1025)], "password_too_long", "password"),
        ("600 two-byte characters", ["password": String(repeating: "ü", count: 600)], "password_too_long", "password"),
        ("password as number", ["password": 123_456_789_012_345], "invalid_type", "password"),
        ("unknown field", ["passwordHash": "$argon2id$"], "unknown_field", "passwordHash"),
        ("missing password", ["password": NSNull()], "missing_field", "password"),
    ]

    @Test func refusesInvalidUsers_withA400NamingTheField() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let chef = try town.login(app, as: "chef")
        for (name, overrides, code, field) in Self.invalid {
            let (status, error) = chef.json("POST", "/api/v1/users", json: Self.body(overrides))
            #expect(status == 400, "\(name)")
            #expect(error["error"] as? String == code, "\(name): \(error)")
            #expect(error["field"] as? String == field, "\(name)")
        }
        #expect(chef.json("POST", "/api/v1/users", json: Self.body(["displayName": HostileText.huge])).0 == 413)
        #expect(try town.count(app, "SELECT count(*)::int8 FROM app_user WHERE authority_id = \(town.authorityID)") == 2)
    }

    @Test func refusesATakenUsername_with409_regardlessOfCase() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let chef = try town.login(app, as: "chef")
        let (status, error) = chef.json("POST", "/api/v1/users", json: Self.body(["username": "ANNA"]))
        #expect(status == 409)
        #expect(error["error"] as? String == "username_taken")
        #expect(error["field"] as? String == "username")
        // Usernames are per authority.
        let other = try AuthorityFixture.make(app)
        #expect(try other.login(app, as: "chef").json("POST", "/api/v1/users", json: Self.newUser).0 == 201)
        #expect(chef.json("POST", "/api/v1/users", json: Self.newUser).0 == 201)
    }

    @Test func disablesAUser_endingTheirSessionsAtOnce() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let anna = try town.login(app)
        let secondTab = try town.login(app)
        let chef = try town.login(app, as: "chef")
        let annaID = try #require(chef.list("/api/v1/users").first { $0["username"] as? String == "anna" }?["id"] as? String)
        #expect(anna.call("GET", "/api/v1/auth/me")?.status == 200)
        let (status, user) = chef.json("POST", "/api/v1/users/\(annaID)/disable")
        #expect(status == 200)
        #expect(user["disabled"] as? Bool == true)
        #expect(user["disabledAt"] is String)
        #expect(anna.call("GET", "/api/v1/auth/me")?.status == 401)
        #expect(secondTab.call("GET", "/api/v1/applications")?.status == 401)
        #expect(try town.count(app, "SELECT count(*)::int8 FROM session WHERE authority_id = \(town.authorityID) AND user_id = \(UUID(uuidString: annaID)!)") == 0)
        let relogin = StaffClient(port: app.port).call("POST", "/api/v1/auth/login", json: ["authority": town.slug, "username": "anna", "password": town.password])
        #expect(relogin?.status == 401)
        // Idempotent; audited once.
        #expect(chef.json("POST", "/api/v1/users/\(annaID)/disable").0 == 200)
        #expect(try town.auditActions(app).filter { $0 == "user.disabled" }.count == 1)
        #expect(chef.call("GET", "/api/v1/auth/me")?.status == 200)
    }

    @Test func refusesToDisableOneself_with409() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let chef = try town.login(app, as: "chef")
        let chefID = try #require(chef.list("/api/v1/users").first { $0["username"] as? String == "chef" }?["id"] as? String)
        let (status, error) = chef.json("POST", "/api/v1/users/\(chefID)/disable")
        #expect(status == 409)
        #expect(error["error"] as? String == "cannot_disable_self")
        #expect(chef.call("GET", "/api/v1/auth/me")?.status == 200)
    }

    @Test func hidesOtherAuthoritiesUsers_asNotFound() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let a = try AuthorityFixture.make(app)
        let b = try AuthorityFixture.make(app)
        let annaA = try a.login(app)
        let chefA = try a.login(app, as: "chef")
        let annaID = try #require(chefA.list("/api/v1/users").first { $0["username"] as? String == "anna" }?["id"] as? String)
        let chefB = try b.login(app, as: "chef")
        #expect(chefB.json("POST", "/api/v1/users/\(annaID)/disable").0 == 404)
        #expect(chefB.json("POST", "/api/v1/users/not-a-uuid/disable").0 == 404)
        #expect(!chefB.list("/api/v1/users").contains { $0["id"] as? String == annaID })
        #expect(annaA.call("GET", "/api/v1/auth/me")?.status == 200)
    }
}
