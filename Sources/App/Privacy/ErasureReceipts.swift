import Foundation
import HTTPServer
import Postgres

/// `GET /api/v1/privacy/erasures` (supervisor): the erasure passes, newest first, each with what it
/// erased of the caller's authority — the receipt the data-protection officer asks for.
enum ErasureReceipts {
    /// How a pass ended (`erasure_pass.status`).
    enum Status: String, Codable, Sendable, PostgresCodable {
        case running, finished, interrupted
    }

    struct Policy: Codable, Equatable {
        var retentionDaysAfterClose: Int
        var retentionDaysMax: Int
        var auditIpDays: Int
        var auditIpTruncate: Bool
    }

    struct AuditRange: Codable, Equatable {
        var firstId: Int64
        var lastId: Int64
    }

    struct Item: Codable {
        var passId: UUID
        var startedAt: Date
        var finishedAt: Date?
        var status: Status
        var policy: Policy
        /// Applications of the caller's authority whose personal data this pass erased.
        var applications: Int
        /// Rows of the caller's authority per table (only tables with rows).
        var rows: [String: Int]
        /// Rows of installation-wide tables (`login_throttle`), which belong to no authority.
        var installationRows: [String: Int]
        /// The `application.personal_data_erased` events this pass wrote in the authority's audit log.
        var auditEvents: AuditRange?
        /// The receipt's own event (`privacy.erasure_receipt`) in the authority's audit log.
        var receiptEventId: Int64?
    }

    struct Page: Codable {
        var items: [Item]
        var offset: Int
        var limit: Int
        var total: Int
    }

    static func list(_ ctx: StaffContext, _ query: QueryParameters) throws -> Response {
        let limit = try Input.intParameter(query, "limit", default: 50, range: 1...200)
        let offset = try Input.intParameter(query, "offset", default: 0, range: 0...100_000)
        return try ctx.app.pool.withConnection { c in
            let total = try c.query("SELECT count(*)::int8 FROM erasure_pass").first?.decode(Int.self, at: 0) ?? 0
            let rows = try c.query("""
                SELECT p.id, p.started_at, p.finished_at, p.status, p.policy::text AS policy, p.counts::text AS installation_counts,
                       coalesce(r.applications, 0) AS applications, r.counts::text AS counts, r.first_audit_event_id, r.last_audit_event_id,
                       r.audit_event_id
                FROM erasure_pass p
                LEFT JOIN erasure_receipt r ON r.pass_id = p.id AND r.authority_id = \(ctx.authorityID)
                ORDER BY p.started_at DESC, p.id
                LIMIT \(limit) OFFSET \(offset)
                """)
            return try .json(Page(items: try rows.map(decode), offset: offset, limit: limit, total: total))
        }
    }

    static func decode(_ row: PostgresRow) throws -> Item {
        let status = try row.decode(Status.self, column: "status")
        let policy = (try? JSONDecoder().decode([String: Int].self, from: Data(try row.decode(String.self, column: "policy").utf8))) ?? [:]
        var audit: AuditRange?
        if let first = try row.decode(Int64?.self, column: "first_audit_event_id"), let last = try row.decode(Int64?.self, column: "last_audit_event_id") {
            audit = AuditRange(firstId: first, lastId: last)
        }
        return Item(
            passId: try row.decode(UUID.self, column: "id"), startedAt: try row.decode(Date.self, column: "started_at"),
            finishedAt: try row.decode(Date?.self, column: "finished_at"),
            status: status,
            policy: Policy(retentionDaysAfterClose: policy["retentionDaysAfterClose"] ?? 0, retentionDaysMax: policy["retentionDaysMax"] ?? 0,
                           auditIpDays: policy["auditIpDays"] ?? 0, auditIpTruncate: policy["auditIpTruncate"] == 1),
            applications: try row.decode(Int.self, column: "applications"),
            rows: ErasedTable.Counts(jsonText: try row.decode(String?.self, column: "counts")).byName,
            installationRows: ErasedTable.Counts(jsonText: try row.decode(String.self, column: "installation_counts")).byName,
            auditEvents: audit, receiptEventId: try row.decode(Int64?.self, column: "audit_event_id")
        )
    }
}
