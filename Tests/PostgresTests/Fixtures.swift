import Foundation
import Postgres
import PostgresTestSupport

/// Shared helpers: every test gets its own fresh database on the shared cluster.
enum Fixtures {
    static let logger = TestPostgres.logger

    /// A connection to a fresh database.
    static func makeConnection() throws -> PostgresConnection {
        try PostgresConnection.connect(try TestPostgres.makeDatabase(), logger: logger)
    }

    /// A pool on a fresh database.
    static func makePool(size: Int = 4, checkoutTimeout: Duration = .seconds(5)) throws -> PostgresPool {
        let configuration = PostgresConfiguration(
            connectionString: try TestPostgres.makeDatabase(), poolSize: size, checkoutTimeout: checkoutTimeout
        )
        return PostgresPool(configuration: configuration, logger: logger)
    }

    /// Terminates every backend of `applicationName` in `database` (as seen from a separate connection).
    static func terminateBackends(connectionString: String, applicationName: String) throws -> Int {
        let admin = try PostgresConnection.connect(connectionString, applicationName: "pickupbox-test-admin", logger: logger)
        defer { admin.close() }
        // With a timeout, pg_terminate_backend waits until the backend has gone: its FATAL message and EOF have
        // been sent when this returns, whatever the scheduler did (a fixed sleep was not always enough).
        let rows = try admin.query("""
            SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
            WHERE application_name = \(applicationName) AND datname = current_database()
            """)
        return rows.count
    }
}

/// Thread-safe collector for events arriving on other threads.
final class Collector<Value: Sendable>: @unchecked Sendable {
    // @unchecked: `values` is only touched while `condition` is locked.
    private let condition = NSCondition()
    private var values: [Value] = []

    func append(_ value: Value) {
        condition.lock()
        values.append(value)
        condition.broadcast()
        condition.unlock()
    }

    var snapshot: [Value] {
        condition.lock()
        defer { condition.unlock() }
        return values
    }

    /// Waits until `predicate` holds for the collected values, at most `timeout` seconds.
    @discardableResult
    func wait(timeout: TimeInterval, until predicate: ([Value]) -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while !predicate(values) {
            if !condition.wait(until: deadline) { return predicate(values) }
        }
        return true
    }
}

/// Runs `body` on a new thread (not the cooperative pool) and returns a way to wait for it.
func onThread(_ body: @escaping @Sendable () -> Void) -> () -> Void {
    let done = DispatchSemaphore(value: 0)
    Thread {
        body()
        done.signal()
    }.start()
    return { done.wait() }
}
