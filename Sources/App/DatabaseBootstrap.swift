import Foundation
import Logging
import Postgres

/// Finds the database: `DATABASE_URL`, or the embedded cluster under the data directory.
public struct DatabaseBootstrap: Sendable {
    public let connectionString: String
    /// Set when this process started the embedded cluster (and should stop it).
    public let embedded: EmbeddedPostgres?

    public static func prepare(_ configuration: AppConfiguration, logger: Logger) throws -> DatabaseBootstrap {
        if let url = configuration.databaseURL {
            return DatabaseBootstrap(connectionString: url, embedded: nil)
        }
        let directory = URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("postgres").path
        let cluster = EmbeddedPostgres(directory: directory, logger: logger)
        // A cluster another process started (the server, while an operator command runs) is left running.
        let startedHere = try cluster.start()
        logger.info("embedded PostgreSQL running", metadata: ["db.directory": "\(directory)"])
        return DatabaseBootstrap(connectionString: cluster.connectionString(), embedded: startedHere ? cluster : nil)
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
