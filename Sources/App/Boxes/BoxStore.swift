import Domain
import Foundation
import Postgres

/// The SQL that reads boxes and their compartment grids.
enum BoxStore {
    /// A box is online when it polled within this many seconds.
    static let onlineWindowSeconds = 120

    /// All boxes of the authority (or the one with `boxID`) with compartment counts, by name.
    static func list(_ connection: PostgresConnection, authorityID: UUID, boxID: UUID? = nil) throws -> [BoxDTO.Box] {
        let rows = try connection.query("""
            SELECT b.id, b.name, b.site_id, s.name AS site_name, b.panel_languages, b.token_hash IS NOT NULL AS has_token, b.token_created_at,
                   b.last_seen_at, coalesce(b.last_seen_at > now() - make_interval(secs => \(onlineWindowSeconds)), false) AS online, b.created_at,
                   count(c.id)::int8 AS total,
                   count(c.id) FILTER (WHERE c.state = \(CompartmentState.available.rawValue))::int8 AS available,
                   count(c.id) FILTER (WHERE c.state = \(CompartmentState.occupied.rawValue))::int8 AS occupied,
                   count(c.id) FILTER (WHERE c.state = \(CompartmentState.blocked.rawValue))::int8 AS blocked,
                   CASE WHEN b.pickups_blocked_until > now() THEN b.pickups_blocked_until END AS pickups_blocked_until,
                   CASE WHEN b.loading_blocked_until > now() THEN b.loading_blocked_until END AS loading_blocked_until
            FROM box b
            JOIN site s ON s.authority_id = b.authority_id AND s.id = b.site_id
            LEFT JOIN compartment c ON c.authority_id = b.authority_id AND c.box_id = b.id
            WHERE b.authority_id = \(authorityID) AND (\(boxID)::uuid IS NULL OR b.id = \(boxID))
            GROUP BY b.authority_id, b.id, s.authority_id, s.id
            ORDER BY b.name, b.id
            """)
        return try rows.map { row in
            BoxDTO.Box(
                id: try row.decode(UUID.self, column: "id"), name: try row.decode(String.self, column: "name"), siteId: try row.decode(UUID.self, column: "site_id"),
                siteName: try row.decode(String.self, column: "site_name"), panelLanguages: try row.decode([String].self, column: "panel_languages"),
                compartmentCounts: BoxDTO.Counts(total: try row.decode(Int.self, column: "total"), available: try row.decode(Int.self, column: "available"),
                                                 occupied: try row.decode(Int.self, column: "occupied"), blocked: try row.decode(Int.self, column: "blocked")),
                online: try row.decode(Bool.self, column: "online"), lastSeenAt: try row.decode(Date?.self, column: "last_seen_at"),
                hasToken: try row.decode(Bool.self, column: "has_token"), tokenCreatedAt: try row.decode(Date?.self, column: "token_created_at"),
                createdAt: try row.decode(Date.self, column: "created_at"), pickupsBlockedUntil: try row.decode(Date?.self, column: "pickups_blocked_until"),
                loadingBlockedUntil: try row.decode(Date?.self, column: "loading_blocked_until"), compartments: nil)
        }
    }

    /// One box with its grid, or 404 (also for another authority's).
    static func fetch(_ connection: PostgresConnection, authorityID: UUID, id: UUID) throws -> BoxDTO.Box {
        guard var box = try list(connection, authorityID: authorityID, boxID: id).first else { throw ServiceError.notFound("box") }
        box.compartments = try compartments(connection, authorityID: authorityID, boxID: id)
        return box
    }

    /// The compartments of a box by number (or only `number`), with the Vorgangsnummern of live assignments.
    static func compartments(_ connection: PostgresConnection, authorityID: UUID, boxID: UUID, number: Int? = nil) throws -> [BoxDTO.Compartment] {
        let rows = try connection.query("""
            SELECT c.number, c.row_index, c.column_index, c.size_class, c.floor_height_cm, c.accessible, c.state, c.block_reason, c.block_note,
                   asg.status AS assignment_status
            FROM compartment c
            LEFT JOIN assignment asg ON asg.authority_id = c.authority_id AND asg.compartment_id = c.id
                                    AND asg.status = ANY(\(AssignmentStatus.allCases.filter(\.isLive)))
            WHERE c.authority_id = \(authorityID) AND c.box_id = \(boxID) AND (\(number)::int IS NULL OR c.number = \(number))
            ORDER BY c.number
            """)
        // One join for the whole box (not one lookup per compartment): the applications of its live assignments.
        var numbers: [Int: [String]] = [:]
        for row in try connection.query("""
            SELECT c.number, a.vorgangsnummer
            FROM compartment c
            JOIN assignment asg ON asg.authority_id = c.authority_id AND asg.compartment_id = c.id
                               AND asg.status = ANY(\(AssignmentStatus.allCases.filter(\.isLive)))
            JOIN application a ON a.authority_id = asg.authority_id AND a.assignment_id = asg.id
            WHERE c.authority_id = \(authorityID) AND c.box_id = \(boxID) AND (\(number)::int IS NULL OR c.number = \(number))
            ORDER BY c.number, a.vorgangsnummer
            """) {
            numbers[try row.decode(Int.self, column: "number"), default: []].append(try row.decode(String.self, column: "vorgangsnummer"))
        }
        return try rows.map { row in
            let n = try row.decode(Int.self, column: "number")
            return BoxDTO.Compartment(
                number: n, row: try row.decode(Int.self, column: "row_index"), column: try row.decode(Int.self, column: "column_index"),
                sizeClass: try row.decode(Int.self, column: "size_class"), floorHeightCm: try row.decode(Int.self, column: "floor_height_cm"),
                accessible: try row.decode(Bool.self, column: "accessible"), state: try row.decode(String.self, column: "state"),
                blockReason: try row.decode(String?.self, column: "block_reason"), blockNote: try row.decode(String?.self, column: "block_note"),
                assignmentStatus: try row.decode(String?.self, column: "assignment_status"), vorgangsnummern: numbers[n] ?? [])
        }
    }
}
