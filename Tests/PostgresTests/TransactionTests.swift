import Foundation
import Postgres
import Synchronization
import Testing

@Suite("PostgresPool.transaction")
struct TransactionTests {
    struct Boom: Error {}

    @Test func commitsWhenTheBodySucceeds() throws {
        let pool = try Fixtures.makePool(size: 1)
        defer { pool.shutdown() }
        try pool.query("CREATE TABLE t (v int)")
        let value = try pool.transaction { connection in
            try connection.execute("INSERT INTO t VALUES (\(1))")
            return "done"
        }
        #expect(value == "done")
        #expect(try pool.query("SELECT count(*) FROM t").first?.decode(Int.self, at: 0) == 1)
    }

    @Test func rollsBackWhenTheBodyThrows_andTheConnectionComesBackClean() throws {
        let pool = try Fixtures.makePool(size: 1)
        defer { pool.shutdown() }
        try pool.query("CREATE TABLE t (v int)")
        #expect(throws: Boom.self) {
            try pool.transaction { connection in
                try connection.execute("INSERT INTO t VALUES (\(1))")
                throw Boom()
            }
        }
        #expect(try pool.query("SELECT count(*) FROM t").first?.decode(Int.self, at: 0) == 0)
    }

    @Test func aFailedSavepoint_undoesOnlyItsWork_andTheTransactionGoesOn() throws {
        let pool = try Fixtures.makePool(size: 1)
        defer { pool.shutdown() }
        try pool.query("CREATE TABLE t (v int PRIMARY KEY)")
        try pool.transaction { connection in
            try connection.execute("INSERT INTO t VALUES (\(1))")
            let kept = try connection.savepoint { try connection.execute("INSERT INTO t VALUES (\(2))") }
            #expect(kept == 1)
            let violation = #expect(throws: PostgresError.self) {
                try connection.savepoint {
                    try connection.execute("INSERT INTO t VALUES (\(3))")
                    try connection.execute("INSERT INTO t VALUES (\(1))")  // unique violation
                }
            }
            #expect(violation?.sqlState == SQLState.uniqueViolation)
            // Nested savepoints: the inner one's failure leaves the outer one's work.
            try connection.savepoint {
                try connection.execute("INSERT INTO t VALUES (\(4))")
                #expect(throws: Boom.self) { try connection.savepoint { try connection.execute("INSERT INTO t VALUES (\(5))"); throw Boom() } }
            }
            try connection.execute("INSERT INTO t VALUES (\(6))")
        }
        let values = try pool.query("SELECT v FROM t ORDER BY v").map { try $0.decode(Int.self, at: 0) }
        #expect(values == [1, 2, 4, 6])
    }

    @Test func retriesARealSerializationFailure() throws {
        let pool = try Fixtures.makePool(size: 2)
        defer { pool.shutdown() }
        try pool.query("CREATE TABLE t (v int)")
        let attempts = Atomic<Int>(0)
        let arrivals = Collector<Int>()
        let errors = Collector<String>()
        let waits = (0..<2).map { worker in
            onThread {
                var firstAttempt = true
                do {
                    try pool.transaction(isolation: .serializable) { connection in
                        attempts.add(1, ordering: .relaxed)
                        let count = try connection.query("SELECT count(*) FROM t").first?.decode(Int.self, at: 0) ?? -1
                        if firstAttempt {
                            // Both read before either writes: classic write skew, one must fail with 40001.
                            firstAttempt = false
                            arrivals.append(worker)
                            arrivals.wait(timeout: 5) { $0.count >= 2 }
                        }
                        try connection.execute("INSERT INTO t VALUES (\(count))")
                    }
                } catch {
                    errors.append("\(error)")
                }
            }
        }
        waits.forEach { $0() }
        #expect(errors.snapshot.isEmpty)
        #expect(attempts.load(ordering: .relaxed) >= 3)
        let values = try pool.query("SELECT v FROM t ORDER BY v").map { try $0.decode(Int.self, at: 0) }
        #expect(values == [0, 1])
    }

    @Test func givesUpAfterMaxAttempts() throws {
        let pool = try Fixtures.makePool(size: 1)
        defer { pool.shutdown() }
        let attempts = Atomic<Int>(0)
        let error = #expect(throws: PostgresError.self) {
            try pool.transaction(maxAttempts: 3) { _ in
                attempts.add(1, ordering: .relaxed)
                throw PostgresError(.query, reason: "forced", sqlState: SQLState.serializationFailure)
            }
        }
        #expect(error?.sqlState == SQLState.serializationFailure)
        #expect(attempts.load(ordering: .relaxed) == 3)
    }

    @Test func doesNotRetryOtherErrors() throws {
        let pool = try Fixtures.makePool(size: 1)
        defer { pool.shutdown() }
        let attempts = Atomic<Int>(0)
        #expect(throws: PostgresError.self) {
            try pool.transaction { connection in
                attempts.add(1, ordering: .relaxed)
                try connection.query("SELECT 1/0")
            }
        }
        #expect(attempts.load(ordering: .relaxed) == 1)
    }
}
