@testable import App
import Foundation
import HTTPTestSupport
import Postgres
import Testing

/// An authority with a site, a supervisor and a caseworker, inserted directly.
struct AuthorityFixture {
    let authorityID: UUID
    let slug: String
    let siteID: UUID
    let password = "correct horse battery staple"

    static func make(_ app: Application, slug: String = "town-\(UUID().uuidString.prefix(8).lowercased())") throws -> AuthorityFixture {
        let fixture = AuthorityFixture(authorityID: UUID(), slug: slug, siteID: UUID())
        try app.pool.transaction { c in
            try c.execute("INSERT INTO authority (id, slug, name) VALUES (\(fixture.authorityID), \(slug), 'Ausländerbehörde Test')")
            try c.execute("""
                INSERT INTO site (authority_id, id, name, address, land) VALUES (\(fixture.authorityID), \(fixture.siteID), 'Bürgerhaus', 'Markt 1, 44135 Dortmund', 'NW')
                """)
            try c.execute("""
                INSERT INTO site_pickup_hours (authority_id, site_id, weekday, opens, closes)
                SELECT \(fixture.authorityID), \(fixture.siteID), d, '06:00', '17:00' FROM generate_series(1, 5) d
                """)
            for (name, role) in [("chef", "supervisor"), ("anna", "caseworker")] {
                try c.execute("""
                    INSERT INTO app_user (authority_id, id, username, display_name, role, password_hash)
                    VALUES (\(fixture.authorityID), \(UUID()), \(name), \(name.capitalized), \(role), \(TestPasswords.hash))
                    """)
            }
        }
        return fixture
    }

    func login(_ app: Application, as username: String = "anna") throws -> StaffClient {
        let client = StaffClient(port: app.port)
        let reply = try #require(client.call("POST", "/api/v1/auth/login", json: ["authority": slug, "username": username, "password": password]))
        #expect(reply.status == 200, "login failed: \(reply.text)")
        return client
    }
}

enum TestPasswords {
    /// Argon2id of the fixture password, computed once (each hash costs ~30 ms).
    static let hash: String = PasswordHasher.hash("correct horse battery staple")
}

/// A logged-in browser: keeps the session cookie and sends the CSRF token.
final class StaffClient {
    let port: Int
    var cookie: String?
    var csrf: String?
    /// The loopback address to connect from (another "client machine"); nil: 127.0.0.1.
    var source: String?

    init(port: Int, source: String? = nil) {
        self.port = port
        self.source = source
    }

    @discardableResult
    func call(_ method: String, _ path: String, json: [String: Any]? = nil, body: String? = nil, headers: [String] = [], csrf sendCSRF: Bool = true) -> TestClient.Reply? {
        var all = headers
        if let cookie { all.append("Cookie: \(cookie)") }
        if sendCSRF, let csrf, method != "GET" { all.append("X-CSRF-Token: \(csrf)") }
        var text = body
        if let json {
            text = String(decoding: (try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
        }
        if text != nil { all.append("Content-Type: application/json") }
        // 30 s guards against a hang only: on a busy 2-core machine running suites side by side an answer can take longer than TestClient's default 5 s.
        guard let client = try? TestClient(port: port, timeout: 30, source: source), let reply = client.request(method, path, headers: all, body: text) else { return nil }
        if let setCookie = reply.header("Set-Cookie"), let pair = setCookie.split(separator: ";").first {
            cookie = pair.hasSuffix("=") ? nil : String(pair)
        }
        if let token = (try? JSONSerialization.jsonObject(with: Data(reply.body))) as? [String: Any], let t = token["csrfToken"] as? String {
            csrf = t
        }
        return reply
    }

    func json(_ method: String, _ path: String, json: [String: Any]? = nil, headers: [String] = []) -> (Int, [String: Any]) {
        let reply = call(method, path, json: json, headers: headers)
        let object = reply.flatMap { try? JSONSerialization.jsonObject(with: Data($0.body)) as? [String: Any] } ?? [:]
        return (reply?.status ?? 0, object)
    }
}
