@testable import App
import Foundation
import Postgres
import Testing

/// The audit log's format checks (Migrations/0026): the same rule as the regular expressions of
/// migration 0002, written without bounded repetition.
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
        let definitions = try app.pool.query("""
            SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint
            WHERE conrelid = 'audit_event'::regclass AND conname IN ('audit_event_action_check', 'audit_event_entity_type_check') ORDER BY conname
            """).map { try $0.decode(String.self, column: "definition") }
        #expect(definitions.count == 2 && definitions.allSatisfy { !$0.contains("{") }, "\(definitions)")
        for row in rows {
            let value = try row.decode(String.self, column: "v")
            for (column, constraintType) in [("old_action", "action"), ("old_type", "entity_type")] {
                let expected = try row.decode(Bool.self, column: column)
                let accepted = try insert(app, action: constraintType == "action" ? value : "x", entityType: constraintType == "entity_type" ? value : "x")
                #expect(accepted == expected, "\(constraintType) \(value.debugDescription)")
            }
        }
    }

    /// An audit event with `action` and `entity_type`, in a transaction that is rolled back: whether the
    /// checks let it in.
    private func insert(_ app: Application, action: String, entityType: String) throws -> Bool {
        try app.pool.withConnection { c in
            try c.execute("BEGIN")
            defer { _ = try? c.execute("ROLLBACK") }
            do {
                try c.execute("""
                    INSERT INTO audit_event (authority_id, actor_kind, action, entity_type) VALUES (\(UUID()), 'system', \(action), \(entityType))
                    """)
                return true
            } catch let error as PostgresError where error.sqlState == SQLState.checkViolation {
                return false
            }
        }
    }
}
