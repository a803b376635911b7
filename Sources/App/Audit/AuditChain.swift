import Crypto
import Foundation
import Postgres

/// The hash chain of an authority's audit log (PRIVACY.md#the-audit-log): what it means, and checking it.
///
/// Event n of an authority (its `chain_seq`) carries `hash = SHA-256(hash of event n−1 ‖ canonical
/// encoding)`, the first following 32 zero bytes. The canonical encoding is a version tag and every
/// field as `<byte count>:<UTF-8 text>` (or `-` for NULL), in this order: authority, position, event id,
/// time in microseconds since 1970, actor kind, actor id, action, entity type, entity id, request id,
/// client address digest (hex), detail (JSON as PostgreSQL writes it). Ids are PostgreSQL's text forms
/// (UUIDs in lower case). ``AuditSealer`` writes it; ``verify(_:authorityID:pageSize:)`` recomputes it
/// from the rows alone. PRIVACY.md describes it for anyone who wants to check a chain with other tools.
enum AuditChain {
    static let version = "pickupbox-audit-v1"
    static let genesis = [UInt8](repeating: 0, count: 32)

    /// What the chain covers of one event, in the text forms the encoding uses.
    struct Event {
        let id: Int64
        let authority: String
        let atMicroseconds: Int64
        let actorKind: String
        let actorID: String?
        let action: String
        let entityType: String
        let entityID: String?
        let requestID: String?
        let detail: String?
        /// Present until the address is forgotten (`AUDIT_IP_DAYS`); the chain covers its digest.
        let clientAddress: String?

        /// The columns ``init(_:)`` reads, by name: a query may add more (``Row``) in any place.
        static let columns = """
            id, authority_id::text AS authority_id, (extract(epoch FROM at) * 1000000)::bigint AS at_us, actor_kind,
            actor_id::text AS actor_id, action, entity_type, entity_id::text AS entity_id, request_id, detail::text AS detail, client_address
            """

        init(_ row: PostgresRow) throws {
            id = try row.decode(Int64.self, column: "id")
            authority = try row.decode(String.self, column: "authority_id")
            atMicroseconds = try row.decode(Int64.self, column: "at_us")
            actorKind = try row.decode(String.self, column: "actor_kind")
            actorID = try row.decode(String?.self, column: "actor_id")
            action = try row.decode(String.self, column: "action")
            entityType = try row.decode(String.self, column: "entity_type")
            entityID = try row.decode(String?.self, column: "entity_id")
            requestID = try row.decode(String?.self, column: "request_id")
            detail = try row.decode(String?.self, column: "detail")
            clientAddress = try row.decode(String?.self, column: "client_address")
        }

        func canonical(position: Int64, addressDigest: [UInt8]?) -> [UInt8] {
            let fields: [String?] = [
                AuditChain.version, authority, String(position), String(id), String(atMicroseconds), actorKind, actorID, action, entityType,
                entityID, requestID, addressDigest.map(Crypto.hex), detail,
            ]
            var bytes: [UInt8] = []
            for field in fields {
                guard let field else { bytes.append(UInt8(ascii: "-")); continue }
                let utf8 = Array(field.utf8)
                bytes += Array("\(utf8.count):".utf8) + utf8
            }
            return bytes
        }

        /// SHA-256(salt ‖ address): what the chain covers of the client address.
        static func addressDigest(salt: [UInt8], address: String) -> [UInt8] {
            Crypto.sha256(salt + Array(address.utf8))
        }
    }

    /// A sealed event as stored.
    struct Row {
        let event: Event
        let seq: Int64
        let hash: [UInt8]
        let addressDigest: [UInt8]?
        let addressSalt: [UInt8]?

        static let columns = Event.columns + ", chain_seq, hash, client_address_digest, client_address_salt"

        init(_ row: PostgresRow) throws {
            event = try Event(row)
            seq = try row.decode(Int64.self, column: "chain_seq")
            hash = try row.decode([UInt8].self, column: "hash")
            addressDigest = try row.decode([UInt8]?.self, column: "client_address_digest")
            addressSalt = try row.decode([UInt8]?.self, column: "client_address_salt")
        }
    }

