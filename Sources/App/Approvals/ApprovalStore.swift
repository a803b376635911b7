import Crypto
import Domain
import Foundation
import Postgres

/// The SQL of four-eyes requests (`staff_approval`), beside the code that decodes its rows.
enum ApprovalStore {
    static let select = """
        SELECT s.id, s.application_id, a.vorgangsnummer, s.kind, s.state, s.mobile_number, a.mobile_number AS current_mobile_number,
               s.requested_by, ru.display_name AS requested_by_name, s.requested_at, s.decided_by, du.display_name AS decided_by_name, s.decided_at
        FROM staff_approval s
        JOIN application a ON a.authority_id = s.authority_id AND a.id = s.application_id
        JOIN app_user ru ON ru.authority_id = s.authority_id AND ru.id = s.requested_by
        LEFT JOIN app_user du ON du.authority_id = s.authority_id AND du.id = s.decided_by
        """

    static func decode(_ row: PostgresRow) throws -> ApprovalDTO.Approval {
        var decidedBy: ApprovalDTO.StaffMember?
        if let id = try row.decode(UUID?.self, column: "decided_by") {
            decidedBy = ApprovalDTO.StaffMember(id: id, displayName: try row.decode(String.self, column: "decided_by_name"))
        }
        return ApprovalDTO.Approval(
            id: try row.decode(UUID.self, column: "id"),
            applicationId: try row.decode(UUID.self, column: "application_id"),
            vorgangsnummer: try row.decode(String.self, column: "vorgangsnummer"),
            kind: try row.decode(ApprovalKind.self, column: "kind"),
            state: try row.decode(ApprovalState.self, column: "state"),
            mobileNumber: try row.decode(String?.self, column: "mobile_number"),
            currentMobileNumber: try row.decode(String?.self, column: "current_mobile_number"),
            requestedBy: ApprovalDTO.StaffMember(id: try row.decode(UUID.self, column: "requested_by"),
                                                 displayName: try row.decode(String.self, column: "requested_by_name")),
            requestedAt: try row.decode(Date.self, column: "requested_at"),
            decidedBy: decidedBy,
            decidedAt: try row.decode(Date?.self, column: "decided_at")
        )
    }

    /// One request of the authority, or 404 (also for another authority's).
    static func fetch(_ c: PostgresConnection, authorityID: UUID, id: UUID, forUpdate: Bool = false) throws -> ApprovalDTO.Approval {
        let rows = try c.query("\(unsafeSQL: select) WHERE s.authority_id = \(authorityID) AND s.id = \(id) \(unsafeSQL: forUpdate ? "FOR UPDATE OF s" : "")")
        guard let row = rows.first else { throw AppError.notFound("approval") }
        return try decode(row)
    }

    /// Every request about one application, oldest first (its Art. 15 export).
    static func all(_ c: PostgresConnection, authorityID: UUID, applicationID: UUID) throws -> [ApprovalDTO.Approval] {
        try c.query("\(unsafeSQL: select) WHERE s.authority_id = \(authorityID) AND s.application_id = \(applicationID) ORDER BY s.requested_at, s.id")
            .map(decode)
    }

    /// A page of the authority's requests, newest first; `state` and `applicationID` filter.
    static func list(_ c: PostgresConnection, authorityID: UUID, state: ApprovalState?, applicationID: UUID?, limit: Int, offset: Int) throws -> ApprovalDTO.Page {
        func filtered(_ prefix: String, _ suffix: String) -> PostgresQuery {
            """
            \(unsafeSQL: prefix)
            WHERE s.authority_id = \(authorityID) AND (\(state?.rawValue)::text IS NULL OR s.state = \(state?.rawValue))
              AND (\(applicationID)::uuid IS NULL OR s.application_id = \(applicationID))
            \(unsafeSQL: suffix)
            """
        }
        let total = try c.query(filtered("SELECT count(*)::int8 FROM staff_approval s", "")).first?.decode(Int.self, at: 0) ?? 0
        // limit and offset are validated integers, spliced as literals.
        let rows = try c.query(filtered(select, "ORDER BY s.requested_at DESC, s.id LIMIT \(limit) OFFSET \(offset)"))
        return ApprovalDTO.Page(items: try rows.map(decode), offset: offset, limit: limit, total: total)
    }

    /// Records a pending request; an older pending one of the same kind for the application is superseded
    /// (returned, for the audit log).
    static func request(_ c: PostgresConnection, authorityID: UUID, applicationID: UUID, kind: ApprovalKind, mobileNumber: String?,
                        requestedBy: UUID) throws -> (id: UUID, superseded: [UUID]) {
        let superseded = try supersede(c, authorityID: authorityID, applicationID: applicationID, kind: kind)
        let id = Crypto.uuid()
        try c.execute("""
            INSERT INTO staff_approval (authority_id, id, application_id, kind, mobile_number, requested_by)
            VALUES (\(authorityID), \(id), \(applicationID), \(kind.rawValue), \(mobileNumber), \(requestedBy))
            """)
        return (id, superseded)
    }

    /// Ends the pending requests of `kind` for an application without a decision.
    static func supersede(_ c: PostgresConnection, authorityID: UUID, applicationID: UUID, kind: ApprovalKind) throws -> [UUID] {
        try c.query("""
            UPDATE staff_approval SET state = \(ApprovalState.superseded.rawValue), decided_at = now()
            WHERE authority_id = \(authorityID) AND application_id = \(applicationID) AND kind = \(kind.rawValue) AND state = \(literal: ApprovalState.pending)
            RETURNING id
            """).map { try $0.decode(UUID.self, at: 0) }
    }

    /// Stores a decision. The table's CHECK refuses a decider who is the requester, whatever the caller checked.
    static func record(_ c: PostgresConnection, authorityID: UUID, id: UUID, state: ApprovalState, decidedBy: UUID) throws {
        try c.execute("""
            UPDATE staff_approval SET state = \(state.rawValue), decided_by = \(decidedBy), decided_at = now()
            WHERE authority_id = \(authorityID) AND id = \(id) AND state = \(ApprovalState.pending.rawValue)
            """)
    }
}
