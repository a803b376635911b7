import Foundation
import Logging
import Postgres

/// Finds the database: `DATABASE_URL`, or the embedded cluster under the data directory.
public struct DatabaseBootstrap: Sendable {
    public let connectionString: String
    /// This process's use of the embedded cluster; nil with `DATABASE_URL`.
    let lease: EmbeddedPostgres.Lease?

    public static func prepare(_ configuration: AppConfiguration, logger: Logger) throws -> DatabaseBootstrap {
        if let url = configuration.databaseURL {
            return DatabaseBootstrap(connectionString: url, lease: nil)
        }
        let directory = URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("postgres").path
        let cluster = EmbeddedPostgres(directory: directory, logger: logger)
        // Started here, or already running: for another pickupbox process (the server, while an operator
        // command runs), or orphaned by one that was killed. The last process that used it stops it.
        let lease = try cluster.acquire()
        logger.info("embedded PostgreSQL running", metadata: ["db.directory": "\(directory)"])
        return DatabaseBootstrap(connectionString: cluster.connectionString(), lease: lease)
    }

    /// Ends this process's use of the embedded cluster: stops it when no other pickupbox process uses it.
    public func release() {
        lease?.release()
    }

    /// Applies pending migrations (safe when several processes start together).
    @discardableResult
    public func migrate(_ configuration: AppConfiguration, logger: Logger) throws -> [MigrationRunner.Migration] {
        let applied = try MigrationRunner(directory: configuration.migrationsDirectory, logger: logger).migrate(connectionString: connectionString)
        for m in applied {
            logger.info("migration applied", metadata: ["migration.version": "\(m.version)", "migration.name": "\(m.name)"])
        }
        return applied
    }
}
