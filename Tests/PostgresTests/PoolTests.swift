import Foundation
import Postgres
import PostgresTestSupport
import Testing

@Suite("PostgresPool")
struct PoolTests {
    struct Boom: Error {}

    @Test func throwsPoolTimeout_whenExhausted_afterRoughlyTheTimeout() throws {
        let pool = try Fixtures.makePool(size: 1, checkoutTimeout: .milliseconds(300))
        defer { pool.shutdown() }
        try pool.withConnection { _ in
            let start = ContinuousClock.now
            let error = #expect(throws: PostgresError.self) { try pool.query("SELECT 1") }
            let elapsed = ContinuousClock.now - start
            #expect(error?.kind == .poolTimeout)
            #expect(error?.isConnectionProblem == true)
            #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(2))
        }
    }

    @Test func waitingCheckoutGetsTheConnection_whenItIsReturned() throws {
        let pool = try Fixtures.makePool(size: 1, checkoutTimeout: .seconds(5))
        defer { pool.shutdown() }
        let held = Collector<Bool>()
        let release = Collector<Bool>()
        let holder = onThread {
            try? pool.withConnection { _ in
                held.append(true)
                release.wait(timeout: 5) { !$0.isEmpty }
            }
        }
        held.wait(timeout: 5) { !$0.isEmpty }
        let result = Collector<Int>()
        let waiter = onThread {
            if let value = try? pool.query("SELECT 7").first?.decode(Int.self, at: 0) { result.append(value) }
        }
        let deadline = Date(timeIntervalSinceNow: 5)
        while pool.statistics.waiting < 1, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let busy = pool.statistics
        #expect(busy.size == 1 && busy.open == 1 && busy.inUse == 1 && busy.waiting == 1)
        release.append(true)
        holder()
        waiter()
        #expect(result.snapshot == [7])
        let idle = pool.statistics
        #expect(idle.open == 1 && idle.inUse == 0 && idle.waiting == 0)
    }

    @Test func opensConnectionsLazily() throws {
        let pool = try Fixtures.makePool(size: 3)
        defer { pool.shutdown() }
        #expect(pool.statistics.open == 0)
        try pool.query("SELECT 1")
        #expect(pool.statistics.open == 1)
    }

    @Test func replacesABrokenConnection() throws {
        let connectionString = try TestPostgres.makeDatabase()
        let configuration = PostgresConfiguration(connectionString: connectionString, poolSize: 1, applicationName: "pool-kill-test")
        let pool = PostgresPool(configuration: configuration, logger: Fixtures.logger)
        defer { pool.shutdown() }
        let firstPID = try pool.query("SELECT pg_backend_pid()").first?.decode(Int.self, at: 0)
        #expect(try Fixtures.terminateBackends(connectionString: connectionString, applicationName: "pool-kill-test") == 1)
        let secondPID = try pool.query("SELECT pg_backend_pid()").first?.decode(Int.self, at: 0)
        #expect(secondPID != nil && secondPID != firstPID)
        #expect(pool.statistics.open == 1)
    }

    @Test func discardsAConnection_thatFailsMidUse() throws {
        let connectionString = try TestPostgres.makeDatabase()
        let configuration = PostgresConfiguration(connectionString: connectionString, poolSize: 1, applicationName: "pool-kill-busy")
        let pool = PostgresPool(configuration: configuration, logger: Fixtures.logger)
        defer { pool.shutdown() }
        let error = #expect(throws: PostgresError.self) {
            try pool.withConnection { connection in
                _ = try Fixtures.terminateBackends(connectionString: connectionString, applicationName: "pool-kill-busy")
                Thread.sleep(forTimeInterval: 0.1)
                try connection.query("SELECT 1")
            }
        }
        #expect(error?.isConnectionProblem == true)
        #expect(pool.statistics.open == 0)
        #expect(try pool.query("SELECT 1").count == 1)
    }

    @Test func neverReturnsAConnectionInsideATransaction() throws {
        let pool = try Fixtures.makePool(size: 1)
        defer { pool.shutdown() }
        try pool.query("CREATE TABLE t (v int)")
        #expect(throws: Boom.self) {
            try pool.withConnection { connection in
                try connection.simpleQuery("BEGIN")
                try connection.execute("INSERT INTO t VALUES (\(1))")
                _ = try? connection.query("SELECT 1/0")  // now in a failed transaction
                throw Boom()
            }
        }
        try pool.withConnection { connection in
            try connection.simpleQuery("BEGIN")
            try connection.execute("INSERT INTO t VALUES (\(2))")  // left open on purpose
        }
        #expect(try pool.query("SELECT count(*) FROM t").first?.decode(Int.self, at: 0) == 0)
    }

    @Test func throwsConnectionFailedFast_whenTheServerIsUnreachable() throws {
        let configuration = PostgresConfiguration(connectionString: "host=/nonexistent-dir port=5432 dbname=x", poolSize: 2)
        let pool = PostgresPool(configuration: configuration, logger: Fixtures.logger)
        let start = ContinuousClock.now
        let error = #expect(throws: PostgresError.self) { try pool.query("SELECT 1") }
        #expect(error?.kind == .connectionFailed)
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(pool.statistics.open == 0 && pool.statistics.inUse == 0)
    }

    @Test func refusesCheckouts_afterShutdown() throws {
        let pool = try Fixtures.makePool(size: 1)
        try pool.query("SELECT 1")
        pool.shutdown()
        let error = #expect(throws: PostgresError.self) { try pool.query("SELECT 1") }
        #expect(error?.kind == .poolClosed)
        #expect(pool.statistics.open == 0)
    }
}
