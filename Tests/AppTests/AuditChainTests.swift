@testable import App
import Foundation
import HTTPTestSupport
import Postgres
import PostgresTestSupport
import Testing

/// The database superuser of the test cluster on an application's database: what an attacker with the
/// database (or its backups) can do, triggers and all switched off.
enum Superuser {
    static func connect(_ app: Application) throws -> PostgresConnection {
        let database = try #require(try app.pool.query("SELECT current_database()").first?.decode(String.self, at: 0))
        let connection = try PostgresConnection.connect(try TestPostgres.shared().connectionString(database: database), logger: AppFixture.logger)
        // Triggers off (the append-only rule and "arrives unsealed"): a forger writes what they like.
        try connection.simpleQuery("SET session_replication_role = replica")
        return connection
    }
}

/// Tamper-evident audit log (PRIVACY.md#the-audit-log): a hash chain per authority, checked from the rows alone.
@Suite("Audit log hash chain")
struct AuditChainTests {
    /// An authority with some history: logins, registrations, a cancellation, reads. Sealed.
    static func history(_ app: Application, events minimum: Int = 12) throws -> AuthorityFixture {
        let town = try AuthorityFixture.make(app)
        let anna = try town.login(app)
        while try count(app, town.authorityID) < minimum {
            let (id, _) = try town.register(anna)
            _ = anna.json("GET", "/api/v1/applications/\(id)")
            #expect(anna.json("POST", "/api/v1/applications/\(id)/cancel", json: ["reason": "doppelt"]).0 == 200)
        }
        try #require(try AuditSealer.sealPending(app.pool, wait: true) != nil)
        return town
    }

    static func count(_ app: Application, _ authority: UUID) throws -> Int {
        try app.pool.query("SELECT count(*)::int8 FROM audit_event WHERE authority_id = \(authority)").first?.decode(Int.self, at: 0) ?? 0
    }

    static func verify(_ app: Application, _ town: AuthorityFixture) throws -> AuditChain.Result {
        try app.pool.withConnection { try AuditChain.verify($0, authorityID: town.authorityID, pageSize: 5) }
    }

    /// The id of the event at `position`.
    static func event(_ app: Application, _ town: AuthorityFixture, at position: Int) throws -> Int64 {
        try #require(try app.pool.query("SELECT id FROM audit_event WHERE authority_id = \(town.authorityID) AND chain_seq = \(position)").first?.decode(Int64.self, at: 0))
    }

