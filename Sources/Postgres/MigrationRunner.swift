import Crypto
import DecimalParsing
import Foundation
import Logging

/// Applies `Migrations/NNNN_name.sql` files in order, each in its own transaction, and records them in
/// `schema_migrations` (version, name, SHA-256 checksum, applied_at).
///
/// Refuses to run (`.migration`) when an applied file changed or disappeared, two files share a number, or
/// a file name does not match `^[0-9]{4}_[a-z0-9_]+\.sql$`. Holds a session advisory lock for the whole
/// run, so processes starting together migrate once. Migrations are forward-only, and a file must not
/// contain statements that cannot run inside a transaction (e.g. `CREATE INDEX CONCURRENTLY`).
public struct MigrationRunner: Sendable {
    /// One migration file.
    public struct Migration: Sendable, Equatable {
        /// The number before the first underscore.
        public let version: Int
        /// The file name, e.g. `0001_create_authority.sql`.
        public let name: String
        /// SHA-256 of the file bytes, lowercase hex.
        public let checksum: String
        /// The file contents.
        public let sql: String
    }

    /// `pg_advisory_lock` key shared by every pickupbox process ("pickupbx" as ASCII).
    public static let advisoryLockKey: Int64 = 0x7069_636B_7570_6278

    private let directory: String
    private let logger: Logger

    /// A runner for the `.sql` files in `directory`.
    public init(directory: String, logger: Logger) {
        self.directory = directory
        self.logger = logger
    }

    /// Reads and validates the migration files, sorted by version. Files not ending in `.sql` are ignored.
    public func load() throws -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw PostgresError(.migration, reason: "cannot read migrations directory \(directory)")
        }
        var migrations: [Migration] = []
        var seen: [Int: String] = [:]
        for name in names.sorted() where name.lowercased().hasSuffix(".sql") {
            guard let version = Self.version(ofFileName: name) else {
                throw PostgresError(.migration, reason: "migration file name \(name) does not match NNNN_name.sql (lowercase)")
            }
            if let other = seen[version] {
                throw PostgresError(.migration, reason: "migrations \(other) and \(name) share version \(version)")
            }
            seen[version] = name
            guard let data = FileManager.default.contents(atPath: directory + "/" + name),
                  let sql = String(data: data, encoding: .utf8) else {
                throw PostgresError(.migration, reason: "cannot read migration \(name) as UTF-8")
            }
            migrations.append(Migration(version: version, name: name, checksum: Crypto.hex(Crypto.sha256(Array(data))), sql: sql))
        }
        return migrations.sorted { $0.version < $1.version }
    }

    /// Applies every pending migration and returns those it applied (empty when up to date).
    @discardableResult
    public func migrate(connectionString: String) throws -> [Migration] {
        do {
            return try apply(connectionString: connectionString)
        } catch var error as PostgresError where error.sqlState == SQLState.insufficientPrivilege {
            error.kind = .migration
            error.reason += " (this role may not change the schema: migrate as the owner, DATABASE_OWNER_URL)"
            throw error
        }
    }

    private func apply(connectionString: String) throws -> [Migration] {
        let migrations = try load()
        let connection = try PostgresConnection.connect(
            connectionString, statementTimeoutMilliseconds: 0, applicationName: "pickupbox-migrate", logger: logger
        )
        defer { connection.close() }  // also releases the advisory lock
        try connection.query("SELECT pg_advisory_lock(\(Self.advisoryLockKey))")
        // Created only when missing: a role that may not change the schema (the server's own, with
        // the schema owned by another role) can still find that nothing is pending.
        if try connection.query("SELECT to_regclass('schema_migrations') IS NULL").first?.decode(Bool.self, at: 0) == true {
            try connection.simpleQuery("""
                CREATE TABLE schema_migrations (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """)
        }
        let pending = try pending(migrations, connection: connection)
        for migration in pending {
            logger.info("applying migration", metadata: ["migration.name": "\(migration.name)"])
            do {
                try connection.simpleQuery("BEGIN")
                try connection.simpleQuery(migration.sql)
                try connection.execute("""
                    INSERT INTO schema_migrations (version, name, checksum) \
                    VALUES (\(migration.version), \(migration.name), \(migration.checksum))
                    """)
                try connection.simpleQuery("COMMIT")
            } catch let error as PostgresError {
                if !connection.isBroken { try? connection.simpleQuery("ROLLBACK") }
                var failure = error
                if !error.isConnectionProblem { failure.kind = .migration }
                failure.reason = "migration \(migration.name) failed: \(error.reason)"
                throw failure
            }
        }
        try connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))")
        return pending
    }

    /// The migrations not yet applied to the database of `connection`; throws when an applied one changed.
    public func pending(connection: PostgresConnection) throws -> [Migration] {
        try pending(try load(), connection: connection)
    }

    private func pending(_ migrations: [Migration], connection: PostgresConnection) throws -> [Migration] {
        let exists = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL")
        guard try exists.first?.decode(Bool.self, at: 0) == true else { return migrations }
        let rows = try connection.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
        let byVersion = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        var applied = Set<Int>()
        for row in rows {
            let version = try row.decode(Int.self, at: 0)
            let name = try row.decode(String.self, at: 1)
            let checksum = try row.decode(String.self, at: 2)
            guard let migration = byVersion[version] else {
                throw PostgresError(.migration, reason: "applied migration \(name) is missing from \(directory)")
            }
            guard migration.name == name, migration.checksum == checksum else {
                throw PostgresError(.migration, reason: "migration \(name) changed after it was applied")
            }
            applied.insert(version)
        }
        return migrations.filter { !applied.contains($0.version) }
    }

    /// The version of a name matching `^[0-9]{4}_[a-z0-9_]+\.sql$`, else nil.
    static func version(ofFileName name: String) -> Int? {
        let bytes = Array(name.utf8)
        guard bytes.count > 9, name.hasSuffix(".sql"), bytes[4] == UInt8(ascii: "_") else { return nil }
        let isDigit = { (byte: UInt8) in byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        let isLower = { (byte: UInt8) in byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") }
        guard bytes[0..<4].allSatisfy(isDigit),
              bytes[5..<(bytes.count - 4)].allSatisfy({ isDigit($0) || isLower($0) || $0 == UInt8(ascii: "_") })
        else { return nil }
        return Int(decimal: bytes[0..<4])
    }
}
