import Foundation
import Logging

/// A fixed-size pool of `PostgresConnection`s with a blocking API, for worker threads
/// (never Swift's cooperative pool: every call may block on the network or on a free connection).
///
/// Connections are opened lazily up to `poolSize`. A connection that broke, or that saw a connection-class
/// error, is discarded and its slot freed, so the pool recovers by itself after a server restart.
public final class PostgresPool: Sendable {
    public let configuration: PostgresConfiguration
    private let logger: Logger
    private let state = PoolState()

    /// Creates the pool; no connection is opened until the first checkout.
    public init(configuration: PostgresConfiguration, logger: Logger) {
        precondition(configuration.poolSize > 0, "poolSize must be positive")
        self.configuration = configuration
        self.logger = logger
    }

    deinit {
        shutdown()
    }

    /// Transaction isolation levels for `transaction`.
    public enum Isolation: Sendable {
        case readCommitted, repeatableRead, serializable

        var sql: String {
            switch self {
            case .readCommitted: "BEGIN ISOLATION LEVEL READ COMMITTED"
            case .repeatableRead: "BEGIN ISOLATION LEVEL REPEATABLE READ"
            case .serializable: "BEGIN ISOLATION LEVEL SERIALIZABLE"
            }
        }
    }

    /// Pool counters for metrics and the `/ready` check.
    public struct Statistics: Sendable {
        /// The configured maximum.
        public var size: Int
        /// Connections open or being opened.
        public var open: Int
        /// Connections checked out.
        public var inUse: Int
        /// Callers waiting for a connection.
        public var waiting: Int
    }

    /// A snapshot of the pool counters.
    public var statistics: Statistics {
        state.withLock { Statistics(size: configuration.poolSize, open: $0.open, inUse: $0.inUse, waiting: $0.waiting) }
    }

