import Foundation
import Postgres
import PostgresTestSupport
import Testing

@Suite("MigrationRunner")
struct MigrationRunnerTests {
    /// A temporary directory with the given files.
    static func makeDirectory(_ files: [String: String]) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, sql) in files {
            try sql.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
        return directory
    }

    static let files = [
        "0001_create_box.sql": "CREATE TABLE box (id int8 PRIMARY KEY, label text NOT NULL);",
        "0002_add_box_site.sql": "ALTER TABLE box ADD COLUMN site text; CREATE INDEX box_site_idx ON box (site);",
        "README.md": "ignored",
    ]

    @Test func appliesAllInOrder_thenReRunIsANoOp() throws {
        let directory = try Self.makeDirectory(Self.files)
        let database = try TestPostgres.makeDatabase()
        let runner = MigrationRunner(directory: directory, logger: Fixtures.logger)
        let applied = try runner.migrate(connectionString: database)
        #expect(applied.map(\.name) == ["0001_create_box.sql", "0002_add_box_site.sql"])
        #expect(applied.allSatisfy { $0.checksum.count == 64 })
        #expect(try runner.migrate(connectionString: database).isEmpty)
        let connection = try PostgresConnection.connect(database, logger: Fixtures.logger)
        defer { connection.close() }
        #expect(try runner.pending(connection: connection).isEmpty)
        let rows = try connection.query("SELECT version, name FROM schema_migrations ORDER BY version")
        #expect(try rows.map { try $0.decode(Int.self, at: 0) } == [1, 2])
        try connection.execute("INSERT INTO box (id, label, site) VALUES (\(1), \("a"), \("b"))")
    }

    @Test func reportsPendingMigrations_onAnEmptyDatabase() throws {
        let runner = MigrationRunner(directory: try Self.makeDirectory(Self.files), logger: Fixtures.logger)
        let connection = try Fixtures.makeConnection()
        #expect(try runner.pending(connection: connection).map(\.version) == [1, 2])
    }

    @Test func refusesAChangedAppliedFile() throws {
        let directory = try Self.makeDirectory(Self.files)
        let database = try TestPostgres.makeDatabase()
        let runner = MigrationRunner(directory: directory, logger: Fixtures.logger)
        try runner.migrate(connectionString: database)
        try "CREATE TABLE box (id int8 PRIMARY KEY);".write(toFile: directory + "/0001_create_box.sql", atomically: true, encoding: .utf8)
        let error = #expect(throws: PostgresError.self) { try runner.migrate(connectionString: database) }
        #expect(error?.kind == .migration)
        #expect(error?.reason.contains("0001_create_box.sql changed after it was applied") == true)
        let connection = try PostgresConnection.connect(database, logger: Fixtures.logger)
        defer { connection.close() }
        #expect(throws: PostgresError.self) { try runner.pending(connection: connection) }
    }

    @Test func refusesAMissingAppliedFile() throws {
        let directory = try Self.makeDirectory(Self.files)
        let database = try TestPostgres.makeDatabase()
        let runner = MigrationRunner(directory: directory, logger: Fixtures.logger)
        try runner.migrate(connectionString: database)
        try FileManager.default.removeItem(atPath: directory + "/0002_add_box_site.sql")
        let error = #expect(throws: PostgresError.self) { try runner.migrate(connectionString: database) }
        #expect(error?.kind == .migration)
    }

    @Test(arguments: ["001_short.sql", "0001_Upper.sql", "0001-dash.sql", "0001_.sql", "abcd_x.sql", "0001_x.SQL"])
    func refusesBadFileNames(name: String) throws {
        let runner = MigrationRunner(directory: try Self.makeDirectory([name: "SELECT 1;"]), logger: Fixtures.logger)
        let error = #expect(throws: PostgresError.self) { try runner.load() }
        #expect(error?.kind == .migration)
    }

    @Test func refusesTwoFilesWithTheSameNumber() throws {
        let runner = MigrationRunner(
            directory: try Self.makeDirectory(["0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 2;"]), logger: Fixtures.logger
        )
        let error = #expect(throws: PostgresError.self) { try runner.load() }
        #expect(error?.kind == .migration)
    }

    @Test func failingMigrationIsRolledBack_andReported() throws {
        let directory = try Self.makeDirectory([
            "0001_ok.sql": "CREATE TABLE ok (id int);",
            "0002_broken.sql": "CREATE TABLE half (id int); SELECT 1/0;",
        ])
        let database = try TestPostgres.makeDatabase()
        let runner = MigrationRunner(directory: directory, logger: Fixtures.logger)
        let error = #expect(throws: PostgresError.self) { try runner.migrate(connectionString: database) }
        #expect(error?.kind == .migration)
        #expect(error?.reason.contains("0002_broken.sql") == true)
        let connection = try PostgresConnection.connect(database, logger: Fixtures.logger)
        defer { connection.close() }
        #expect(try connection.query("SELECT to_regclass('half') IS NULL").first?.decode(Bool.self, at: 0) == true)
        #expect(try runner.pending(connection: connection).map(\.version) == [2])
    }

    @Test func twoConcurrentRunnersApplyEachMigrationOnce() throws {
        let directory = try Self.makeDirectory(Self.files)
        let database = try TestPostgres.makeDatabase()
        let applied = Collector<Int>()
        let errors = Collector<String>()
        let waits = (0..<2).map { _ in
            onThread {
                do {
                    let runner = MigrationRunner(directory: directory, logger: Fixtures.logger)
                    applied.append(try runner.migrate(connectionString: database).count)
                } catch {
                    errors.append("\(error)")
                }
            }
        }
        waits.forEach { $0() }
        #expect(errors.snapshot.isEmpty)
        #expect(applied.snapshot.sorted() == [0, 2])
        let connection = try PostgresConnection.connect(database, logger: Fixtures.logger)
        defer { connection.close() }
        let counts = try connection.query("SELECT count(*), count(DISTINCT version) FROM schema_migrations")
        #expect(try counts[0].decode(Int.self, at: 0) == 2)
        #expect(try counts[0].decode(Int.self, at: 1) == 2)
    }
}
