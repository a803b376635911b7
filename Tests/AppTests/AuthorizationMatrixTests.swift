@testable import App
import Crypto
import Foundation
import HTTPServer
import HTTPTestSupport
import Postgres
import Testing

/// Walks the one route table: every route × {anonymous, caseworker A, caseworker B (other authority),
/// supervisor A, box}, with the expected answer derived from the route's `Access` entry.
@Suite("Authorization matrix")
struct AuthorizationMatrixTests {
    enum Principal: String, CaseIterable {
        case anonymous, caseworkerA, caseworkerB, supervisorA, box
    }

    /// Objects of authority A that path parameters refer to.
    struct Objects {
        var application = "", vorgangsnummer = "", delivery = "", box = "", site = "", user = "", approval = ""
    }

    static func path(for pattern: String, _ o: Objects) -> String {
        var segments: [String] = []
        var previous = ""
        for segment in pattern.split(separator: "/", omittingEmptySubsequences: false).map(String.init) {
            switch segment {
            case "{id}":
                switch previous {
                case "applications": segments.append(o.application)
                case "deliveries": segments.append(o.delivery)
                case "boxes": segments.append(o.box)
                case "sites": segments.append(o.site)
                case "users": segments.append(o.user)
                case "approvals": segments.append(o.approval)
                case "pickups": segments.append(UUID().uuidString)   // no pickup session: the box gets 404, others 401
                default: Issue.record("no fixture for {id} after \(previous) in \(pattern)"); segments.append("x")
                }
            case "{number}": segments.append("1")
            case "{kind}": segments.append("reminder")
            case "{language}": segments.append("tr")
            case "{provider}": segments.append("webhook")
            case "{vorgangsnummer}": segments.append(o.vorgangsnummer)
            case "{day}": segments.append("2026-12-24")
            case "{version}": segments.append("current")
            case "{file...}": segments.append("app.js")
            default:
                if segment.hasPrefix("{") { Issue.record("no fixture for \(segment) in \(pattern)") }
                segments.append(segment)
            }
            previous = segment
        }
        return segments.joined(separator: "/")
    }

    /// What the table promises: nil = "anything but 401 and 403"; otherwise the allowed statuses.
    static func expected(_ access: Access, _ principal: Principal, method: HTTPMethod, refersToObject: Bool) -> Set<Int>? {
        switch (access, principal) {
        case (.public, _), (.metrics, _):
            return nil
        case (.provider, _):
            // No staff session or box token opens it: only the provider's signature (404 when another provider is configured).
            return [401, 404]
        case (.box, .box):
            return nil
        case (.box, _):
            return [401]
        case (_, .anonymous), (_, .box):
            return [401]
        case (.supervisor, .caseworkerA), (.supervisor, .caseworkerB):
            return [403]
        case (_, .caseworkerB):
            // Another authority's object answers as if it did not exist (a body may be refused first).
            return refersToObject ? (method == .GET ? [404] : [400, 404, 415]) : nil
        default:
            return nil
        }
    }

    @Test func everyRouteAnswersEveryPrincipal_asTheTableSays() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let a = try AuthorityFixture.make(app)
        let b = try AuthorityFixture.make(app)
        let boxID = try a.makeBox(app, rows: 2, columns: 2)
        let token = Crypto.token()
        try app.pool.execute("UPDATE box SET token_hash = \(Crypto.sha256(Array(token.utf8))) WHERE id = \(boxID)")
        let victim = UUID()
        try app.pool.execute("""
            INSERT INTO app_user (authority_id, id, username, display_name, role, password_hash)
            VALUES (\(a.authorityID), \(victim), 'victim', 'Victim', 'caseworker', \(TestPasswords.hash))
            """)
        var clients: [Principal: StaffClient] = [
            .anonymous: StaffClient(port: app.port),
            .caseworkerA: try a.login(app, as: "anna"),
            .caseworkerB: try b.login(app, as: "anna"),
            .supervisorA: try a.login(app, as: "chef"),
        ]
        let boxClient = StaffClient(port: app.port)
        clients[.box] = boxClient
        let setup = try a.login(app, as: "chef")
        let (applicationID, number) = try a.register(setup)
        let (_, delivery) = setup.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "M-1", "items": [["documentNumber": documentNumber(1), "vorgangsnummer": number]]])
        // A change of number after delivery, asked for by caseworker A: supervisor A may decide it.
        let (_, approval) = try #require(clients[.caseworkerA]).json("POST", "/api/v1/applications/\(applicationID)/mobile-number-changes",
                                                                      json: ["mobileNumber": "0171 7654321"])
        let objects = Objects(application: applicationID, vorgangsnummer: number, delivery: delivery["id"] as? String ?? "", box: boxID.uuidString,
                              site: a.siteID.uuidString, user: victim.uuidString, approval: approval["id"] as? String ?? "")

        // Logout last: it ends the session the other rows use.
        let entries = Routes.entries(for: app).sorted { ($0.route.pattern.hasSuffix("/logout") ? 1 : 0) < ($1.route.pattern.hasSuffix("/logout") ? 1 : 0) }
        var checked = 0
        for entry in entries {
            let route = entry.route
            let path = Self.path(for: route.pattern, objects)
            let refersToObject = route.pattern.contains("{id}")
            for principal in Principal.allCases {
                // The supervisor's own logout would end the session before the others; it is checked by the caseworker rows.
                if route.pattern.hasSuffix("/logout") && principal == .supervisorA { continue }
                guard let client = clients[principal] else { continue }
                var headers: [String] = []
                if principal == .box { headers.append("Authorization: Bearer \(token)") }
                let body: String? = route.method == .GET || route.method == .DELETE ? nil : (route.pattern.hasSuffix("/import") ? "document_number\n" : "{}")
                if route.pattern.hasSuffix("/import") { headers.append("Content-Type: text/csv") }
                let suffix = route.pattern.hasSuffix("/import") ? "?deliveryNoteNumber=M-2" : (entry.access == .box ? "?wait=0" : "")
                let reply = client.call(route.method.rawValue, path + suffix,
                                        body: body, headers: headers)
                let status = reply?.status ?? 0
                let cell = "\(route.method.rawValue) \(route.pattern) as \(principal.rawValue): \(status)"
                #expect(status != 0 && status < 500, "\(cell) \(reply?.text.prefix(200) ?? "")")
                if let allowed = Self.expected(entry.access, principal, method: route.method, refersToObject: refersToObject) {
                    #expect(allowed.contains(status), "\(cell), expected \(allowed.sorted())")
                } else {
                    #expect(status != 401 && status != 403, "\(cell), expected access")
                }
                checked += 1
            }
        }
        #expect(checked >= entries.count * 4)
    }
}
