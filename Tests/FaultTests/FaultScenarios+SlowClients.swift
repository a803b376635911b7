import EmbeddedPostgres
import Foundation
import HTTPTestSupport
import Synchronization
import Testing

extension FaultScenarios {
    /// Thousands of hostile connections from eight addresses — headers and bodies a byte a second,
    /// unauthenticated 1 MB bodies, and one address with more connections than its cap — while a client
    /// at another address (127.0.0.2) uses `/health` and the status route.
    @Test func slowAndGreedyClients_leaveOtherClientsFast_andMemoryBounded() throws {
        let cluster = try FaultSuite.cluster("restart")
        defer { try? cluster.stop() }
        let (connectionString, demo) = try FaultSuite.demoDatabase(on: cluster)
        let server = Pickupbox(connectionString: connectionString, environment: [
            "HTTP_MAX_CONNECTIONS": "6000", "HTTP_BODY_TIMEOUT_SECONDS": "8", "HTTP_MAX_CONNECTIONS_PER_ADDRESS": "512",
        ])
        try server.start()
        defer { server.stop() }
        let staff = try Staff.login(port: server.port, username: "sachbearbeitung", password: demo.caseworkerPassword)
        let number = try #require(staff.call("POST", "/api/v1/applications", json: Staff.application(site: try staff.siteID(), 1)).json["vorgangsnummer"] as? String)
        let statusPath = "/api/v1/status/\(number)"
        let rssBefore = server.rssMiB

        let flood = Flood(port: server.port, statusPath: statusPath)
        for a in 1...4 {
            flood.open(400, .trickleHead, from: "127.0.1.\(a)")
            flood.open(150, .trickleBody, from: "127.0.2.\(a)")
            flood.open(100, .greedyBody, from: "127.0.3.\(a)")
        }
        flood.open(700, .trickleHead, from: "127.0.4.1")   // more than the per-address cap of 512
        let opened = flood.openConnections
        let health = Tally(), status = Tally()
        let rssPeak = Mutex(server.rssMiB)
        let workers = Workers()
        workers.start(1) { _, w in
            var client = try? TestClient(port: server.port, timeout: 5, source: "127.0.0.2")
            var turn = 0
            // Warm-up (connection, first use of both routes, the flood getting under way): not measured.
            let measureFrom = now() + 3
            while !w.isStopped {
                turn += 1
                let path = turn % 2 == 0 ? "/health" : statusPath
                let started = now()
                if client == nil { client = try? TestClient(port: server.port, timeout: 5, source: "127.0.0.2") }
                let reply = client?.request("GET", path)
                if reply == nil { client = nil }
                let exchange = Exchange(status: reply?.status ?? 0, body: reply?.body ?? [], seconds: now() - started)
                if started >= measureFrom { (turn % 2 == 0 ? health : status).record(exchange) }
                let rss = server.rssMiB
                rssPeak.withLock { $0 = max($0, rss) }
                usleep(20_000)
            }
        }
        flood.run(seconds: 25)
        workers.stop()
        #expect(workers.join())
        _ = eventually(seconds: 8) { server.rssMiB <= rssBefore * 1.2 + 5 }
        let rssAfter = server.rssMiB
        let figures = flood.figures
        let rssBound = 100.0
        FaultSuite.report("slow-and-greedy-clients", [
            ("hostile_connections_at_start", opened), ("opened_in_all", figures.opened), ("closed_by_server", figures.closedByServer),
            ("answers", figures.answers.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")),
            ("probe_health_p99_ms", String(format: "%.1f", health.percentile(0.99) * 1000)), ("probe_status_p99_ms", String(format: "%.1f", status.percentile(0.99) * 1000)),
            ("probe_requests", health.count + status.count), ("rss_mib_before_peak_after", String(format: "%.0f/%.0f/%.0f", rssBefore, rssPeak.withLock { $0 }, rssAfter)),
            ("rss_bound_mib", rssBound),
        ])
        #expect(health.count(200) == health.count && status.count(200) == status.count, "the probe is always served: \(health.statuses) \(status.statuses)")
        // The goal is a p99 of at most 100 ms for the probe (printed above, and in BENCHMARKS.md): a figure
        // a busy 2-core machine can miss, so the test asserts only what a flood must never do — starve
        // the other clients (a second per request).
        #expect(health.percentile(0.99) <= FaultSuite.starvationBound, "p99 of /health")
        #expect(status.percentile(0.99) <= FaultSuite.starvationBound, "p99 of the status route")
        #expect(rssPeak.withLock { $0 } <= rssBound, "memory bounded while flooded")
        #expect((figures.answers["trickleHead:429"] ?? 0) > 0, "the address over its cap is refused")
        #expect((figures.answers["greedyBody:401"] ?? 0) > 0, "unauthenticated bodies are refused from the head")
        #expect(figures.answers.keys.allSatisfy { !$0.hasSuffix(":500") })
        #expect(server.isRunning)
    }
}
