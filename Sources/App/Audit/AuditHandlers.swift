import Crypto
import DecimalParsing
import Domain
import Foundation
import HTTPServer
import Postgres

/// `GET /api/v1/audit` (supervisor): the authority's audit log, newest first, with filters, each event
/// with its place in the hash chain, and the chain's head (to anchor elsewhere).
enum AuditHandlers {
    struct Event: Codable {
        var id: Int64
        /// Position in the authority's chain; absent until the sealer took the event (about a second).
        var chainSeq: Int64?
        /// SHA-256 (hex) of the previous hash and this event.
        var hash: String?
        var at: Date
        var actorKind: String
        var actorId: UUID?
        var action: String
        var entityType: String
        var entityId: UUID?
        var requestId: String?
        /// Until `AUDIT_IP_DAYS`; a network (`/24`, `/48`) with `AUDIT_IP_TRUNCATE`.
        var clientAddress: String?
        var detail: [String: String]?
    }

    struct Head: Codable {
        var seq: Int64
        var hash: String
        var sealedAt: Date
    }

    struct Page: Codable {
        var items: [Event]
        /// `before` for the next (older) page; absent on the last page.
        var next: Int64?
        /// The authority's chain head; absent before its first event was sealed.
        var chain: Head?
    }

    /// Who acted (`audit_event.actor_kind`).
    enum ActorKind: String, CaseIterable {
        case user, box, system
    }

    static func list(_ ctx: StaffContext, _ query: QueryParameters) throws -> Response {
        let limit = try Input.intParameter(query, "limit", default: 50, range: 1...200)
        let before = try query["before"].map { text -> Int64 in
            guard text.utf8.count <= 18, let n = Int64(decimal: text, allowingSign: true), n > 0 else {
                throw AppError.invalid("before", "invalid_parameter", "before is an event id (a positive whole number).")
            }
            return n
        }
        let entityType = try query["entityType"].map { try pattern($0, field: "entityType", maxLength: 32, extra: "_") }
        let action = try query["action"].map { try pattern($0, field: "action", maxLength: 64, extra: "_.") }
        let entityID = try query["entityId"].map { try uuid($0, field: "entityId") }
        let actorID = try query["actorId"].map { try uuid($0, field: "actorId") }
        let actorKind = try query["actorKind"].map { try Input.enumValue(ActorKind.self, $0, field: "actorKind").rawValue }
        let from = try query["from"].map { try Input.date($0, field: "from") }
        let to = try query["to"].map { try Input.date($0, field: "to") }
        return try ctx.transaction { c in
            // Days in Europe/Berlin, like every other date filter of the API.
            let rows = try c.query("""
                SELECT id, chain_seq, hash, at, actor_kind, actor_id, action, entity_type, entity_id, request_id, client_address, detail::text AS detail
                FROM audit_event
                WHERE authority_id = \(ctx.authorityID)
                  AND (\(before)::int8 IS NULL OR id < \(before))
                  AND (\(entityType)::text IS NULL OR entity_type = \(entityType))
                  AND (\(entityID)::uuid IS NULL OR entity_id = \(entityID))
                  AND (\(action)::text IS NULL OR action = \(action))
                  AND (\(actorKind)::text IS NULL OR actor_kind = \(actorKind))
                  AND (\(actorID)::uuid IS NULL OR actor_id = \(actorID))
                  AND (\(from)::date IS NULL OR at >= (\(from)::date)::timestamp AT TIME ZONE 'Europe/Berlin')
                  AND (\(to)::date IS NULL OR at < (\(to)::date + 1)::timestamp AT TIME ZONE 'Europe/Berlin')
                ORDER BY id DESC
                LIMIT \(limit + 1)
                """)
            var items = try rows.map(event)
            var next: Int64?
            if items.count > limit {
                items.removeLast()
                next = items.last?.id
            }
            let head = try c.query("SELECT seq, head, sealed_at FROM audit_chain WHERE authority_id = \(ctx.authorityID)").first.map { row in
                Head(seq: try row.decode(Int64.self, column: "seq"), hash: Crypto.hex(try row.decode([UInt8].self, column: "head")),
                     sealedAt: try row.decode(Date.self, column: "sealed_at"))
            }
            // Reading the log is itself recorded (it shows staff addresses): which filters, never their values.
            let filters = ["before", "entityType", "entityId", "action", "actorKind", "actorId", "from", "to"].filter { query[$0] != nil }
            try ctx.audit(c, "audit.read", "audit_event", nil, detail: filters.isEmpty ? [:] : ["filters": filters.joined(separator: ",")])
            return try .json(Page(items: items, next: next, chain: head))
        }
    }

    /// A row with the columns `id, chain_seq, hash, at, actor_kind, actor_id, action, entity_type, entity_id,
    /// request_id, client_address` and `detail` (as text), read by name.
    static func event(_ row: PostgresRow) throws -> Event {
        Event(id: try row.decode(Int64.self, column: "id"), chainSeq: try row.decode(Int64?.self, column: "chain_seq"),
              hash: try row.decode([UInt8]?.self, column: "hash").map(Crypto.hex), at: try row.decode(Date.self, column: "at"),
              actorKind: try row.decode(String.self, column: "actor_kind"), actorId: try row.decode(UUID?.self, column: "actor_id"),
              action: try row.decode(String.self, column: "action"), entityType: try row.decode(String.self, column: "entity_type"),
              entityId: try row.decode(UUID?.self, column: "entity_id"), requestId: try row.decode(String?.self, column: "request_id"),
              clientAddress: try row.decode(String?.self, column: "client_address"),
              detail: try row.decode(String?.self, column: "detail").flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) })
    }

    /// `^[a-z<extra>]{1,maxLength}$` (the CHECKs of `audit_event`), else 400 `invalid_parameter`.
    static func pattern(_ text: String, field: String, maxLength: Int, extra: String) throws -> String {
        let allowed = Set(extra.utf8)
        guard (1...maxLength).contains(text.utf8.count), text.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || allowed.contains($0) }) else {
            throw AppError.invalid(field, "invalid_parameter", "\(field) is 1 to \(maxLength) of a-z and \(extra).")
        }
        return text
    }

    static func uuid(_ text: String, field: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else { throw AppError.invalid(field, "invalid_parameter", "\(field) must be a UUID.") }
        return id
    }
}