    /// The first place where an authority's chain does not fit.
    struct Break: Sendable, Equatable, CustomStringConvertible {
        enum Kind: String, Sendable {
            /// A position has no event: an event was deleted, or positions were changed.
            case missing
            /// The event does not match its hash: it was changed, inserted or moved.
            case changed
            /// The client address does not match the digest the chain covers.
            case address
            /// The chain's head does not match its last event: events at its end were deleted or changed.
            case head
        }

        let kind: Kind
        /// The chain position where it breaks.
        let position: Int64
        /// The event found there (nil when the chain ends early).
        let eventID: Int64?

        var description: String {
            let event = eventID.map { "event \($0)" } ?? "no event"
            switch kind {
            case .missing: return "position \(position) is missing (\(event) follows): an event was deleted, or positions were changed"
            case .changed: return "\(event) at position \(position) does not match its hash: it was changed, inserted or moved"
            case .address: return "the client address of \(event) at position \(position) does not match the digest in the chain"
            case .head: return "the chain's head names position \(position), but the events end before or differ (\(event) is the last that fits): events at the end were deleted or changed"
            }
        }
    }

    /// The result for one authority.
    struct Result: Sendable {
        let authorityID: UUID
        /// Sealed events checked (positions 1…`checked` fit).
        var checked: Int64 = 0
        /// The head as read before the walk.
        var headSeq: Int64 = 0
        var headHash: [UInt8] = AuditChain.genesis
        /// Events not sealed yet, and the oldest one's time.
        var unsealed = 0
        var oldestUnsealed: Date?
        var broken: Break?
        /// An anchor given by the operator that the chain does not contain.
        var anchorMismatch: String?

        var isIntact: Bool { broken == nil && anchorMismatch == nil }
    }

    /// Walks the authority's chain up to the head it has when the walk starts (later seals are not
    /// looked at), recomputing every hash.
    static func verify(_ c: PostgresConnection, authorityID: UUID, pageSize: Int = 5000) throws -> Result {
        var result = Result(authorityID: authorityID)
        if let head = try c.query("SELECT seq, head FROM audit_chain WHERE authority_id = \(authorityID)").first {
            result.headSeq = try head.decode(Int64.self, column: "seq")
            result.headHash = try head.decode([UInt8].self, column: "head")
        }
        if let pending = try c.query("""
            SELECT count(*)::int8 AS unsealed, min(at) AS oldest FROM audit_event WHERE authority_id = \(authorityID) AND hash IS NULL
            """).first {
            result.unsealed = try pending.decode(Int.self, column: "unsealed")
            result.oldestUnsealed = try pending.decode(Date?.self, column: "oldest")
        }
        var previous = genesis
        var expected: Int64 = 1
        var lastID: Int64?
        pages: while true {
            let rows = try c.query("""
                SELECT \(unsafeSQL: Row.columns) FROM audit_event
                WHERE authority_id = \(authorityID) AND chain_seq >= \(expected) AND chain_seq <= \(result.headSeq)
                ORDER BY chain_seq LIMIT \(pageSize)
                """)
            for row in rows {
                let sealed = try Row(row)
                let id = sealed.event.id
                guard sealed.seq == expected else {
                    result.broken = Break(kind: .missing, position: expected, eventID: id)
                    break pages
                }
                let hash = Crypto.sha256(previous + sealed.event.canonical(position: sealed.seq, addressDigest: sealed.addressDigest))
                guard hash == sealed.hash else {
                    result.broken = Break(kind: .changed, position: sealed.seq, eventID: id)
                    break pages
                }
                if let address = sealed.event.clientAddress, let salt = sealed.addressSalt,
                   sealed.addressDigest != Event.addressDigest(salt: salt, address: address) {
                    result.broken = Break(kind: .address, position: sealed.seq, eventID: id)
                    break pages
                }
                previous = hash
                result.checked = sealed.seq
                lastID = id
                expected += 1
            }
            if rows.count < pageSize { break }
        }
        if result.broken == nil && (result.checked != result.headSeq || previous != result.headHash) {
            result.broken = Break(kind: .head, position: result.headSeq, eventID: lastID)
        }
        return result
    }

    /// The hash at `position` of the authority's chain (an anchor to compare), nil when there is none.
    static func hash(_ c: PostgresConnection, authorityID: UUID, position: Int64) throws -> [UInt8]? {
        try c.query("SELECT hash FROM audit_event WHERE authority_id = \(authorityID) AND chain_seq = \(position)").first?.decode([UInt8].self, column: "hash")
    }
}