    /// Checks out a connection, runs `body` with it and returns it to the pool.
    ///
    /// Throws `.poolTimeout` when none is free within `checkoutTimeout`, `.connectionFailed` when a new
    /// connection cannot be opened, `.poolClosed` after `shutdown()`. A connection left inside a transaction
    /// is rolled back (or discarded) before it is reused.
    public func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try checkout()
        let value: T
        do {
            value = try body(connection)
        } catch {
            checkin(connection, after: error)
            throw error
        }
        checkin(connection, after: nil)
        return value
    }

    /// Runs `body` inside `BEGIN … COMMIT`, rolling back when it throws.
    ///
    /// On serialization failure (40001) or deadlock (40P01) — from the body or from COMMIT — the whole body
    /// runs again, up to `maxAttempts` times in all, after a short jittered pause. So `body` must not have
    /// side effects outside the database.
    public func transaction<T>(
        isolation: Isolation = .readCommitted,
        maxAttempts: Int = 5,
        _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        precondition(maxAttempts > 0, "maxAttempts must be positive")
        var attempt = 1
        while true {
            do {
                return try withConnection { connection in
                    try connection.simpleQuery(isolation.sql)
                    do {
                        let value = try body(connection)
                        try connection.simpleQuery("COMMIT")
                        return value
                    } catch {
                        if !connection.isBroken, connection.transactionStatus != .idle {
                            try? connection.simpleQuery("ROLLBACK")
                        }
                        throw error
                    }
                }
            } catch let error as PostgresError where error.isRetryableTransactionFailure && attempt < maxAttempts {
                logger.debug("retrying transaction", metadata: [
                    "postgres.sqlstate": "\(error.sqlState ?? "")", "postgres.attempt": "\(attempt)",
                ])
                let pauseMilliseconds = Int.random(in: 1...(10 * attempt))
                Thread.sleep(forTimeInterval: Double(pauseMilliseconds) / 1000)
                attempt += 1
            }
        }
    }

    /// Runs one query on any free connection.
    @discardableResult
    public func query(_ query: PostgresQuery) throws -> PostgresRows {
        try withConnection { try $0.query(query) }
    }

    /// Closes idle connections and refuses later checkouts with `.poolClosed`; connections in use are
    /// closed when they come back.
    public func shutdown() {
        let idle = state.withLock { state -> [PostgresConnection] in
            state.closed = true
            let idle = state.idle
            state.open -= idle.count
            state.idle = []
            return idle
        }
        state.broadcast()
        idle.forEach { $0.close() }
    }

    // MARK: - Checkout and checkin

    private func checkout() throws -> PostgresConnection {
        let deadline = Date(timeIntervalSinceNow: configuration.checkoutTimeout.timeInterval)
        while true {
            let next = try reserve(until: deadline)
            guard let connection = next else { return try openConnection() }
            if connection.isUsableAfterIdle() { return connection }
            // The server dropped it while it was idle (restart, pg_terminate_backend): free the slot, retry.
            logger.debug("discarding idle database connection that was closed by the server")
            release(connection, keep: false)
        }
    }

    /// Takes an idle connection, or reserves a slot for a new one (nil), waiting until `deadline`.
    private func reserve(until deadline: Date) throws -> PostgresConnection? {
        state.condition.lock()
        defer { state.condition.unlock() }
        while true {
            if state.closed { throw PostgresError(.poolClosed, reason: "the connection pool is shut down") }
            if let connection = state.idle.popLast() {
                state.inUse += 1
                return connection
            }
            if state.open < configuration.poolSize {
                state.open += 1
                state.inUse += 1
                return nil
            }
            state.waiting += 1
            let signalled = state.condition.wait(until: deadline)
            state.waiting -= 1
            if !signalled, state.idle.isEmpty, state.open >= configuration.poolSize, !state.closed {
                throw PostgresError(
                    .poolTimeout, reason: "no database connection became free within \(configuration.checkoutTimeout)"
                )
            }
        }
    }

    private func openConnection() throws -> PostgresConnection {
        do {
            return try PostgresConnection.connect(
                configuration.connectionString,
                connectTimeoutSeconds: configuration.connectTimeoutSeconds,
                statementTimeoutMilliseconds: configuration.statementTimeoutMilliseconds,
                applicationName: configuration.applicationName,
                synchronousCommit: configuration.synchronousCommit,
                logger: logger
            )
        } catch {
            state.withLock { state in
                state.open -= 1
                state.inUse -= 1
            }
            state.signal()
            throw error
        }
    }

    private func checkin(_ connection: PostgresConnection, after error: (any Error)?) {
        var keep = !connection.isBroken
        if let error = error as? PostgresError, error.invalidatesConnection { keep = false }
        if keep, connection.transactionStatus != .idle {
            // Never hand out a connection inside a (failed) transaction.
            do {
                try connection.simpleQuery("ROLLBACK")
            } catch {
                keep = false
            }
            keep = keep && connection.transactionStatus == .idle
        }
        release(connection, keep: keep)
    }

    private func release(_ connection: PostgresConnection, keep: Bool) {
        // One lock per checkin, and a signal only when someone waits (`waiting` changes under the same
        // lock): every query comes through here, and a second lock round cost ~3 % of a pickup's CPU.
        let reuse = state.withLock { state -> Bool in
            state.inUse -= 1
            defer { if state.waiting > 0 { state.condition.signal() } }
            guard keep, !state.closed else {
                state.open -= 1
                return false
            }
            state.idle.append(connection)
            return true
        }
        if !reuse { connection.close() }
    }
}

/// The pool's mutable state, guarded by one `NSCondition`.
///
/// `@unchecked Sendable`: the variables are only read or written while `condition` is locked
/// (through `withLock`, or between `condition.lock()` and `unlock()` in `checkout`).
private final class PoolState: @unchecked Sendable {
    let condition = NSCondition()
    var idle: [PostgresConnection] = []
    var open = 0
    var inUse = 0
    var waiting = 0
    var closed = false

    func withLock<T>(_ body: (PoolState) throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body(self)
    }

    func signal() {
        condition.lock()
        condition.signal()
        condition.unlock()
    }

    func broadcast() {
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }
}

extension Duration {
    /// Seconds as a `TimeInterval`.
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
