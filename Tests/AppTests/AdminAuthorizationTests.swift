@testable import App
import Foundation
import HTTPServer
import HTTPTestSupport
import Testing

@Suite("Administrative routes: who may call them")
struct AdminAuthorizationTests {
    /// Every route of the sites, boxes and users tables, with its access level.
    static func routes(site: UUID, box: String, user: UUID) -> [(method: String, path: String, access: Access)] {
        [
            ("GET", "/api/v1/sites", .caseworker),
            ("POST", "/api/v1/sites", .supervisor),
            ("PUT", "/api/v1/sites/\(site)/hours", .supervisor),
            ("POST", "/api/v1/sites/\(site)/exceptions", .supervisor),
            ("DELETE", "/api/v1/sites/\(site)/exceptions/2099-12-24", .supervisor),
            ("GET", "/api/v1/boxes", .caseworker),
            ("GET", "/api/v1/boxes/\(box)", .caseworker),
            ("POST", "/api/v1/boxes/\(box)/compartments/1/block", .caseworker),
            ("POST", "/api/v1/boxes/\(box)/compartments/1/unblock", .caseworker),
            ("POST", "/api/v1/boxes", .supervisor),
            ("POST", "/api/v1/boxes/\(box)/token", .supervisor),
            ("POST", "/api/v1/boxes/\(box)/compartments", .supervisor),
            ("GET", "/api/v1/users", .supervisor),
            ("POST", "/api/v1/users", .supervisor),
            ("POST", "/api/v1/users/\(user)/disable", .supervisor),
        ]
    }

    @Test func everyAdminRouteIsInTheRouteTable_withItsAccess() throws {
        let app = try AppFixture.make(AppFixture.makeConfiguration(), connectionString: "host=/nonexistent-pickupbox port=1 dbname=x")
        defer { app.shutdown() }
        let table = Dictionary(Routes.entries(for: app).map { ("\($0.route.method.rawValue) \($0.route.pattern)", $0.access) }, uniquingKeysWith: { a, _ in a })
        for route in Self.routes(site: UUID(), box: "{id}", user: UUID()) {
            let pattern = route.path.replacing(/[0-9A-F]{8}-[0-9A-F-]{27}/) { _ in "{id}" }
                .replacingOccurrences(of: "/1/", with: "/{number}/").replacingOccurrences(of: "2099-12-24", with: "{day}")
            #expect(table["\(route.method) \(pattern)"] == route.access, "\(route.method) \(pattern)")
        }
    }

    @Test func refusesCallsWithoutASession_with401() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let anonymous = StaffClient(port: app.port)
        for route in Self.routes(site: town.siteID, box: UUID().uuidString, user: UUID()) {
            let reply = anonymous.call(route.method, route.path, json: route.method == "GET" ? nil : [:])
            #expect(reply?.status == 401, "\(route.method) \(route.path)")
        }
    }

    @Test func refusesCaseworkersOnSupervisorRoutes_with403_andChangesNothing() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let chef = try town.login(app, as: "chef")
        let box = try town.makeBox(app, chef)
        let annaID = try #require(chef.list("/api/v1/users").first { $0["username"] as? String == "anna" }?["id"] as? String)
        let anna = try town.login(app)
        let before = try town.auditActions(app).count
        for route in Self.routes(site: town.siteID, box: box, user: try #require(UUID(uuidString: annaID))) where route.access == .supervisor {
            let reply = anna.call(route.method, route.path, json: route.method == "GET" ? nil : [:])
            #expect(reply?.status == 403, "\(route.method) \(route.path)")
            #expect(reply?.text.contains("forbidden") == true)
        }
        // The caseworker routes answer (not 401/403) for a caseworker.
        for route in Self.routes(site: town.siteID, box: box, user: UUID()) where route.access == .caseworker && route.method == "GET" {
            #expect(anna.call(route.method, route.path)?.status == 200, "\(route.path)")
        }
        // Only the logins were audited.
        #expect(try town.auditActions(app).dropFirst(before).allSatisfy { $0 == "auth.login" })
    }

    @Test func requiresTheCSRFToken_onAdminWrites() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let chef = try town.login(app, as: "chef")
        let reply = chef.call("POST", "/api/v1/sites", json: SiteAdminTests.newSite, csrf: false)
        #expect(reply?.status == 403)
        #expect(reply?.text.contains("csrf_token_invalid") == true)
    }
}