    @Test func everyEventIsSealedIntoItsAuthoritysChain_andTheChainVerifies() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try Self.history(app), other = try Self.history(app)
        for fixture in [town, other] {
            let result = try Self.verify(app, fixture)
            #expect(result.isIntact, "\(String(describing: result.broken))")
            #expect(result.checked == Int64(try Self.count(app, fixture.authorityID)) && result.unsealed == 0)
            // Positions 1…n without gaps, each authority on its own.
            let positions = try app.pool.query("SELECT chain_seq FROM audit_event WHERE authority_id = \(fixture.authorityID) ORDER BY chain_seq")
                .map { try $0.decode(Int64.self, at: 0) }
            #expect(positions == Array(1...Int64(positions.count)))
        }
    }

    @Test func aChangedEvent_isNamed() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try Self.history(app)
        let target = try Self.event(app, town, at: 7)
        let db = try Superuser.connect(app)
        defer { db.close() }
        try db.execute("UPDATE audit_event SET detail = '{\"fields\": \"nothing\"}' WHERE id = \(target)")
        let result = try Self.verify(app, town)
        #expect(result.broken == AuditChain.Break(kind: .changed, position: 7, eventID: target))
        #expect(result.checked == 6)
    }

    @Test func aDeletedEvent_isNamed_inTheMiddleAndAtTheEnd() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try Self.history(app)
        let db = try Superuser.connect(app)
        defer { db.close() }
        let gone = try Self.event(app, town, at: 5), next = try Self.event(app, town, at: 6)
        try db.execute("DELETE FROM audit_event WHERE id = \(gone)")
        #expect(try Self.verify(app, town).broken == AuditChain.Break(kind: .missing, position: 5, eventID: next))

        let other = try Self.history(app)
        let last = try #require(try app.pool.query("SELECT max(chain_seq) FROM audit_event WHERE authority_id = \(other.authorityID)").first?.decode(Int.self, at: 0))
        try db.execute("DELETE FROM audit_event WHERE authority_id = \(other.authorityID) AND chain_seq = \(last)")
        let result = try Self.verify(app, other)
        #expect(result.broken?.kind == .head && result.broken?.position == Int64(last))
    }

    @Test func anInsertedEvent_isNamed() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try Self.history(app)
        let db = try Superuser.connect(app)
        defer { db.close() }
        // Make room at position 4 and put an event there, with the hash of its predecessor's successor.
        try db.execute("UPDATE audit_event SET chain_seq = chain_seq + 1000000 WHERE authority_id = \(town.authorityID) AND chain_seq >= 4")
        try db.execute("UPDATE audit_event SET chain_seq = chain_seq - 999999 WHERE authority_id = \(town.authorityID) AND chain_seq > 1000000")
        let inserted = try #require(try db.query("""
            INSERT INTO audit_event (authority_id, actor_kind, action, entity_type, chain_seq, hash)
            SELECT authority_id, 'system', 'application.read', 'application', 4, hash FROM audit_event
            WHERE authority_id = \(town.authorityID) AND chain_seq = 5
            RETURNING id
            """).first?.decode(Int64.self, at: 0))
        #expect(try Self.verify(app, town).broken == AuditChain.Break(kind: .changed, position: 4, eventID: inserted))
    }

    @Test func reorderedEvents_areNamed() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try Self.history(app)
        let db = try Superuser.connect(app)
        defer { db.close() }
        let third = try Self.event(app, town, at: 3), fourth = try Self.event(app, town, at: 4)
        try db.execute("UPDATE audit_event SET chain_seq = 1000003 WHERE id = \(third)")
        try db.execute("UPDATE audit_event SET chain_seq = 3 WHERE id = \(fourth)")
        try db.execute("UPDATE audit_event SET chain_seq = 4 WHERE id = \(third)")
        #expect(try Self.verify(app, town).broken == AuditChain.Break(kind: .changed, position: 3, eventID: fourth))
    }

    @Test func aChangedClientAddress_isNamed_butAForgottenOneIsNot() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try Self.history(app)
        let db = try Superuser.connect(app)
        defer { db.close() }
        // Forgotten as AUDIT_IP_DAYS does it (no superuser, nothing switched off): the chain still fits.
        _ = try app.pool.query("SELECT * FROM audit_event_forget_addresses(now() + interval '1 day', 3)")
        #expect(try app.pool.query("SELECT count(*)::int8 FROM audit_event WHERE client_address IS NULL AND client_address_digest IS NOT NULL").first?.decode(Int.self, at: 0) == 3)
        #expect(try Self.verify(app, town).isIntact)
        // Another event's address replaced in the database: named.
        let kept = try #require(try app.pool.query("""
            SELECT id, chain_seq FROM audit_event WHERE authority_id = \(town.authorityID) AND client_address IS NOT NULL ORDER BY chain_seq LIMIT 1
            """).first)
        let id = try kept.decode(Int64.self, at: 0), position = try kept.decode(Int64.self, at: 1)
        try db.execute("UPDATE audit_event SET client_address = '203.0.113.9' WHERE id = \(id)")
        #expect(try Self.verify(app, town).broken == AuditChain.Break(kind: .address, position: position, eventID: id))
    }

    @Test func readsOfPersonalData_areAudited_andLeftOutOfTheTimeline() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let anna = try town.login(app)
        let (first, _) = try town.register(anna), (second, _) = try town.register(anna)
        func reads(_ action: String) throws -> [String] {
            try app.pool.query("SELECT entity_id::text FROM audit_event WHERE action = \(action) ORDER BY id").map { try $0.decode(String.self, at: 0) }
        }
        #expect(anna.json("GET", "/api/v1/applications/\(first)").0 == 200)
        #expect(try reads("application.read") == [first.lowercased()])
        #expect(anna.call("GET", "/api/v1/applications/\(first)/letter")?.status == 200)
        #expect(try reads("application.letter_read") == [first.lowercased()])
        #expect(anna.json("GET", "/api/v1/applications?name=Y%C4%B1l&limit=10").0 == 200)
        #expect(Set(try reads("application.listed")) == [first.lowercased(), second.lowercased()])
        #expect(anna.json("GET", "/api/v1/applications?name=Nobody").0 == 200)
        #expect(try reads("application.listed").count == 2)   // nothing shown, nothing recorded
        // Who, from where, which filters — never the name searched for.
        let listed = try #require(try app.pool.query("""
            SELECT actor_kind, actor_id IS NOT NULL, client_address, detail::text FROM audit_event WHERE action = 'application.listed' LIMIT 1
            """).first)
        #expect(try listed.decode(String.self, at: 0) == "user" && listed.decode(Bool.self, at: 1) && listed.decode(String.self, at: 2) == "127.0.0.1")
        #expect(try listed.decode(String.self, at: 3) == #"{"filters": "name"}"#)
        let timeline = try #require(anna.call("GET", "/api/v1/applications/\(first)/events")).text
        #expect(timeline.contains("application.registered") && !timeline.contains("application.read") && !timeline.contains("listed"))
    }

    @Test func supervisorsPageThroughTheLog_withFilters_andSeeTheChainHead() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try Self.history(app, events: 8), other = try Self.history(app, events: 4)
        let chef = try town.login(app, as: "chef")
        #expect(try town.login(app).json("GET", "/api/v1/audit").0 == 403)
        try AuditSealer.sealPending(app.pool, wait: true)
        let (status, page) = chef.json("GET", "/api/v1/audit?limit=3")
        #expect(status == 200)
        let items = try #require(page["items"] as? [[String: Any]])
        #expect(items.count == 3)
        let ids = items.compactMap { $0["id"] as? Int }
        #expect(ids == ids.sorted(by: >))
        let chain = try #require(page["chain"] as? [String: Any])
        #expect((chain["hash"] as? String)?.count == 64 && (chain["seq"] as? Int ?? 0) >= 8)
        #expect(items.allSatisfy { ($0["hash"] as? String)?.count == 64 || $0["chainSeq"] == nil })
        let next = try #require(page["next"] as? Int)
        let (_, older) = chef.json("GET", "/api/v1/audit?limit=3&before=\(next)")
        #expect((older["items"] as? [[String: Any]])?.compactMap { $0["id"] as? Int }.allSatisfy { $0 < next } == true)
        // Filters, and only the caller's authority.
        let (_, cancels) = chef.json("GET", "/api/v1/audit?action=application.cancelled&entityType=application&limit=200")
        let cancelled = try #require(cancels["items"] as? [[String: Any]])
        #expect(!cancelled.isEmpty && cancelled.allSatisfy { $0["action"] as? String == "application.cancelled" })
        let otherIDs = Set(try app.pool.query("SELECT id FROM audit_event WHERE authority_id = \(other.authorityID)").map { try $0.decode(Int.self, at: 0) })
        let (_, all) = chef.json("GET", "/api/v1/audit?limit=200")
        #expect((all["items"] as? [[String: Any]])?.allSatisfy { !otherIDs.contains($0["id"] as? Int ?? -1) } == true)
        for bad in ["actorKind=robot", "entityId=x", "before=-1", "action=DROP%20TABLE", "from=2026-02-30", "limit=500"] {
            #expect(chef.json("GET", "/api/v1/audit?\(bad)").0 == 400, "\(bad)")
        }
        // Reading the log is recorded too, with the filters' names.
        #expect(try app.pool.query("SELECT count(*)::int8 FROM audit_event WHERE action = 'audit.read' AND detail->>'filters' = 'entityType,action'").first?.decode(Int.self, at: 0) == 1)
    }
}

/// Two `pickupbox serve` processes write and seal one authority's log at once.
@Suite("Audit log with several processes", .serialized)
struct AuditMultiProcessTests {
    @Test func twoProcessesWritingAtOnce_keepTheChainLinear_andVerifyAgrees() throws {
        let (connectionString, pool) = try SMSMultiProcessTests.database()
        defer { pool.shutdown() }
        let a = try ServerProcess(connectionString: connectionString, environment: [:])
        let b = try ServerProcess(connectionString: connectionString, environment: [:])
        defer { a.stop(); b.stop() }
        #expect(a.waitUntilReady() && b.waitUntilReady())
        let authority = UUID(), site = UUID()
        try pool.transaction { c in
            try c.execute("INSERT INTO authority (id, slug, name) VALUES (\(authority), 'chaintown', 'Stadt')")
            try c.execute("INSERT INTO site (authority_id, id, name, address, land) VALUES (\(authority), \(site), 'Amt', 'Markt 1', 'NW')")
            try c.execute("""
                INSERT INTO app_user (authority_id, id, username, display_name, role, password_hash)
                VALUES (\(authority), \(UUID()), 'anna', 'Anna', 'caseworker', \(TestPasswords.hash))
                """)
        }
        let siteID = site.uuidString
        let group = DispatchGroup()
        let created = Mutex64()
        for port in [a.port, b.port, a.port, b.port] {
            group.enter()
            Thread {
                defer { group.leave() }
                let body: [String: Any] = ["siteId": siteID, "documentType": "eat", "issuance": "first", "familyName": "Kette", "givenNames": "Eva",
                                           "dateOfBirth": "01.02.1980", "mobileNumber": "0151 23456789", "pickupMethod": "box", "feeSettled": true]
                let client = StaffClient(port: port)
                guard client.call("POST", "/api/v1/auth/login", json: ["authority": "chaintown", "username": "anna", "password": "correct horse battery staple"])?.status == 200 else { return }
                for _ in 0..<40 where client.call("POST", "/api/v1/applications", json: body)?.status == 201 { created.add(by: 1) }
            }.start()
        }
        group.wait()
        #expect(created.value == 160)
        // Both processes' sealers ran while the writes came in; wait until everything is sealed.
        #expect(try SMSFixture.wait(seconds: 30) {
            try pool.query("SELECT count(*)::int8 FROM audit_event WHERE hash IS NULL").first?.decode(Int.self, at: 0) == 0
        })
        let result = try pool.withConnection { try AuditChain.verify($0, authorityID: authority) }
        #expect(result.isIntact, "\(String(describing: result.broken))")
        #expect(result.checked == 164)   // 4 logins and 160 registrations
        let verify = try OperatorCommandTests.run(["audit", "verify"], database: connectionString)
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        #expect(verify.stdout.contains("chaintown: intact — positions 1–164"))
    }
}

@Suite("pickupbox audit")
struct AuditCommandTests {
    @Test func anchorPrintsTheHeads_andVerifyNamesTheFirstEventThatDoesNotFit() throws {
        let db = try SMSEncryptionTests.database()
        let app = try AppFixture.make(AppFixture.makeConfiguration(), connectionString: db)
        defer { app.shutdown() }
        let town = try AuditChainTests.history(app)
        let anchor = try OperatorCommandTests.run(["audit", "anchor"], database: db)
        #expect(anchor.status == 0, "\(anchor.stderr)")
        let line = try #require(anchor.stdout.split(separator: "\n").first { $0.hasPrefix(town.slug + ":") })
        let head = String(try #require(line.split(separator: " ").first))
        #expect(try OperatorCommandTests.run(["audit", "verify", "--anchor", head], database: db).status == 0)
        // The last hex digit changed (replacing the last four with "0000" left a head ending in 0000 unchanged).
        let forged = head.dropLast() + (head.last == "0" ? "1" : "0")
        let mismatch = try OperatorCommandTests.run(["audit", "verify", "--anchor", String(forged)], database: db)
        #expect(mismatch.status == 1 && mismatch.stdout.contains("BROKEN"))
        #expect(try OperatorCommandTests.run(["audit", "verify", "--anchor", "nonsense"], database: db).status != 0)

        let target = try AuditChainTests.event(app, town, at: 2)
        let superuser = try Superuser.connect(app)
        defer { superuser.close() }
        try superuser.execute("UPDATE audit_event SET action = 'auth.logout' WHERE id = \(target)")
        let broken = try OperatorCommandTests.run(["audit", "verify", "--authority", town.slug], database: db)
        #expect(broken.status == 1)
        #expect(broken.stdout.contains("event \(target) at position 2 does not match its hash"), "\(broken.stdout)")
    }
}
