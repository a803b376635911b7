#if canImport(Glibc)
import EmbeddedPostgres
import Glibc
#endif
import Foundation
import HTTPTestSupport
import Synchronization
import Testing

extension FaultScenarios {
    /// 30 seconds of garbage on every route of openapi.yaml, with and without credentials: malformed
    /// request lines and framing, hostile paths, headers and bodies, cut-off requests, raw bytes.
    @Test func garbageFloodOnEveryRoute_answersOnly4xxJSONOrCloses_andMemoryComesBack() throws {
        let cluster = try FaultSuite.cluster("restart")
        defer { try? cluster.stop() }
        let (connectionString, demo) = try FaultSuite.demoDatabase(on: cluster)
        let server = Pickupbox(connectionString: connectionString)
        try server.start()
        defer { server.stop() }
        let staff = try Staff.login(port: server.port, username: "sachbearbeitung", password: demo.caseworkerPassword)
        let chef = try Staff.login(port: server.port, username: "chef", password: demo.supervisorPassword)
        let routes = try Garbage.routes()
        #expect(routes.count > 40)
        // Warm up (first use of every route), then take the memory figure to come back to.
        for route in routes { _ = exchange(server.port, "GET", Garbage.fill(route, seed: 0)) }
        Thread.sleep(forTimeInterval: 1)
        let rssStart = server.rssMiB

        let tally = Tally()
        let bad = Mutex<[String]>([])
        // No answer within a second: the server closed the connection, or it still waits for the rest of a
        // request that is incomplete on purpose (raw bytes without a line end, a chunk size beyond the
        // data); the client then gives up and closes, as a flood would. Waiting for the server's own
        // header and body time-outs would make the flood a trickle.
        let unanswered = Atomic<Int>(0)
        let workers = Workers()
        let credentials = [
            [], ["Cookie: \(staff.cookie)", "X-CSRF-Token: \(staff.csrf)"], ["Cookie: \(chef.cookie)", "X-CSRF-Token: \(chef.csrf)"],
            ["Cookie: \(staff.cookie)"], ["Authorization: Bearer \(demo.boxToken)"], ["Cookie: pickupbox_session=\(UUID().uuidString).\(String(repeating: "A", count: 43))"],
        ]
        workers.start(12) { i, w in
            var generator = SystemRandomNumberGenerator()
            var seed = i * 1_000_003
            while !w.isStopped {
                seed += 1
                let request = Garbage.request(routes: routes, credentials: credentials, seed: seed, using: &generator)
                guard let client = try? TestClient(port: server.port, timeout: 1) else { continue }
                client.send(request.bytes)
                if request.cutOff { continue }  // the client goes away mid-request
                // An interim 100 Continue (the request sent Expect with its body) precedes the answer.
                var reply = client.readResponse(headRequest: request.isHead)
                if reply?.status == 100 { reply = client.readResponse(headRequest: request.isHead) }
                guard let reply else {
                    unanswered.wrappingAdd(1, ordering: .relaxed)
                    continue
                }
                tally.record(Exchange(status: reply.status, body: reply.body, seconds: 0))
                let isJSONError = request.isHead || ((try? JSONSerialization.jsonObject(with: Data(reply.body))) as? [String: Any])?["error"] is String
                if reply.status >= 500 || ((400..<500).contains(reply.status) && !isJSONError) {
                    bad.withLock { if $0.count < 5 { $0.append("\(reply.status) for \(String(decoding: request.bytes.prefix(120), as: UTF8.self).debugDescription): \(reply.text.prefix(200))") } }
                }
            }
        }
        let started = now()
        var rssPeak = rssStart
        while now() - started < 30 {
            Thread.sleep(forTimeInterval: 0.5)
            rssPeak = max(rssPeak, server.rssMiB)
        }
        workers.stop()
        #expect(workers.join())
        let cameBack = eventually(seconds: 10) { server.rssMiB <= rssStart * 1.2 }
        let rssAfter = server.rssMiB
        FaultSuite.report("garbage-flood", [
            ("seconds", 30), ("routes", routes.count), ("answered", tally.count), ("unanswered_within_1s", unanswered.load(ordering: .relaxed)),
            ("status", tally.statuses.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")),
            ("rss_mib_start_peak_after", String(format: "%.0f/%.0f/%.0f", rssStart, rssPeak, rssAfter)),
        ])
        #expect(bad.withLock { $0 } == [], "only 4xx JSON (or 2xx for what happened to be valid), never 5xx")
        #expect(tally.count(where: { $0 >= 500 }) == 0)
        #expect(cameBack, "RSS back within 20 % of its start: \(rssStart) → \(rssAfter) MiB")
        #expect(server.isRunning)
        #expect(server.ready())
    }
}
