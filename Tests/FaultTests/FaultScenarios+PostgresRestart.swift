import EmbeddedPostgres
import Foundation
import Postgres
import Synchronization
import Testing

extension FaultScenarios {
    /// PostgreSQL restarted with `-m immediate` (a crash of the database) three times under mixed load:
    /// 4 clients read the public status, 4 register applications with an Idempotency-Key (retried with
    /// the same key until answered), and long polls of the box are parked across the restarts.
    @Test func postgresRestartUnderLoad_no500_noHang_recoversFast_keepsEvery201_andWakesParkedPolls() throws {
        let cluster = try FaultSuite.cluster("restart")
        defer { try? cluster.stop() }
        let (connectionString, demo) = try FaultSuite.demoDatabase(on: cluster)
        let poolTimeout = 2.0
        let server = Pickupbox(connectionString: connectionString, environment: [
            "DB_POOL_TIMEOUT_MS": String(Int(poolTimeout * 1000)), "DB_POOL_SIZE": "8", "HTTP_WORKER_THREADS": "16",
        ])
        try server.start()
        defer { server.stop() }
        let staff = try Staff.login(port: server.port, username: "sachbearbeitung", password: demo.caseworkerPassword)
        let site = try staff.siteID()
        var numbers: [String] = []
        for n in 0..<4 {
            let reply = staff.call("POST", "/api/v1/applications", json: Staff.application(site: site, n))
            numbers.append(try #require(reply.json["vorgangsnummer"] as? String, "\(reply.status) \(reply.text)"))
        }
        let pool = PostgresPool.forTest(connectionString)
        defer { pool.shutdown() }

        // Long polls parked before the first restart, each from its own box connection.
        let cursor = (exchange(server.port, "GET", "/api/v1/box/assignments?wait=0", headers: ["Authorization: Bearer \(demo.boxToken)"]).json["cursor"] as? NSNumber)?.int64Value ?? 0
        let polls = Mutex<[(returned: Double, status: Int, changes: Int)]>([])
        for _ in 0..<4 {
            Thread.detachNewThread {
                let reply = exchange(server.port, "GET", "/api/v1/box/assignments?since=\(cursor)&wait=60",
                                     headers: ["Authorization: Bearer \(demo.boxToken)"], timeout: 90)
                polls.withLock { $0.append((now(), reply.status, (reply.json["changes"] as? [Any])?.count ?? 0)) }
            }
        }

        let reads = Tally(), writes = Tally()
        let successes = Mutex<[Double]>([])
        let created = Mutex<Set<String>>([])
        let workers = Workers()
        let readNumbers = numbers
        workers.start(4) { i, w in
            while !w.isStopped {
                let reply = exchange(server.port, "GET", "/api/v1/status/\(readNumbers[i % readNumbers.count])", timeout: 15)
                reads.record(reply)
                if (200..<300).contains(reply.status) { successes.withLock { $0.append(now()) } }
                if reply.status != 200 { usleep(50_000) }
            }
        }
        workers.start(4) { i, w in
            var n = 1000 * (i + 1)
            while !w.isStopped {
                n += 1
                let key = "restart-\(i)-\(n)"
                // The same key until the write is answered: a 503 may hide a commit (docs/ARCHITECTURE.md#faults).
                for _ in 0..<40 {
                    let reply = staff.call("POST", "/api/v1/applications", json: Staff.application(site: site, n), headers: ["Idempotency-Key: \(key)"], timeout: 15)
                    writes.record(reply)
                    if reply.status == 201 {
                        successes.withLock { $0.append(now()) }
                        if let id = reply.json["id"] as? String { created.withLock { _ = $0.insert(id.lowercased()) } }
                        break
                    }
                    usleep(100_000)
                }
            }
        }

        Thread.sleep(forTimeInterval: 2)
        var backAt: [Double] = []
        for _ in 0..<3 {
            try cluster.restart(immediate: true)
            backAt.append(now())
            Thread.sleep(forTimeInterval: 4)
        }
        workers.stop()
        #expect(workers.join())

        // A change for the demo box after the restarts must reach the parked polls.
        let parkedBefore = polls.withLock { $0.count }
        let applicant = staff.call("POST", "/api/v1/applications", json: Staff.application(site: site, 99_999))
        let number = try #require(applicant.json["vorgangsnummer"] as? String)
        let changedAt = now()
        let delivery = staff.call("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "FAULT-\(UUID().uuidString.prefix(8))",
                                                                        "items": [["documentNumber": documentNumber(Int.random(in: 1...99_999_999)), "vorgangsnummer": number]]])
        #expect(delivery.status == 201, "\(delivery.text)")
        #expect(eventually(seconds: 10) { polls.withLock { $0.count } == 4 })
        let woken = polls.withLock { $0 }
        let wakeSeconds = woken.map { $0.returned - changedAt }.max() ?? -1

        // Invariants.
        let ids = created.withLock { $0 }
        let present = try pool.count("SELECT count(*)::int8 FROM application WHERE id::text = ANY(\(Array(ids))::text[])")
        let recovery = backAt.map { back in (successes.withLock { $0 }.filter { $0 >= back }.min() ?? .infinity) - back }
        FaultSuite.report("postgres-restart", [
            ("restarts", backAt.count), ("reads", reads.count), ("writes", writes.count), ("created", ids.count),
            ("status", reads.statuses.merging(writes.statuses, uniquingKeysWith: +).sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")),
            ("max_request_s", String(format: "%.2f", max(reads.maxSeconds, writes.maxSeconds))),
            ("first_2xx_after_back_s", recovery.map { String(format: "%.2f", $0) }.joined(separator: ",")),
            ("polls_parked_across", parkedBefore == 0 ? "all" : "\(4 - parkedBefore)"), ("poll_wake_s", String(format: "%.2f", wakeSeconds)),
        ])
        #expect(reads.count(where: { $0 >= 500 && $0 != 503 }) == 0, "\(reads.examplesOf500)")
        #expect(writes.count(where: { $0 >= 500 && $0 != 503 }) == 0, "\(writes.examplesOf500)")
        #expect(reads.count(0) + writes.count(0) == 0, "every request is answered")
        #expect(max(reads.maxSeconds, writes.maxSeconds) <= poolTimeout + 1.5, "no request waits much beyond DB_POOL_TIMEOUT_MS")
        #expect(recovery.allSatisfy { $0 <= 5 }, "first 2xx within 5 s after PostgreSQL is back: \(recovery)")
        #expect(present == ids.count, "every 201 is in the database")
        #expect(parkedBefore == 0, "the parked polls stayed parked across the restarts")
        #expect(woken.allSatisfy { $0.status == 200 && $0.changes > 0 }, "\(woken.map { ($0.returned - changedAt, $0.status, $0.changes) })")
        #expect(wakeSeconds < 3, "parked polls woken by the change")
        #expect(try pool.count("SELECT count(*)::int8 FROM (SELECT vorgangsnummer FROM application GROUP BY authority_id, vorgangsnummer HAVING count(*) > 1) d") == 0)
    }
}
