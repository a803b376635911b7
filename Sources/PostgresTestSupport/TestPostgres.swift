import EmbeddedPostgres
import Foundation
import Logging
import Postgres
import Synchronization

/// The PostgreSQL that tests run against: `DATABASE_URL` when set, else an embedded cluster at
/// `<package root>/.pickupbox/test-postgres`, started once per test process and stopped at exit.
///
/// Tests never skip: when PostgreSQL cannot be started, `shared()` throws the launcher's error.
public enum TestPostgres {
    /// The shared server.
    public struct SharedCluster: Sendable {
        /// Connection string of the maintenance database (used to create test databases).
        public let adminConnectionString: String
        /// The embedded cluster, nil when `DATABASE_URL` is used.
        public let embedded: EmbeddedPostgres?

        /// The connection string of `database` on this server.
        public func connectionString(database: String) -> String {
            TestPostgres.replacingDatabase(in: adminConnectionString, with: database)
        }
    }

    private static let state = Mutex<Result<SharedCluster, PostgresError>?>(nil)

    /// Starts the shared cluster on first use (thread-safe) and returns it.
    public static func shared() throws -> SharedCluster {
        let result = state.withLock { state in
            if let state { return state }
            let result: Result<SharedCluster, PostgresError>
            do {
                result = .success(try startShared())
            } catch let error as PostgresError {
                result = .failure(error)
            } catch {
                result = .failure(PostgresError(.launcher, reason: "cannot start test PostgreSQL: \(error)"))
            }
            state = result
            return result
        }
        return try result.get()
    }

    /// Creates a fresh, empty database (`test_<random>`) for one test and returns its connection string.
    public static func makeDatabase() throws -> String {
        let cluster = try shared()
        let name = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        let connection = try PostgresConnection.connect(cluster.adminConnectionString, logger: logger)
        defer { connection.close() }
        try connection.simpleQuery("CREATE DATABASE \"\(name)\"")
        return cluster.connectionString(database: String(name))
    }

    /// A quiet logger for tests (`LOG_LEVEL=debug` to see more).
    public static var logger: Logger {
        var logger = Logger(label: "pickupbox.test.postgres")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .warning
        return logger
    }

    /// `<package root>/.pickupbox/<name>`, from this file's path.
    public static func scratchDirectory(_ name: String) -> String {
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return packageRoot.appendingPathComponent(".pickupbox/\(name)").path
    }

    private static func startShared() throws -> SharedCluster {
        do {
            if let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty {
                return SharedCluster(adminConnectionString: url, embedded: nil)
            }
            var embedded = EmbeddedPostgres(directory: scratchDirectory("test-postgres"), logger: logger)
            embedded.fastUnsafe = true
            try embedded.start()
            atexit { TestPostgres.stopSharedAtExit() }
            let cluster = SharedCluster(adminConnectionString: embedded.connectionString(database: "postgres"), embedded: embedded)
            try dropLeftoverDatabases(cluster)
            return cluster
        } catch let error as PostgresError {
            throw error
        } catch {
            throw PostgresError(.launcher, reason: "cannot start test PostgreSQL: \(error)")
        }
    }

    /// Test databases of earlier runs of this cluster (only ours: the embedded cluster is private).
    private static func dropLeftoverDatabases(_ cluster: SharedCluster) throws {
        let connection = try PostgresConnection.connect(cluster.adminConnectionString, logger: logger)
        defer { connection.close() }
        let rows = try connection.query("SELECT datname FROM pg_database WHERE datname LIKE 'test\\_%'")
        for row in rows {
            let name = try row.decode(String.self, at: 0)
            try? connection.simpleQuery("DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)")
        }
    }

    private static func stopSharedAtExit() {
        guard case .success(let cluster)? = state.withLock({ $0 }), let embedded = cluster.embedded else { return }
        try? embedded.stop()
    }

    /// Replaces the database of a conninfo string or `postgres://` URL.
    static func replacingDatabase(in connectionString: String, with database: String) -> String {
        if connectionString.hasPrefix("postgres://") || connectionString.hasPrefix("postgresql://"),
           var components = URLComponents(string: connectionString) {
            components.path = "/" + database
            return components.string ?? connectionString
        }
        return connectionString + " dbname=\(database)"  // libpq: a later keyword overrides an earlier one
    }
}
