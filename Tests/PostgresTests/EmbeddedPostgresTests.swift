import EmbeddedPostgres
import Foundation
import Postgres
import PostgresTestSupport
import Testing

@Suite("EmbeddedPostgres")
struct EmbeddedPostgresTests {
    @Test func findsTheServerBinaries() throws {
        let bin = try EmbeddedPostgres.binDirectory()
        #expect(FileManager.default.isExecutableFile(atPath: bin + "/initdb"))
        #expect(FileManager.default.isExecutableFile(atPath: bin + "/pg_ctl"))
    }

    @Test func startingAnAlreadyStartedClusterReusesIt() throws {
        let cluster = try TestPostgres.shared()
        guard let embedded = cluster.embedded else { return }  // DATABASE_URL: nothing embedded to reuse
        let before = try PostgresConnection.connect(embedded.connectionString(), logger: Fixtures.logger)
        defer { before.close() }
        let startTime = try before.query("SELECT pg_postmaster_start_time()").first?.decode(Date.self, at: 0)
        try embedded.start()
        #expect(!before.isBroken)
        let after = try PostgresConnection.connect(embedded.connectionString(), logger: Fixtures.logger)
        defer { after.close() }
        #expect(try after.query("SELECT pg_postmaster_start_time()").first?.decode(Date.self, at: 0) == startTime)
        #expect(try after.query("SELECT current_database()").first?.decode(String.self, at: 0) == "pickupbox")
    }

    @Test func createDatabaseRejectsUnsafeNames() throws {
        let embedded = EmbeddedPostgres(directory: TestPostgres.scratchDirectory("unused"), logger: Fixtures.logger)
        let error = #expect(throws: PostgresError.self) { try embedded.createDatabase("x\"; DROP") }
        #expect(error?.kind == .launcher)
    }

    @Test func connectionStringUsesTheUnixSocket() {
        let embedded = EmbeddedPostgres(directory: TestPostgres.scratchDirectory("unused"), logger: Fixtures.logger)
        let string = embedded.connectionString(database: "abc")
        #expect(string.hasPrefix("host=/"))
        #expect(string.hasSuffix("port=5432 user=postgres dbname=abc"))
    }
}
