import Foundation
import HTTPServer
import Postgres

/// What a handler for staff gets: the application, the request and the logged-in user.
/// Every query a handler makes is scoped to `authorityID`.
public struct StaffContext: Sendable {
    public let app: Application
    public let request: Request
    public let user: UserPrincipal

    public var authorityID: UUID { user.authorityID }

    /// Writes an audit event in the caller's transaction (ids only, never personal data).
    func audit(_ connection: PostgresConnection, _ action: String, _ entityType: String, _ entityID: UUID?, detail: [String: String] = [:]) throws {
        try Audit.record(connection, authorityID: authorityID, actor: .user(user.userID), action: action, entityType: entityType,
                         entityID: entityID, requestID: request.requestID, clientAddress: app.auditAddress(request), detail: detail)
    }

    /// A transaction on the pool (retried on serialization failures and deadlocks).
    func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try app.pool.transaction(body)
    }
}

/// The append-only audit log (docs/ARCHITECTURE.md#audit): who, what, which entity, when, from where.
enum Audit {
    enum Actor {
        case user(UUID)
        case box(UUID)
        case system

        var kind: String {
            switch self {
            case .user: return "user"
            case .box: return "box"
            case .system: return "system"
            }
        }

        var id: UUID? {
            switch self {
            case .user(let id), .box(let id): return id
            case .system: return nil
            }
        }
    }

    /// Writes one event and returns its id.
    @discardableResult
    static func record(_ connection: PostgresConnection, authorityID: UUID, actor: Actor, action: String, entityType: String, entityID: UUID?,
                       requestID: String?, clientAddress: String?, detail: [String: String] = [:]) throws -> Int64 {
        let detailJSON: String? = detail.isEmpty ? nil : String(decoding: try JSONCoding.encode(detail), as: UTF8.self)
        let row = try connection.query("""
            INSERT INTO audit_event (authority_id, actor_kind, actor_id, action, entity_type, entity_id, request_id, client_address, detail)
            VALUES (\(authorityID), \(actor.kind), \(actor.id), \(action), \(entityType), \(entityID), \(requestID), \(clientAddress), \(detailJSON)::jsonb)
            RETURNING id
            """).first
        return try row?.decode(Int64.self, at: 0) ?? 0
    }
}
