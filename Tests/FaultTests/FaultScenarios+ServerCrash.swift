import EmbeddedPostgres
import Foundation
import Postgres
import PostgresTestSupport
import Synchronization
import Testing

extension FaultScenarios {
    /// `kill -9` of the server while 8 clients register applications, three times, each time started
    /// again on the same data directory (its embedded PostgreSQL) without any manual step.
    @Test func killNineUnderWrites_restartsOnTheSameData_keepsEveryAcknowledgedWrite_andEachKeyYieldsOne() throws {
        let dataDirectory = TestPostgres.scratchDirectory("fault-crash-" + UUID().uuidString.prefix(8).lowercased())
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let server = Pickupbox(connectionString: nil, environment: ["DB_POOL_SIZE": "8", "HTTP_WORKER_THREADS": "16"],
                               arguments: ["serve", "--demo", "--data-dir", dataDirectory])
        try server.start(readyWithin: 120)
        defer { server.stop() }
        let log = try String(contentsOfFile: server.logPath, encoding: .utf8)
        let password = try #require(log.firstMatch(of: /username sachbearbeitung\s+password (\S+)/).map { String($0.1) }, "\(log)")
        let pool = PostgresPool.forTest("host=\(dataDirectory)/postgres/run port=5432 user=postgres dbname=pickupbox")
        defer { pool.shutdown() }
        let before = try pool.count("SELECT count(*)::int8 FROM application")
        var staff = try Staff.login(port: server.port, username: "sachbearbeitung", password: password)
        let site = try staff.siteID()

        // key → the number of its body (a retry must send the same bytes), and what was answered.
        let bodies = Mutex<[String: Int]>([:])
        let acknowledged = Mutex<[String: String]>([:])
        let unanswered = Mutex<Set<String>>([])
        let tally = Tally()
        var kills = 0
        for cycle in 0..<3 {
            let workers = Workers()
            let session = staff
            workers.start(8) { i, w in
                var n = 100_000 * (cycle + 1) + 1000 * i
                while !w.isStopped {
                    n += 1
                    let key = "crash-\(n)"
                    bodies.withLock { $0[key] = n }
                    let reply = session.call("POST", "/api/v1/applications", json: Staff.application(site: site, n), headers: ["Idempotency-Key: \(key)"], timeout: 10)
                    tally.record(reply)
                    if reply.status == 201, let id = reply.json["id"] as? String {
                        acknowledged.withLock { $0[key] = id.lowercased() }
                    } else {
                        unanswered.withLock { _ = $0.insert(key) }
                        usleep(50_000)
                    }
                }
            }
            Thread.sleep(forTimeInterval: 3)
            server.kill9()
            kills += 1
            workers.stop()
            #expect(workers.join())
            try server.start(readyWithin: 60)
            staff = try Staff.login(port: server.port, username: "sachbearbeitung", password: password)
        }

        // Every unanswered key is sent again with its body: exactly one application each, never two.
        var retried = 0, replayed = 0
        for key in unanswered.withLock({ $0 }).sorted() {
            let n = try #require(bodies.withLock { $0[key] })
            let reply = staff.call("POST", "/api/v1/applications", json: Staff.application(site: site, n), headers: ["Idempotency-Key: \(key)"])
            #expect(reply.status == 201, "\(key): \(reply.status) \(reply.text)")
            if reply.headers.contains(where: { $0.0.lowercased() == "idempotent-replayed" }) { replayed += 1 }
            if let id = reply.json["id"] as? String { acknowledged.withLock { $0[key] = id.lowercased() } }
            retried += 1
        }
        let answers = acknowledged.withLock { $0 }
        let keys = bodies.withLock { $0.count }
        let present = try pool.count("SELECT count(*)::int8 FROM application WHERE id::text = ANY(\(Array(answers.values))::text[])")
        let total = try pool.count("SELECT count(*)::int8 FROM application") - before
        let duplicates = try pool.count("SELECT count(*)::int8 FROM (SELECT 1 FROM application GROUP BY authority_id, vorgangsnummer HAVING count(*) > 1) d")
        FaultSuite.report("kill-9-under-writes", [
            ("kills", kills), ("keys", keys), ("acknowledged_before_retry", keys - retried), ("unanswered_retried", retried),
            ("replayed_on_retry", replayed), ("applications", total), ("duplicate_vorgangsnummern", duplicates),
            ("status", tally.statuses.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")),
        ])
        #expect(Set(answers.values).count == keys, "one application per key")
        #expect(present == keys, "every acknowledged application is in the database")
        #expect(total == keys, "no key made two applications")
        #expect(duplicates == 0)
        #expect(tally.count(500) == 0, "\(tally.examplesOf500)")
    }

    /// Two server processes record deliveries for 2N box pickups at a site whose box has N compartments,
    /// 8 clients at once; one process is killed with SIGKILL mid-way; then everything is delivered again.
    @Test func killNineWhileDelivering_neverDoubleBooksACompartment() throws {
        let cluster = try FaultSuite.cluster("restart")
        defer { try? cluster.stop() }
        let (connectionString, demo) = try FaultSuite.demoDatabase(on: cluster)
        let a = Pickupbox(connectionString: connectionString, environment: ["DB_POOL_SIZE": "6", "HTTP_WORKER_THREADS": "12"])
        let b = Pickupbox(connectionString: connectionString, environment: ["DB_POOL_SIZE": "6", "HTTP_WORKER_THREADS": "12"])
        try a.start()
        try b.start()
        defer { a.stop(); b.stop() }
        let pool = PostgresPool.forTest(connectionString)
        defer { pool.shutdown() }
        let chef = try Staff.login(port: a.port, username: "chef", password: demo.supervisorPassword)
        let compartments = 20
        let site = try #require(chef.call("POST", "/api/v1/sites", json: ["name": "Fault site", "address": "Teststraße 1", "land": "BE"]).json["id"] as? String)
        let box = try #require(chef.call("POST", "/api/v1/boxes", json: ["siteId": site, "name": "Fault box"]).json["id"] as? String)
        let layout = chef.call("POST", "/api/v1/boxes/\(box)/compartments", json: ["rows": 4, "columns": 5, "rowHeightsCm": [160, 130, 100, 70]])
        #expect(layout.status == 201, "\(layout.text)")
        let staff = try Staff.login(port: a.port, username: "sachbearbeitung", password: demo.caseworkerPassword)
        var items: [(document: String, number: String)] = []
        for n in 0..<(2 * compartments) {
            let reply = staff.call("POST", "/api/v1/applications", json: Staff.application(site: site, 500_000 + n))
            items.append((documentNumber(70_000_000 + n), try #require(reply.json["vorgangsnummer"] as? String, "\(reply.text)")))
        }

        // One delivery note per item; client i sends to a or b in turn. `a` dies half-way.
        let ports = Mutex([a.port, b.port])
        let tally = Tally()
        let answered = Mutex<Set<Int>>([])
        let queue = Mutex(Array(items.indices))
        let workers = Workers()
        let plan = items
        workers.start(8) { i, w in
            var turn = i
            while !w.isStopped, let index = queue.withLock({ $0.popLast() }) {
                turn += 1
                let port = ports.withLock { $0[turn % $0.count] }
                let body: [String: Any] = ["deliveryNoteNumber": "FAULT-LS-\(index)", "items": [["documentNumber": plan[index].document, "vorgangsnummer": plan[index].number]]]
                let reply = staff.call("POST", "/api/v1/deliveries", json: body, headers: ["Idempotency-Key: deliver-\(index)"], port: port)
                tally.record(reply)
                if reply.status == 201 { answered.withLock { _ = $0.insert(index) } }
                usleep(20_000)
            }
        }
        #expect(eventually(seconds: 60) { queue.withLock { $0.count } <= items.count / 2 })
        a.kill9()
        ports.withLock { $0 = [b.port] }
        #expect(workers.join())
        try a.start()
        // Everything again: the unanswered ones with their keys, then every item as a new scan.
        for index in items.indices {
            let body: [String: Any] = ["deliveryNoteNumber": "FAULT-LS-\(index)", "items": [["documentNumber": items[index].document, "vorgangsnummer": items[index].number]]]
            let reply = staff.call("POST", "/api/v1/deliveries", json: body, headers: ["Idempotency-Key: deliver-\(index)"], port: index % 2 == 0 ? a.port : b.port)
            #expect(reply.status == 201, "\(index): \(reply.status) \(reply.text)")
        }
        let rescan: [String: Any] = ["deliveryNoteNumber": "FAULT-LS-AGAIN", "items": items.map { ["documentNumber": $0.document, "vorgangsnummer": $0.number] }]
        let again = staff.call("POST", "/api/v1/deliveries", json: rescan, port: b.port)
        let results = (again.json["items"] as? [[String: Any]])?.compactMap { $0["result"] as? String } ?? []

        let live = "status IN ('assigned', 'loaded', 'retrieval_due')"
        let doubleBooked = try pool.count("SELECT count(*)::int8 FROM (SELECT 1 FROM assignment WHERE \(unsafeSQL: live) GROUP BY authority_id, compartment_id HAVING count(*) > 1) d")
        let assigned = try pool.count("""
            SELECT count(*)::int8 FROM assignment asg JOIN compartment c ON c.authority_id = asg.authority_id AND c.id = asg.compartment_id
            WHERE c.box_id = \(UUID(uuidString: box)) AND asg.\(unsafeSQL: live)
            """)
        let twice = try pool.count("""
            SELECT count(*)::int8 FROM (SELECT a.id FROM application a JOIN assignment asg ON asg.authority_id = a.authority_id AND asg.id = a.assignment_id
            WHERE asg.\(unsafeSQL: live) GROUP BY a.id HAVING count(*) > 1) d
            """)
        FaultSuite.report("no-double-booking", [
            ("compartments", compartments), ("applications", items.count), ("answered_before_kill_and_after", answered.withLock { $0.count }),
            ("live_assignments", assigned), ("double_booked", doubleBooked), ("rescan", Dictionary(grouping: results, by: { $0 }).mapValues(\.count)),
            ("status", tally.statuses.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")),
        ])
        #expect(doubleBooked == 0, "no compartment with two live assignments")
        #expect(twice == 0)
        #expect(assigned == compartments, "the box is full: one document per compartment")
        // Scanned again: every document is known (`duplicate`: its number was recorded), none is matched twice.
        #expect(results.count == items.count && results.allSatisfy { $0 == "duplicate" || $0 == "already_delivered" }, "\(results)")
        #expect(tally.count(500) == 0, "\(tally.examplesOf500)")
    }
}
