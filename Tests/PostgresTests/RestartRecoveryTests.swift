import EmbeddedPostgres
import Foundation
import Postgres
import PostgresTestSupport
import Testing

@Suite("Recovery after a PostgreSQL restart")
struct RestartRecoveryTests {
    @Test func poolRecoversAfterOutageAndRestart() throws {
        // Its own cluster, so the shared one is not disturbed.
        var embedded = EmbeddedPostgres(directory: TestPostgres.scratchDirectory("test-postgres-restart"), logger: Fixtures.logger)
        embedded.fastUnsafe = true
        try embedded.start()
        defer { try? embedded.stop() }
        let configuration = PostgresConfiguration(
            connectionString: embedded.connectionString(), poolSize: 2, checkoutTimeout: .seconds(2)
        )
        let pool = PostgresPool(configuration: configuration, logger: Fixtures.logger)
        defer { pool.shutdown() }
        #expect(try pool.query("SELECT 1").count == 1)

        try embedded.stop()
        for _ in 0..<3 {
            let error = #expect(throws: PostgresError.self) { try pool.query("SELECT 1") }
            #expect(error?.isConnectionProblem == true)
        }
        try embedded.start()
        #expect(try pool.query("SELECT 2").first?.decode(Int.self, at: 0) == 2)

        try embedded.restart()
        #expect(try pool.query("SELECT 3").first?.decode(Int.self, at: 0) == 3)
        #expect(pool.statistics.inUse == 0)
    }
}
