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

    static func explain(_ query: PostgresQuery) -> PostgresQuery { PostgresQuery(unsafeSQL: "EXPLAIN " + query.sql, binds: query.binds) }

    @Test func theDeadlinePass_findsDueAssignmentsByTheirDeadline() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let plan = try Self.plan(app, Self.explain(DeadlineScheduler.dueQuery(batch: 200)))
        #expect(plan.contains("assignment_deadline_due_idx"), "\(plan)")
    }

    @Test func theExport_findsAnApplicationsDeliveryItems() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let plan = try Self.plan(app, Self.explain(ApplicationExport.deliveryItemsQuery(authorityID: UUID(), applicationID: UUID())))
        #expect(plan.contains("delivery_item_application_idx"), "\(plan)")
    }

    /// The pass's own statements for documents delivered after their open application was erased, and the
    /// dry run's counts, start from the numbers not yet erased, not from every erased application.
    @Test func theErasurePassAndItsDryRun_findNumbersNotYetErased() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let pass = ErasureTests.pass(app)
        let cutoffs = pass.policy.cutoffs(at: Date())
        let steps = pass.lateDocumentSteps(cutoffs)
        #expect(steps.map(\.table) == [.document, .deliveryItem])
        for (step, index) in zip(steps, ["document_unerased_idx", "delivery_item_unerased_idx"]) {
            let plan = try Self.plan(app, Self.explain(step.statement))
            #expect(plan.contains(index), "\(plan)")
        }
        let plan = try Self.plan(app, Self.explain(ErasurePreview.unlinkedCounts(cutoffs: cutoffs)))
        #expect(plan.contains("document_unerased_idx") && plan.contains("delivery_item_unerased_idx"), "\(plan)")
    }
}
