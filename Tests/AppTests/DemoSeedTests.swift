@testable import App
import Foundation
import HTTPTestSupport
import Postgres
import PostgresTestSupport
import Testing

@Suite("Demo seed")
struct DemoSeedTests {
    @Test func seedsOnce_aBoxWith456Compartments_loginsTokenAndApplications() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let connection = try TestPostgres.shared().connectionString(database: try app.pool.query("SELECT current_database()").first!.decode(String.self, at: 0))
        let created = try #require(try DemoSeed.run(connectionString: connection, logger: AppFixture.logger))
        let credentials = created.credentials
        #expect(credentials.map(\.role).sorted() == ["caseworker", "supervisor"])
        #expect(try DemoSeed.run(connectionString: connection, logger: AppFixture.logger) == nil)
        let counts = try app.pool.query("""
            SELECT (SELECT count(*) FROM compartment)::int8, (SELECT count(*) FROM compartment WHERE accessible)::int8,
                   (SELECT max(row_index) FROM compartment WHERE NOT accessible)::int8, (SELECT count(*) FROM application)::int8,
                   (SELECT count(DISTINCT state) FROM application)::int8
            """).first
        #expect(try counts?.decode(Int.self, at: 0) == 456)
        #expect(try counts?.decode(Int.self, at: 1) ?? 0 > 0)
        #expect(try counts?.decode(Int.self, at: 2) == 10)   // rows 11–19, the lowest ones, are the accessible ones
        #expect(try counts?.decode(Int.self, at: 3) == 50)
        #expect(try counts?.decode(Int.self, at: 4) ?? 0 >= 6)
        let client = StaffClient(port: app.port)
        for c in credentials {
            #expect(client.call("POST", "/api/v1/auth/login", json: ["authority": "demo", "username": c.username, "password": c.password])?.status == 200)
        }
        #expect(client.json("GET", "/api/v1/applications?limit=100").1["total"] as? Int == 50)

        // The printed token is the box's: its feed lists the demo's assigned compartments with their
        // documents, and one of them can be loaded at once.
        let (status, feed, _) = boxRequest(app.port, token: created.boxToken, "GET", "/api/v1/box/assignments?since=0&wait=0")
        #expect(status == 200)
        let toLoad = (feed["changes"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "to_load" }
        #expect(toLoad.count >= 5)
        let document = try #require((toLoad.first?["documentNumbers"] as? [String])?.first)
        let (loading, reply, _) = boxPost(app.port, token: created.boxToken, "/api/v1/box/loading", json: ["documentNumber": document])
        #expect(loading == 200, "\(reply)")
        #expect(reply["compartmentNumber"] as? Int == toLoad.first?["compartmentNumber"] as? Int)
        // Open around the clock: the site's hours cover every minute of every day.
        let hours = try app.pool.query("SELECT count(*)::int8 FROM site_pickup_hours WHERE opens = '00:00' AND closes = '24:00'").first?.decode(Int.self, at: 0)
        #expect(hours == 7)
    }
}
