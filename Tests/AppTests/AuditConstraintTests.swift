@testable import App
import Foundation
import Postgres
import Testing

/// The audit log's format checks: the rule of migration 0002's expressions, written without bounded
/// repetition (Migrations/0026) and then as one call of `audit_event_format_ok` (Migrations/0027).
@Suite("Audit log: format checks")
struct AuditConstraintTests {
    static let samples = ["", "a", "A", "a.b_c", String(repeating: "a", count: 64), String(repeating: "a", count: 65), "ä", "a b", "a\n",
                          "a-b", ".", "_", String(repeating: "z", count: 32), String(repeating: "z", count: 33), "1", "assignment.pickup_verified",
                          "application.registered", "é.x"]

    @Test func theChecks_agreeWithMigration0002sExpressions() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let rows = try app.pool.query("""
            SELECT v, v ~ '^[a-z_.]{1,64}$' AS old_action, v ~ '^[a-z_]{1,32}$' AS old_type FROM unnest(\(Self.samples)::text[]) v
            """)
        #expect(rows.count == Self.samples.count)
        for row in rows {
            let value = try row.decode(String.self, column: "v")
            for (column, constraintType) in [("old_action", "action"), ("old_type", "entity_type")] {
                let expected = try row.decode(Bool.self, column: column)
                let accepted = try insert(app, action: constraintType == "action" ? value : "x", entityType: constraintType == "entity_type" ? value : "x")
                #expect(accepted == expected, "\(constraintType) \(value.debugDescription)")
            }
        }
    }

    /// Migration 0002's other three: the actor kind one of three, request id and client address at most
    /// 64 characters (characters, not bytes) or NULL.
    @Test func theOtherColumns_keepMigration0002sRules() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        for (kind, expected) in [("user", true), ("box", true), ("system", true), ("User", false), ("", false), ("admin", false)] {
            #expect(try insert(app, actorKind: kind) == expected, "\(kind)")
        }
        let long = String(repeating: "ä", count: 64)
        for (text, expected) in [(nil, true), ("", true), (long, true), (long + "a", false)] as [(String?, Bool)] {
            #expect(try insert(app, requestID: text) == expected, "request id \(text?.count ?? -1)")
            #expect(try insert(app, clientAddress: text) == expected, "client address \(text?.count ?? -1)")
        }
    }

    /// Two checks in place of the ten, and no bounded repetition in them.
    @Test func theTenChecks_areTwoCalls() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let definitions = try app.pool.query("""
            SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint
            WHERE conrelid = 'audit_event'::regclass AND contype = 'c' ORDER BY conname
            """).map { try $0.decode(String.self, column: "conname") + ": " + $0.decode(String.self, column: "definition") }
        #expect(definitions == [
            "audit_event_format_check: CHECK (audit_event_format_ok(actor_kind, action, entity_type, request_id, client_address))",
            "audit_event_seal_check: CHECK (audit_event_seal_ok(chain_seq, hash, client_address_digest, client_address_salt))",
        ], "\(definitions)")
        let body = try app.pool.query("SELECT prosrc FROM pg_proc WHERE proname = 'audit_event_format_ok'").first?.decode(String.self, column: "prosrc")
        #expect(body.map { !$0.contains("{") } == true)
    }

    /// Migration 0013's checks of the chain's columns: chain_seq and hash both set or both NULL, chain_seq
    /// at least 1, hash and the address digest 32 bytes, the salt 16 bytes (each or NULL).
    @Test func theChainsColumns_keepMigration0013sRules() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let rows = try app.pool.query("""
            SELECT s, h, d, salt, audit_event_seal_ok(s, h, d, salt) AS ok FROM (VALUES
                (NULL::bigint, NULL::bytea, NULL::bytea, NULL::bytea, true),
                (1, decode(repeat('00', 32), 'hex'), NULL, NULL, true),
                (1, decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex'), decode(repeat('00', 16), 'hex'), true),
                (NULL, NULL, decode(repeat('00', 32), 'hex'), NULL, true),
                (1, NULL, NULL, NULL, false),
                (NULL, decode(repeat('00', 32), 'hex'), NULL, NULL, false),
                (0, decode(repeat('00', 32), 'hex'), NULL, NULL, false),
                (1, decode(repeat('00', 31), 'hex'), NULL, NULL, false),
                (1, decode(repeat('00', 32), 'hex'), decode(repeat('00', 33), 'hex'), NULL, false),
                (1, decode(repeat('00', 32), 'hex'), NULL, decode(repeat('00', 15), 'hex'), false)
            ) v(s, h, d, salt, expected) WHERE audit_event_seal_ok(s, h, d, salt) IS DISTINCT FROM expected
            """)
        #expect(rows.isEmpty, "\(rows.count) cases decided otherwise")
        // On the table the check stands as `audit_event_seal_check` (theTenChecks_areTwoCalls); the server's role
        // may not write these columns at all (DatabaseRoles): `audit_event_seal` does.
    }

    /// An audit event with these columns, in a transaction that is rolled back: whether the checks let it in.
    private func insert(_ app: Application, actorKind: String = "system", action: String = "x", entityType: String = "x",
                        requestID: String? = nil, clientAddress: String? = nil) throws -> Bool {
        try app.pool.withConnection { c in
            try c.execute("BEGIN")
            defer { _ = try? c.execute("ROLLBACK") }
            do {
                try c.execute("""
                    INSERT INTO audit_event (authority_id, actor_kind, action, entity_type, request_id, client_address)
                    VALUES (\(UUID()), \(actorKind), \(action), \(entityType), \(requestID), \(clientAddress))
                    """)
                return true
            } catch let error as PostgresError where error.sqlState == SQLState.checkViolation {
                return false
            }
        }
    }
}
