@testable import App
import Foundation
import HTTPTestSupport
import Postgres
import PostgresTestSupport
import Testing

/// OPERATIONS.md's backup and restore, done: a database filled through the API is dumped with
/// `pg_dump`, restored with `pg_restore` into a fresh database, and a server started on the copy has
/// every application, assignment and queued SMS — and a PIN sent before the backup opens the box after it.
///
/// The dump and restore run as the test cluster's own user with owners and grants kept, so the test
/// holds however the application's database roles are set up.
@Suite("Backup and restore")
struct BackupRestoreTests {
    /// Runs a PostgreSQL client tool; returns its exit status and standard error.
    static func tool(_ name: String, _ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [name] + arguments
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, message)
    }

    /// Every row of the tables that matter, as JSON text in a stable order.
    static func snapshot(_ pool: PostgresPool) throws -> [String: [String]] {
        var tables: [String: [String]] = [:]
        for table in ["application", "assignment", "sms_message", "document", "delivery", "compartment", "box", "audit_event", "box_change"] {
            tables[table] = try pool.query("SELECT row_to_json(t)::text FROM \(unsafeSQL: table) t ORDER BY row_to_json(t)::text").map { try $0.decode(String.self, at: 0) }
        }
        return tables
    }

    @Test func dumpRestoredIntoAFreshDatabase_servesEveryApplicationAssignmentAndQueuedSMS() throws {
        let config = AppFixture.makeConfiguration()
        let original = try TestPostgres.makeDatabase()
        try MigrationRunner(directory: config.migrationsDirectory, logger: AppFixture.logger).migrate(connectionString: original)
        let app = try AppFixture.make(config, connectionString: original)
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        try town.openAllWeek(app)
        let box = try town.makeBox(app, rows: 3, columns: 4)
        let token = try town.boxToken(app, box: box)

        // Through the API: loaded documents (SMS with PIN queued), delivered-and-assigned ones, a
        // counter pickup (its SMS queued), and registered ones still in production.
        let loaded = try (0..<3).map { try LoadedDocument.make(app, town, box: box, token: token, document: 9100 + $0) }
        let client = try town.login(app)
        var ids = loaded.map(\.applicationID)
        for n in 0..<3 {
            let (id, number) = try town.register(client, ["mobileNumber": "0171 55500\(n)\(n)"])
            let (status, _) = client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "B-\(n)", "items": [["documentNumber": documentNumber(9200 + n), "vorgangsnummer": number]]])
            #expect(status == 201 || status == 200)
            ids.append(id)
        }
        let (counterID, counterNumber) = try town.register(client, ["pickupMethod": "counter"])
        _ = client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "B-counter", "items": [["documentNumber": documentNumber(9300), "vorgangsnummer": counterNumber]]])
        ids.append(counterID)
        for n in 0..<4 { ids.append(try town.register(client, ["familyName": "Nachname\(n)"]).0) }

        var answers: [String: String] = [:]
        for id in ids { answers[id] = client.call("GET", "/api/v1/applications/\(id)")?.text }
        // Reading an application is audited: wait until the sealer has chained every event, so that the
        // snapshot is what the dump will hold.
        #expect(SMSFixture.wait(seconds: 20) {
            (try? app.pool.query("SELECT count(*)::int8 FROM audit_event WHERE hash IS NULL").first?.decode(Int.self, at: 0)) == 0
        })
        let before = try Self.snapshot(app.pool)
        #expect(before["application"]?.count == 11)
        #expect(before["assignment"]?.count == 6)
        #expect((before["sms_message"]?.count ?? 0) >= 4)
        #expect(try SMSFixture.count(app.pool, status: "queued") >= 4)

        // Backup as OPERATIONS.md says, while the server runs.
        let dump = NSTemporaryDirectory() + "pickupbox-backup-\(UUID().uuidString.prefix(8)).dump"
        defer { try? FileManager.default.removeItem(atPath: dump) }
        let (dumped, dumpError) = try Self.tool("pg_dump", ["--format=custom", "--file=\(dump)", "--dbname=\(original)"])
        #expect(dumped == 0, "pg_dump: \(dumpError)")

        let restored = try TestPostgres.makeDatabase()
        let (restoredStatus, restoreError) = try Self.tool("pg_restore", ["--exit-on-error", "--dbname=\(restored)", dump])
        #expect(restoredStatus == 0, "pg_restore: \(restoreError)")
        // The audit log's hash chains are intact on the copy.
        let verify = try OperatorCommandTests.run(["audit", "verify"], database: restored)
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        // Nothing to migrate on the copy.
        #expect(try MigrationRunner(directory: config.migrationsDirectory, logger: AppFixture.logger).migrate(connectionString: restored).isEmpty)

        let copy = try AppFixture.make(config, connectionString: restored)
        defer { copy.shutdown() }
        #expect(try TestClient(port: copy.port).request("GET", "/ready")?.status == 200)
        #expect(try Self.snapshot(copy.pool) == before)
        let again = try town.login(copy)
        for id in ids {
            #expect(again.call("GET", "/api/v1/applications/\(id)")?.text == answers[id], "application \(id) differs after the restore")
        }
        // The PIN sent before the backup opens the compartment on the restored server (same key).
        let document = loaded[0]
        let (started, session, _) = boxPost(copy.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": document.pin])
        #expect(started == 201, "\(session)")
        let pickup = try #require(session["pickupId"] as? String)
        let (opened, open, _) = boxPost(copy.port, token: token, "/api/v1/box/pickups/\(pickup)/factors", json: ["pinLetterConfirmed": true, "dateOfBirth": "15.03.1990"])
        #expect(opened == 200, "\(open)")
        #expect(open["compartmentNumbers"] as? [Int] == [document.compartment])
        // The queued SMS are still queued on the copy, ready for its dispatcher.
        #expect(try SMSFixture.count(copy.pool, status: "queued") == SMSFixture.count(app.pool, status: "queued"))
    }
}
