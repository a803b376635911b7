import App
import EmbeddedPostgres
import Foundation
import Logging
import Postgres

/// Finds the database: `DATABASE_URL` (and `DATABASE_OWNER_URL`), or the embedded cluster under the data
/// directory — where the server runs as the role `pickupbox_app` and migrations as the cluster's owner.
public struct DatabaseBootstrap: Sendable {
    /// The server's connection (its role: the application role).
    public let connectionString: String
    /// The schema owner's connection, for migrations and grants; the same as `connectionString` when one
    /// role does both.
    public let ownerConnectionString: String
    /// This process's use of the embedded cluster; nil with `DATABASE_URL`.
    let lease: EmbeddedPostgres.Lease?

    public static func prepare(_ configuration: AppConfiguration, logger: Logger) throws -> DatabaseBootstrap {
        if let url = configuration.databaseURL {
            return DatabaseBootstrap(connectionString: url, ownerConnectionString: configuration.databaseOwnerURL ?? url, lease: nil)
        }
        let directory = URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("postgres").path
        let cluster = EmbeddedPostgres(directory: directory, logger: logger)
        // Started here, or already running: for another pickupbox process (the server, while an operator
        // command runs), or orphaned by one that was killed. The last process that used it stops it.
        let lease = try cluster.acquire()
        logger.info("embedded PostgreSQL running", metadata: ["db.directory": "\(directory)"])
        return DatabaseBootstrap(connectionString: cluster.connectionString(user: DatabaseRoles.embeddedApplicationRole),
                                 ownerConnectionString: cluster.connectionString(), lease: lease)
    }

    /// Ends this process's use of the embedded cluster: stops it when no other pickupbox process uses it.
    public func release() {
        lease?.release()
    }

    /// Applies pending migrations as the owner (safe when several processes start together), then gives
    /// the server's role its privileges.
    @discardableResult
    public func migrate(_ configuration: AppConfiguration, logger: Logger) throws -> [MigrationRunner.Migration] {
        let applied = try MigrationRunner(directory: configuration.migrationsDirectory, logger: logger).migrate(connectionString: ownerConnectionString)
        for m in applied {
            logger.info("migration applied", metadata: ["migration.version": "\(m.version)", "migration.name": "\(m.name)"])
        }
        if ownerConnectionString != connectionString {
            try DatabaseRoles.grant(ownerConnectionString: ownerConnectionString, applicationConnectionString: connectionString, logger: logger)
        }
        return applied
    }
}
