@testable import App
import Foundation
import HTTPServer
import HTTPTestSupport
import Postgres
import Testing

/// The public status check's look-ups go out on each event loop's own pipelined connection
/// (`LoopDatabase`) and answer exactly as the pool's path does; when that connection is lost, the
/// look-ups take the pool until it is back, and no request fails on the way.
@Suite("Status look-ups on the loop's pipelined connection")
struct StatusPipelineTests {
    /// `status_lookups_total{path=…}` from `/metrics`.
    static func lookups(_ app: Application, _ path: String) throws -> Int {
        let text = try #require(try TestClient(port: app.port).request("GET", "/metrics")).text
        let prefix = #"status_lookups_total{path=""# + path + #""} "#
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return 0 }
        return Int(Double(line.dropFirst(prefix.count)) ?? -1)
    }

    /// Asks until the pipeline has answered at least once more than `before`, at most 10 s; every answer
    /// must be `expected`.
    static func untilPipelined(_ app: Application, _ path: String, expected: String, before: Int) throws -> Bool {
        let client = StaffClient(port: app.port)
        let deadline = Date(timeIntervalSinceNow: 10)
        while Date() < deadline {
            let reply = try #require(client.call("GET", path))
            #expect(reply.status == 200)
            #expect(reply.text == expected)
            if try lookups(app, "pipeline") > before { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    static func application(_ app: Application) throws -> String {
        let town = try AuthorityFixture.make(app)
        let (_, created) = try town.login(app).json("POST", "/api/v1/applications", json: town.applicationBody())
        return try #require(created["vorgangsnummer"] as? String)
    }

    @Test func lookupsGoThroughThePipeline_andAnswerAsThePoolDoes() throws {
        let app = try AppFixture.make { c in c.statusRateLimitPerMinute = 100_000 }
        defer { app.shutdown() }
        let number = try Self.application(app)
        // The site and the lookup as the pool's path answers them (the pipeline is not up yet).
        let pooled = try StatusHandlers.answer(app, found: StatusHandlers.lookup(app, number))
        let expected = String(decoding: pooled.body, as: UTF8.self)
        #expect(expected.contains(#""status":"in_production""#))
        #expect(try Self.untilPipelined(app, "/api/v1/status/\(number)", expected: expected, before: 0))

        // Many clients at once, on both loops: every answer the same, most through the pipelines.
        let before = try Self.lookups(app, "pipeline")
        let replies = Collected()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let client = StaffClient(port: app.port)
            for _ in 0..<50 {
                let reply = client.call("GET", "/api/v1/status/\(number)")
                replies.add(reply?.status ?? 0, reply?.text ?? "")
            }
        }
        #expect(replies.statuses == Array(repeating: 200, count: 400))
        #expect(replies.texts == [expected])
        #expect(try Self.lookups(app, "pipeline") - before >= 300)

        // Unknown numbers come back from the pipeline as unknown; malformed ones never reach it.
        let client = StaffClient(port: app.port)
        #expect(client.call("GET", "/api/v1/status/K7M4XQ9TR2")?.text == #"{"status":"unknown"}"#)
        let counted = try Self.lookups(app, "pipeline") + Self.lookups(app, "pool")
        #expect(client.call("GET", "/api/v1/status/%27%20OR%201%3D1")?.text == #"{"status":"unknown"}"#)
        #expect(try Self.lookups(app, "pipeline") + Self.lookups(app, "pool") == counted)
    }

    @Test func thePage_looksUpThroughThePipelineToo_andRendersAsOnAWorker() throws {
        let app = try AppFixture.make { c in c.statusRateLimitPerMinute = 100_000 }
        defer { app.shutdown() }
        let number = try Self.application(app)
        let page = "/status?vn=\(number)&lang=en"
        // One keep-alive connection: one loop, whose connection the first look-up starts.
        let connection = try TestClient(port: app.port, timeout: 30)
        // The first look-up finds no loop connection yet: a worker renders it, with the pool.
        let first = try #require(connection.request("GET", page))
        #expect(first.status == 200)
        #expect(first.text.contains("Your document is not ready yet."))
        #expect(try Self.lookups(app, "pool") == 1)
        let deadline = Date(timeIntervalSinceNow: 10)
        while try Self.lookups(app, "pipeline") == 0, Date() < deadline {
            #expect(connection.request("GET", page)?.text == first.text)
            Thread.sleep(forTimeInterval: 0.05)
        }
        let before = try Self.lookups(app, "pipeline")
        #expect(before > 0)
        for _ in 0..<10 {
            let reply = try #require(connection.request("GET", page))
            #expect(reply.status == 200)
            #expect(reply.text == first.text)
        }
        #expect(try Self.lookups(app, "pipeline") - before == 10)
        // The form and a malformed number need no look-up at all.
        #expect(connection.request("GET", "/status?lang=en")?.status == 200)
        #expect(connection.request("GET", "/status?vn=%27%20OR%201&lang=en")?.status == 200)
        #expect(try Self.lookups(app, "pipeline") - before == 10)
    }

    @Test func aLostPipelineConnection_fallsBackToThePool_andReconnects() throws {
        let app = try AppFixture.make { c in c.statusRateLimitPerMinute = 100_000 }
        defer { app.shutdown() }
        let number = try Self.application(app)
        let path = "/api/v1/status/\(number)"
        let expected = String(decoding: try StatusHandlers.answer(app, found: StatusHandlers.lookup(app, number)).body, as: UTF8.self)
        #expect(try Self.untilPipelined(app, path, expected: expected, before: 0))

        let admin = try PostgresConnection.connect(app.readPool.configuration.connectionString, applicationName: "pickupbox-test-admin", logger: AppFixture.logger)
        defer { admin.close() }
        let terminated = try admin.query("""
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE application_name = \(LoopDatabase.applicationName) AND datname = current_database()
            """)
        #expect(terminated.count >= 1)
        // Right after: every answer still correct (the pool's path while the loop reconnects)…
        let pooledBefore = try Self.lookups(app, "pool")
        let client = StaffClient(port: app.port)
        for _ in 0..<20 {
            let reply = try #require(client.call("GET", path))
            #expect(reply.status == 200)
            #expect(reply.text == expected)
        }
        #expect(try Self.lookups(app, "pool") > pooledBefore)
        // …and the pipeline comes back by itself.
        #expect(try Self.untilPipelined(app, path, expected: expected, before: try Self.lookups(app, "pipeline")))
    }
}

/// Replies gathered from several threads.
private final class Collected: @unchecked Sendable {
    // @unchecked: both arrays are only touched under `lock`.
    private let lock = NSLock()
    private var statusList: [Int] = []
    private var textSet: Set<String> = []

    func add(_ status: Int, _ text: String) {
        lock.lock()
        statusList.append(status)
        textSet.insert(text)
        lock.unlock()
    }

    var statuses: [Int] { lock.withLock { statusList } }
    var texts: [String] { lock.withLock { Array(textSet) } }
}
