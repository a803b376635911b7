import Foundation
import HTTPServer
import Postgres

/// Reads of personal data are audited too (as public-sector logging rules expect; PRIVACY.md#the-audit-log): who
/// read which applications, when, from where — the application detail, its letter, search results that
/// show names, the export. Ids only, never what was read or searched for.
extension Audit {
    /// Actions that record a read, not a change: the application's timeline leaves them out.
    static let readActions = ["application.read", "application.letter_read", "application.listed", "application.exported", "audit.read"]

    /// One event per entity, in one statement (a search result's applications).
    static func recordEach(_ connection: PostgresConnection, authorityID: UUID, actor: Actor, action: String, entityType: String, entityIDs: [UUID],
                           requestID: String?, clientAddress: String?, detail: [String: String] = [:]) throws {
        guard !entityIDs.isEmpty else { return }
        let detailJSON: String? = detail.isEmpty ? nil : String(decoding: try JSONCoding.encode(detail), as: UTF8.self)
        try connection.execute("""
            INSERT INTO audit_event (authority_id, actor_kind, actor_id, action, entity_type, entity_id, request_id, client_address, detail)
            SELECT \(authorityID)::uuid, \(actor.kind), \(actor.id)::uuid, \(action), \(entityType), e, \(requestID), \(clientAddress), \(detailJSON)::jsonb
            FROM unnest(\(entityIDs)::uuid[]) AS t(e)
            """)
    }
}

extension StaffContext {
    /// The logged-in user read these applications (one event each).
    func auditRead(_ connection: PostgresConnection, _ action: String, applications ids: [UUID], detail: [String: String] = [:]) throws {
        try Audit.recordEach(connection, authorityID: authorityID, actor: .user(user.userID), action: action, entityType: "application", entityIDs: ids,
                             requestID: request.requestID, clientAddress: app.auditAddress(request), detail: detail)
    }
}
