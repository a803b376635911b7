#if canImport(Glibc)
import EmbeddedPostgres
import Glibc
#endif
@testable import App
import Foundation
import HTTPTestSupport
import Postgres
import PostgresTestSupport
import Testing

/// Least-privilege database roles (PRIVACY.md#database-roles): the server runs as a role that cannot rewrite the
/// audit log; migrations run as the owner.
@Suite("Database roles")
struct DatabaseRolesTests {
    /// Runs `sql` and returns the SQLSTATE it failed with (nil: it did not fail).
    static func refusal(_ pool: PostgresPool, _ sql: String) -> String? {
        do {
            try pool.withConnection { try $0.simpleQuery(sql) }
            return nil
        } catch let error as PostgresError {
            return error.sqlState ?? "no sqlstate"
        } catch {
            return "\(error)"
        }
    }

    @Test func theApplicationRole_cannotUpdateDeleteTruncateOrSwitchOffTheAuditLog() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuditChainTests.history(app)
        #expect(try app.pool.query("SELECT current_user::text").first?.decode(String.self, at: 0) == AppFixture.applicationRole)
        let denied = SQLState.insufficientPrivilege
        for sql in [
            "UPDATE audit_event SET action = 'auth.logout'",
            "UPDATE audit_event SET client_address = NULL",
            "DELETE FROM audit_event",
            "TRUNCATE audit_event",
            "ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_update",
            "ALTER TABLE audit_event DISABLE TRIGGER ALL",
            "DROP TRIGGER audit_event_no_update ON audit_event",
            "SET session_replication_role = replica",
            // Nor hand in an event that claims a place in the chain, or a time of its own.
            "INSERT INTO audit_event (authority_id, actor_kind, action, entity_type, chain_seq, hash) VALUES ('\(town.authorityID)', 'system', 'x.y', 'z', 1, decode(repeat('ab', 32), 'hex'))",
            "INSERT INTO audit_event (authority_id, actor_kind, action, entity_type, at) VALUES ('\(town.authorityID)', 'system', 'x.y', 'z', now() - interval '1 year')",
            "UPDATE audit_chain SET seq = 0",
            "DELETE FROM schema_migrations",
            "CREATE TABLE shadow (id int)",
            "DROP TABLE application",
        ] {
            #expect(Self.refusal(app.pool, sql) == denied, "\(sql)")
        }
        // What it needs still works: writing events, the two functions made for it, its own tables.
        #expect(Self.refusal(app.pool, "INSERT INTO audit_event (authority_id, actor_kind, action, entity_type) VALUES ('\(town.authorityID)', 'system', 'x.y', 'z')") == nil)
        #expect(try AuditSealer.sealPending(app.pool, wait: true) == 1)
        #expect(Self.refusal(app.pool, "SELECT * FROM audit_event_forget_addresses(now() - interval '90 days', 10)") == nil)
        #expect(try AuditChainTests.verify(app, town).isIntact)
        // It owns nothing, and the check says so.
        #expect(try app.pool.query("SELECT count(*)::int8 FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)").first?.decode(Int.self, at: 0) == 0)
        #expect(try DatabaseRoles.excess(of: app.pool) == nil)
    }

    @Test func theOwner_wouldBeNamedAsTooPowerful() throws {
        let db = try SMSEncryptionTests.database()
        let pool = PostgresPool(configuration: PostgresConfiguration(connectionString: db, poolSize: 1), logger: AppFixture.logger)
        defer { pool.shutdown() }
        let excess = try #require(try DatabaseRoles.excess(of: pool))
        #expect(excess.reasons.contains("may UPDATE the audit log") && excess.reasons.contains("may TRUNCATE the audit log"))
        #expect(excess.description.contains("DATABASE_OWNER_URL"))
    }

    /// A role of its own per test (roles belong to the whole cluster), dropped afterwards.
    static func withRole(_ owner: String, _ body: (String, String) throws -> Void) throws {
        let role = "pb_test_" + UUID().uuidString.prefix(8).lowercased()
        let server = try #require(PostgresConnectionString.replacing(["user": role, "password": "secret-\(role)"], in: owner))
        defer {
            if let c = try? PostgresConnection.connect(owner, logger: AppFixture.logger) {
                try? c.simpleQuery("DROP OWNED BY \(role); DROP ROLE IF EXISTS \(role)")
                c.close()
            }
        }
        try body(role, server)
    }

    @Test func migrateCreatesTheServersRole_andProductionRefusesToRunAsTheOwner() throws {
        let owner = try TestPostgres.makeDatabase()
        try Self.withRole(owner) { role, server in
            let migrate = try OperatorCommandTests.run(["migrate"], database: server, environment: ["DATABASE_OWNER_URL": owner])
            #expect(migrate.status == 0, "\(migrate.stderr)")
            let pool = PostgresPool(configuration: PostgresConfiguration(connectionString: owner, poolSize: 1), logger: AppFixture.logger)
            defer { pool.shutdown() }
            let made = try #require(try pool.query("SELECT rolsuper, rolcreaterole, rolcanlogin FROM pg_roles WHERE rolname = \(role)").first)
            #expect(try !made.decode(Bool.self, at: 0) && !made.decode(Bool.self, at: 1) && made.decode(Bool.self, at: 2))

            let production = ["PICKUPBOX_ENV": "production", "PICKUPBOX_SECRET_KEY": String(repeating: "07", count: 32), "SMS_PROVIDER": "webhook",
                              "SMS_URL": "https://127.0.0.1:9/sms", "SMS_TOKEN": "t", "SMS_DISPATCHER": "off", "PATH": "/usr/bin:/bin", "ACCESS_LOG": "off", "LOG_LEVEL": "warning",
                              "METRICS_TOKEN": String(repeating: "m", count: 32)]
            // As the owner: refused, and it says why.
            let (refused, refusedOutput) = try CommandLineTests.launch(["serve", "--port", "0"], environment: production.merging(["DATABASE_URL": owner]) { $1 })
            let text = String(decoding: refusedOutput.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            _ = SMSFixture.wait(seconds: 20) { !refused.isRunning }
            #expect(refused.terminationStatus != 0)
            #expect(text.contains("could") || text.contains("may UPDATE the audit log"), "\(text)")
            // As the application role, with nothing to migrate: it serves, on the port it names in its "serving" line (a notice).
            let (serving, output) = try CommandLineTests.launch(["serve", "--port", "0"], environment: production.merging(["DATABASE_URL": server, "LOG_LEVEL": "notice"]) { $1 })
            defer { EmbeddedRolesTests.stop(serving) }
            let started = CommandLineTests.servingPort(of: serving, reading: output.fileHandleForReading, seconds: 30)
            let port = try #require(started.port, "\(started.output)")
            let ready = SMSFixture.wait(seconds: 30) { !serving.isRunning || (try? TestClient(port: port, timeout: 1))?.request("GET", "/ready")?.status == 200 }
            try #require(ready && serving.isRunning, "\(started.output)\(serving.isRunning ? "" : String(decoding: output.fileHandleForReading.availableData, as: UTF8.self))")
            let seen = try pool.query("SELECT DISTINCT usename::text FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pickupbox' AND pid <> pg_backend_pid()")
                .map { try $0.decode(String.self, at: 0) }
            #expect(seen == [role])
        }
    }

    @Test func theServersRole_cannotMigrate_andSaysWhoMust() throws {
        let owner = try TestPostgres.makeDatabase()
        try Self.withRole(owner) { role, server in
            let pool = PostgresPool(configuration: PostgresConfiguration(connectionString: owner, poolSize: 1), logger: AppFixture.logger)
            defer { pool.shutdown() }
            let create = try #require(try pool.query("SELECT format('CREATE ROLE %I LOGIN', \(role)::text)").first?.decode(String.self, at: 0))
            try pool.withConnection { try $0.simpleQuery(create) }
            let migrate = try OperatorCommandTests.run(["migrate"], database: server)
            #expect(migrate.status != 0)
            #expect(migrate.stderr.contains("DATABASE_OWNER_URL"), "\(migrate.stderr)")
        }
    }
}

