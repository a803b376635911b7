import Foundation
import Postgres
import PostgresTestSupport
import Testing

/// Failures that libpq detects itself (no SQLSTATE) while the connection still reads OK — as seen under
/// `pg_ctl restart -m immediate` — are connection problems: the caller gets 503, the connection is dropped.
@Suite("Connection-level failures")
struct ConnectionFailureTests {
    @Test func clientSideFailureWithoutSQLState_isAConnectionProblem_andDiscardsTheConnection() throws {
        let server = try MisbehavingPostgres()
        defer { server.stop() }
        let pool = PostgresPool(
            configuration: PostgresConfiguration(connectionString: server.connectionString, poolSize: 2, checkoutTimeout: .seconds(2)),
            logger: Fixtures.logger
        )
        defer { pool.shutdown() }
        for _ in 0..<3 {
            let error = #expect(throws: PostgresError.self) { try pool.query("SELECT 1") }
            #expect(error?.kind == .connectionLost, "\(String(describing: error))")
            #expect(error?.isConnectionProblem == true)
            #expect(error?.sqlState == nil)
        }
        // The simple-query path (BEGIN of a transaction) too.
        let error = #expect(throws: PostgresError.self) { try pool.transaction { _ in } }
        #expect(error?.isConnectionProblem == true, "\(String(describing: error))")
        // Every failure dropped its connection: four were opened, none is kept for reuse.
        #expect(server.statistics.accepted == 4)
        #expect(pool.statistics.open == 0)
        #expect(pool.statistics.inUse == 0)
    }
}
