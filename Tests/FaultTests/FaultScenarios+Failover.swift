import EmbeddedPostgres
import Foundation
import Postgres
import PostgresTestSupport
import Synchronization
import Testing

extension FaultScenarios {
    /// The database machine fails (OPERATIONS.md, section 6): a primary and a synchronous hot standby on
    /// loopback (`pg_basebackup -R`), the server connected through one multi-host string with
    /// `target_session_attrs=read-write`, writes and status reads running and box long polls parked; every
    /// process of the primary is killed at once, the standby promoted with `pg_ctl promote`. The server's
    /// pool and LISTEN connection must find the new primary by themselves, writes resume, the parked
    /// polls still get the next change, and nothing acknowledged is lost.
    @Test func primaryFails_standbyPromoted_serverReconnectsByItself_andLosesNoAcknowledgedWrite() throws {
        let primary = EmbeddedPostgres(directory: TestPostgres.scratchDirectory("fault-primary"), logger: FaultSuite.logger)
        let standby = EmbeddedPostgres(directory: TestPostgres.scratchDirectory("fault-standby"), logger: FaultSuite.logger)
        try standby.destroy()
        try primary.destroy()
        try primary.start()
        defer { try? primary.destroy(); try? standby.destroy() }
        let (primaryConnection, demo) = try FaultSuite.demoDatabase(on: primary)
        let database = try #require(PostgresConnectionString.settings(primaryConnection)?["dbname"])
        try standby.startAsStandby(of: primary, name: "pickupbox_standby")

        // Synchronous: a commit is acknowledged only once the standby has flushed it to disk.
        let admin = try PostgresConnection.connect(primary.connectionString(database: database), logger: FaultSuite.logger)
        try admin.simpleQuery("ALTER SYSTEM SET synchronous_standby_names = 'pickupbox_standby'")
        try admin.simpleQuery("SELECT pg_reload_conf()")
        #expect(eventually(seconds: 10) {
            (try? admin.query("SELECT sync_state FROM pg_stat_replication WHERE application_name = 'pickupbox_standby'").first?.decode(String.self, at: 0)) == "sync"
        }, "the standby replicates synchronously")
        admin.close()

        let failover = EmbeddedPostgres.failoverConnectionString([primary, standby], database: database)
        // The public status lookup reads from the standby (DATABASE_READ_URL): it has no reason to stop
        // when the primary does.
        let server = Pickupbox(connectionString: failover, environment: [
            "DB_POOL_TIMEOUT_MS": "2000", "DB_POOL_SIZE": "8", "HTTP_WORKER_THREADS": "16",
            "DATABASE_READ_URL": standby.connectionString(database: database),
        ])
        try server.start()
        defer { server.stop() }
        let staff = try Staff.login(port: server.port, username: "sachbearbeitung", password: demo.caseworkerPassword)
        let site = try staff.siteID()
        let first = staff.call("POST", "/api/v1/applications", json: Staff.application(site: site, 0))
        let statusNumber = try #require(first.json["vorgangsnummer"] as? String, "\(first.status) \(first.text)")

        // Long polls parked before the failure, each on its own connection.
        let box = ["Authorization: Bearer \(demo.boxToken)"]
        let cursor = (exchange(server.port, "GET", "/api/v1/box/assignments?wait=0", headers: box).json["cursor"] as? NSNumber)?.int64Value ?? 0
        let polls = Mutex<[(returned: Double, status: Int, changes: Int)]>([])
        for _ in 0..<4 {
            Thread.detachNewThread {
                let reply = exchange(server.port, "GET", "/api/v1/box/assignments?since=\(cursor)&wait=60", headers: box, timeout: 90)
                polls.withLock { $0.append((now(), reply.status, (reply.json["changes"] as? [Any])?.count ?? 0)) }
            }
        }

        let reads = Tally(), writes = Tally()
        let acknowledged = Mutex<[(id: String, at: Double)]>([])
        let workers = Workers()
        workers.start(2) { _, w in
            while !w.isStopped {
                let reply = exchange(server.port, "GET", "/api/v1/status/\(statusNumber)", timeout: 15)
                reads.record(reply)
                usleep(reply.status == 200 ? 20_000 : 100_000)
            }
        }
        workers.start(4) { i, w in
            var n = 1000 * (i + 1)
            while !w.isStopped {
                n += 1
                let key = "failover-\(i)-\(n)"
                // The same key until answered: a 503 may hide a commit (docs/ARCHITECTURE.md#faults).
                for _ in 0..<200 where !w.isStopped {
                    let reply = staff.call("POST", "/api/v1/applications", json: Staff.application(site: site, n), headers: ["Idempotency-Key: \(key)"], timeout: 15)
                    writes.record(reply)
                    if reply.status == 201, let id = reply.json["id"] as? String {
                        acknowledged.withLock { $0.append((id.lowercased(), now())) }
                        break
                    }
                    usleep(100_000)
                }
            }
        }

        Thread.sleep(forTimeInterval: 3)
        let metrics = exchange(server.port, "GET", "/metrics").text
        let lagLine = metrics.split(separator: "\n").first { $0.hasPrefix("database_replica_lag_seconds") }.map(String.init)
        let beforeKill = acknowledged.withLock { $0.count }
        let killedAt = now()
        let killed = primary.killAll()
        // An operator (or a cluster manager) notices and promotes: here after a second.
        Thread.sleep(forTimeInterval: 1)
        try standby.promote()
        let promotedAt = now()
        _ = eventually(seconds: 30) { acknowledged.withLock { $0.contains { $0.at > promotedAt } } }
        Thread.sleep(forTimeInterval: 2)
        workers.stop()
        #expect(workers.join())

        // A change after the failover must reach the polls parked before it.
        let parkedAcross = 4 - polls.withLock { $0.count }
        let applicant = staff.call("POST", "/api/v1/applications", json: Staff.application(site: site, 99_999))
        let number = try #require(applicant.json["vorgangsnummer"] as? String, "\(applicant.status) \(applicant.text)")
        let changedAt = now()
        let delivery = staff.call("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "FAILOVER-\(UUID().uuidString.prefix(8))",
                                                                        "items": [["documentNumber": documentNumber(Int.random(in: 1...99_999_999)), "vorgangsnummer": number]]])
        #expect(delivery.status == 201, "\(delivery.text)")
        #expect(eventually(seconds: 10) { polls.withLock { $0.count } == 4 })
        let woken = polls.withLock { $0 }
        let wakeSeconds = woken.map { $0.returned - changedAt }.max() ?? -1
        // And a poll started after the failover is served as before.
        let fresh = exchange(server.port, "GET", "/api/v1/box/assignments?since=\(cursor)&wait=5", headers: box, timeout: 15)

        // Invariants, on the new primary.
        let pool = PostgresPool.forTest(standby.connectionString(database: database))
        defer { pool.shutdown() }
        let ids = acknowledged.withLock { $0.map(\.id) }
        let present = try pool.count("SELECT count(*)::int8 FROM application WHERE id::text = ANY(\(ids)::text[])")
        let firstWrite = acknowledged.withLock { $0.map(\.at).filter { $0 > promotedAt }.min() } ?? .infinity
        let resumeSeconds = firstWrite - promotedAt
        FaultSuite.report("standby-failover", [
            ("processes_killed", killed), ("acknowledged_before_kill", beforeKill), ("acknowledged", ids.count), ("present_after", present),
            ("write_status", writes.statuses.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")),
            ("read_status", reads.statuses.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")),
            ("promote_s", String(format: "%.2f", promotedAt - killedAt)),
            ("writes_resumed_after_promotion_s", String(format: "%.2f", resumeSeconds)),
            ("writes_resumed_after_kill_s", String(format: "%.2f", firstWrite - killedAt)),
            ("replica_lag_metric", lagLine ?? "missing"), ("polls_parked_across", parkedAcross), ("poll_wake_s", String(format: "%.2f", wakeSeconds)),
        ])
        #expect(killed > 1, "the postmaster and its processes")
        #expect(beforeKill > 0, "writes were acknowledged before the failure")
        #expect(resumeSeconds <= 10, "writes resume within 10 s after promotion: \(resumeSeconds)")
        #expect(present == ids.count, "with a synchronous standby every acknowledged write survives the failover")
        #expect(writes.count(where: { $0 >= 500 && $0 != 503 }) == 0, "\(writes.examplesOf500)")
        #expect(reads.count(where: { $0 != 200 }) == 0, "the status route reads from the standby and answers throughout: \(reads.statuses)")
        #expect(lagLine.flatMap { Double($0.split(separator: " ").last ?? "") }.map { $0 >= 0 && $0 < 5 } == true, "replica lag in /metrics: \(lagLine ?? "missing")")
        #expect(reads.count(0) + writes.count(0) == 0, "every request is answered")
        #expect(woken.allSatisfy { $0.status == 200 && $0.changes > 0 }, "\(woken.map { ($0.returned - changedAt, $0.status, $0.changes) })")
        #expect(wakeSeconds < 5, "parked polls woken by the change on the new primary")
        #expect(fresh.status == 200 && ((fresh.json["changes"] as? [Any])?.count ?? 0) > 0, "\(fresh.status) \(fresh.text.prefix(200))")
        #expect(try pool.count("SELECT count(*)::int8 FROM (SELECT vorgangsnummer FROM application GROUP BY authority_id, vorgangsnummer HAVING count(*) > 1) d") == 0)
        #expect(server.isRunning)
    }
}
