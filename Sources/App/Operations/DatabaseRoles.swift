import Foundation
import Logging
import Postgres

/// Least-privilege database roles (PRIVACY.md#database-roles): the schema belongs to an owner role, which runs the
/// migrations (`DATABASE_OWNER_URL`); the server runs as an application role (`DATABASE_URL`) that owns
/// nothing and may read and write the tables it works with — but only add to the audit log (INSERT of
/// the event's own columns, never its chain), never change, delete or truncate it, and never switch a
/// trigger off (only an owner can). Sealing the chain and forgetting old client addresses go through the
/// two SECURITY DEFINER functions of the migrations.
public enum DatabaseRoles {
    /// The role the embedded cluster runs the server as.
    public static let embeddedApplicationRole = "pickupbox_app"

    /// The server's role may not do this; refused at start in production (and logged in development).
    public struct TooPowerful: Error, CustomStringConvertible {
        public let role: String
        public let reasons: [String]
        public var description: String {
            "the server's database role \(role) " + reasons.joined(separator: ", ")
                + "; run the server as an application role (DATABASE_URL) and migrate as the owner (DATABASE_OWNER_URL), see PRIVACY.md"
        }
    }

    /// A role that cannot be set up.
    public struct SetupError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The audit log's columns a writer gives: not `at` (the database's time), not the chain.
    static let auditInsertColumns = "authority_id, actor_kind, actor_id, action, entity_type, entity_id, request_id, client_address, detail"
    /// The functions the server calls on tables it may not change itself.
    static let definerFunctions = [
        "audit_event_seal(uuid, bigint, bytea, bigint[], bytea[], bytea[], bytea[])",
        "audit_event_forget_addresses(timestamptz, integer)",
    ]
    /// The functions that run as the server's own role (the pickup steps of migrations 0021–0025, the
    /// opening hours' decision of 0028): callable by it, and by no one else but the owner.
    static let invokerFunctions = [
        "pickup_admit_factors(bytea, uuid)",
        "pickup_candidates(uuid, uuid, text)",
        "pickup_count_failure(uuid, uuid, uuid[], text, integer, integer, integer, integer)",
        "pickup_start(uuid, uuid, uuid[], uuid, bytea, uuid, uuid, text[], timestamptz, integer, integer, integer, integer)",
        "pickup_start_keyed(uuid, uuid, text, bytea, uuid, text[], text[], text[], timestamptz, integer, integer, integer, integer)",
        "pickup_start_claimed(bytea, uuid, uuid, boolean, text, boolean, text, bytea, uuid, text[], text[], text[], timestamptz, integer, integer, integer, integer)",
        "pickup_verify(uuid, uuid, uuid, boolean, text, text, integer, integer, integer, integer)",
        "pickup_verify_claimed(bytea, uuid, uuid, uuid, boolean, text, text, integer, integer, integer, integer)",
        "box_pickups_open(uuid, uuid, uuid)",
        "box_forget_open_intervals(uuid[], uuid[])",
        "site_open_window(uuid, uuid, timestamptz)",
    ]

    /// After the migrations, on the owner's connection: creates the application role named in
    /// `applicationConnectionString` if it is missing (with the password given there, when the owner may
    /// create roles) and gives it exactly its privileges. Nothing to do when both strings name one role.
    public static func grant(ownerConnectionString: String, applicationConnectionString: String, logger: Logger) throws {
        guard let settings = PostgresConnectionString.settings(applicationConnectionString) else {
            throw SetupError(description: "DATABASE_URL cannot be read as a PostgreSQL connection string")
        }
        let connection = try PostgresConnection.connect(ownerConnectionString, applicationName: "pickupbox-migrate", logger: logger)
        defer { connection.close() }  // also releases the lock
        // One process at a time, as for the migrations: grants on one object at once would collide.
        try connection.query("SELECT pg_advisory_lock(\(MigrationRunner.advisoryLockKey))")
        let owner = try connection.query("SELECT current_user::text").first?.decode(String.self, at: 0) ?? ""
        guard let role = settings["user"], !role.isEmpty else {
            throw SetupError(description: "DATABASE_URL must name its role (user) when DATABASE_OWNER_URL is set")
        }
        guard role != owner else {
            logger.warning("the server runs as the schema's owner: it could change the audit log (set DATABASE_OWNER_URL and an application role in DATABASE_URL)",
                           metadata: ["db.role": "\(role)"])
            return
        }
        try createIfMissing(connection, role: role, password: settings["password"], logger: logger)
        try connection.transaction { c in
            for statement in try grants(c, role: role) { try c.simpleQuery(statement) }
        }
        let problems = try check(connection, role: role)
        if !problems.isEmpty { throw TooPowerful(role: role, reasons: problems) }
        logger.info("database roles set up", metadata: ["db.owner": "\(owner)", "db.role": "\(role)"])
    }

    private static func createIfMissing(_ c: PostgresConnection, role: String, password: String?, logger: Logger) throws {
        guard try c.query("SELECT 1 FROM pg_roles WHERE rolname = \(role)").isEmpty else { return }
        let mayCreate = try c.query("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user").first?.decode(Bool.self, at: 0) ?? false
        guard mayCreate else {
            throw SetupError(description: "the role \(role) of DATABASE_URL does not exist and the owner may not create roles: create it (CREATE ROLE … LOGIN PASSWORD …) or give the owner CREATEROLE")
        }
        // Quoted by the server (format %I, %L): the name and password are never spliced here.
        guard let statement = try c.query("""
            SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS PASSWORD %L', \(role)::text, \(password)::text)
            """).first?.decode(String.self, at: 0) else { return }
        do {
            try c.simpleQuery(statement)
            logger.notice("database role created for the server", metadata: ["db.role": "\(role)"])
        } catch let error as PostgresError where error.sqlState == SQLState.duplicateObject || error.sqlState == SQLState.uniqueViolation {
            return  // created by another process meanwhile
        }
    }

    /// The statements, with identifiers quoted by the server.
    private static func grants(_ c: PostgresConnection, role: String) throws -> [String] {
        let functions = (definerFunctions + invokerFunctions).joined(separator: ", ")
        let template = """
            GRANT CONNECT ON DATABASE %1$I TO %2$I;
            GRANT USAGE ON SCHEMA public TO %2$I;
            REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %2$I;
            REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM %2$I;
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %2$I;
            REVOKE INSERT, UPDATE, DELETE ON audit_event, audit_chain, schema_migrations FROM %2$I;
            GRANT INSERT (\(auditInsertColumns)) ON audit_event TO %2$I;
            GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO %2$I;
            REVOKE EXECUTE ON FUNCTION \(functions) FROM PUBLIC;
            GRANT EXECUTE ON FUNCTION \(functions) TO %2$I;
            """
        guard let sql = try c.query("SELECT format(\(template), current_database()::text, \(role)::text)").first?.decode(String.self, at: 0) else { return [] }
        return [sql]
    }

    /// What the application role can do that it should not; empty when it is as it should be.
    static func check(_ c: PostgresConnection, role: String) throws -> [String] {
        guard let row = try c.query("""
            SELECT r.rolsuper, r.rolbypassrls,
                   has_table_privilege(r.oid, 'audit_event', 'UPDATE') AS may_update, has_table_privilege(r.oid, 'audit_event', 'DELETE') AS may_delete,
                   has_table_privilege(r.oid, 'audit_event', 'TRUNCATE') AS may_truncate,
                   (SELECT count(*) FROM pg_class k JOIN pg_namespace n ON n.oid = k.relnamespace
                    WHERE k.relowner = r.oid AND n.nspname NOT IN ('pg_catalog', 'information_schema'))::int8 AS owned_tables
            FROM pg_roles r WHERE r.rolname = \(role)
            """).first else { return ["does not exist"] }
        var problems: [String] = []
        if try row.decode(Bool.self, column: "rolsuper") { problems.append("is a superuser") }
        if try row.decode(Bool.self, column: "rolbypassrls") { problems.append("bypasses row-level security") }
        if try row.decode(Bool.self, column: "may_update") { problems.append("may UPDATE the audit log") }
        if try row.decode(Bool.self, column: "may_delete") { problems.append("may DELETE from the audit log") }
        if try row.decode(Bool.self, column: "may_truncate") { problems.append("may TRUNCATE the audit log") }
        if try row.decode(Int.self, column: "owned_tables") > 0 { problems.append("owns tables (and could switch their triggers off)") }
        return problems
    }

    /// The server's own role, on its pool: nil when it has least privilege, else what it can do that it should not.
    public static func excess(of pool: PostgresPool) throws -> TooPowerful? {
        try pool.withConnection { c in
            let role = try c.query("SELECT current_user::text").first?.decode(String.self, at: 0) ?? ""
            let problems = try check(c, role: role)
            return problems.isEmpty ? nil : TooPowerful(role: role, reasons: problems)
        }
    }
}
