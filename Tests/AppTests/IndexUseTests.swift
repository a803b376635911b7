@testable import App
import Domain
import Foundation
import Postgres
import Testing

/// Look-ups that would otherwise read a whole table as it grows (Migrations/0029). A test database is
/// small enough that PostgreSQL would scan it anyway, so sequential scans are priced out for the one
/// transaction: the plan then names the index exactly when the query's shape can use it.
@Suite("Indexes of the passes and the export")
struct IndexUseTests {
    static func plan(_ app: Application, _ query: PostgresQuery) throws -> String {
        try app.pool.transaction { c in
            try c.execute("SET LOCAL enable_seqscan = off")
            return try c.query(query).map { try $0.decode(String.self, at: 0) }.joined(separator: "\n")
        }
    }

    @Test func theDeadlinePass_findsDueAssignmentsByTheirDeadline() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        // DeadlineScheduler's look-up.
        let plan = try Self.plan(app, """
            EXPLAIN SELECT authority_id, id FROM assignment WHERE status = \(literal: AssignmentStatus.loaded) AND pin_expires_at < now()
            ORDER BY pin_expires_at, authority_id, id LIMIT \(200)
            """)
        #expect(plan.contains("assignment_deadline_due_idx"), "\(plan)")
    }

    @Test func erasureAndTheExport_findAnApplicationsDeliveryItems() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        // ApplicationExport's items, and the erasure pass's batch (by unnest of its applications).
        let export = try Self.plan(app, """
            EXPLAIN SELECT delivery_id, position FROM delivery_item WHERE authority_id = \(UUID()) AND application_id = \(UUID())
            ORDER BY delivery_id, position
            """)
        #expect(export.contains("delivery_item_application_idx"), "\(export)")
        let erasure = try Self.plan(app, """
            EXPLAIN UPDATE delivery_item i SET document_number = 'erased-' || gen_random_uuid()
            FROM unnest(\([UUID()])::uuid[], \([UUID()])::uuid[]) AS t(authority_id, id)
            WHERE i.authority_id = t.authority_id AND i.application_id = t.id AND i.document_number NOT LIKE 'erased-%'
            """)
        #expect(erasure.contains("delivery_item_application_idx"), "\(erasure)")
    }
}