/// `make run`'s embedded cluster sets both roles up: migrations as the cluster's owner, the server as `pickupbox_app`.
@Suite("Embedded cluster roles", .serialized)
struct EmbeddedRolesTests {
    @Test func theEmbeddedCluster_servesAsTheApplicationRole() throws {
        let directory = NSTemporaryDirectory() + "pickupbox-roles-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Port 0: the bound one is in the "serving" line, a notice.
        let (process, pipe) = try CommandLineTests.launch(["serve", "--port", "0", "--data-dir", directory],
                                                          environment: ["PATH": "/usr/bin:/bin", "ACCESS_LOG": "off", "LOG_LEVEL": "notice"])
        defer { Self.stop(process) }
        let started = CommandLineTests.servingPort(of: process, reading: pipe.fileHandleForReading, seconds: 120)
        let port = try #require(started.port, "\(started.output)")
        let ready = SMSFixture.wait(seconds: 120) { !process.isRunning || (try? TestClient(port: port, timeout: 1))?.request("GET", "/ready")?.status == 200 }
        try #require(ready && process.isRunning, "\(started.output)\(process.isRunning ? "" : String(decoding: pipe.fileHandleForReading.availableData, as: UTF8.self))")
        let cluster = EmbeddedPostgres(directory: directory + "/postgres", logger: AppFixture.logger)
        let c = try PostgresConnection.connect(cluster.connectionString(), logger: AppFixture.logger)
        defer { c.close() }
        let seen = try c.query("SELECT DISTINCT usename::text FROM pg_stat_activity WHERE datname = 'pickupbox' AND application_name = 'pickupbox' AND pid <> pg_backend_pid()")
            .map { try $0.decode(String.self, at: 0) }
        #expect(seen == [DatabaseRoles.embeddedApplicationRole])
        #expect(try c.query("SELECT tableowner::text FROM pg_tables WHERE tablename = 'audit_event'").first?.decode(String.self, at: 0) == "postgres")
    }

    /// SIGTERM, then up to 20 s for the server (and the cluster it started) to stop.
    static func stop(_ process: Process) {
        kill(process.processIdentifier, SIGTERM)
        _ = SMSFixture.wait(seconds: 20) { !process.isRunning }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
