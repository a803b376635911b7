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
            SELECT b.id, b.name, b.site_id, s.name, b.panel_languages, b.token_hash IS NOT NULL, b.token_created_at, b.last_seen_at,
                   coalesce(b.last_seen_at > now() - make_interval(secs => \(onlineWindowSeconds)), false), b.created_at,
                   count(c.id)::int8,
                   count(c.id) FILTER (WHERE c.state = \(CompartmentState.available.rawValue))::int8,
                   count(c.id) FILTER (WHERE c.state = \(CompartmentState.occupied.rawValue))::int8,
                   count(c.id) FILTER (WHERE c.state = \(CompartmentState.blocked.rawValue))::int8,
                   CASE WHEN b.pickups_blocked_until > now() THEN b.pickups_blocked_until END,
                   CASE WHEN b.loading_blocked_until > now() THEN b.loading_blocked_until END
            FROM box b
            JOIN site s ON s.authority_id = b.authority_id AND s.id = b.site_id
            LEFT JOIN compartment c ON c.authority_id = b.authority_id AND c.box_id = b.id
            WHERE b.authority_id = \(authorityID) AND (\(boxID)::uuid IS NULL OR b.id = \(boxID))
            GROUP BY b.authority_id, b.id, s.authority_id, s.id
            ORDER BY b.name, b.id
            """)
        return try rows.map { row in
            BoxDTO.Box(
                id: try row.decode(UUID.self, at: 0), name: try row.decode(String.self, at: 1), siteId: try row.decode(UUID.self, at: 2),
                siteName: try row.decode(String.self, at: 3), panelLanguages: try row.decode([String].self, at: 4),
                compartmentCounts: BoxDTO.Counts(total: try row.decode(Int.self, at: 10), available: try row.decode(Int.self, at: 11),
                                                 occupied: try row.decode(Int.self, at: 12), blocked: try row.decode(Int.self, at: 13)),
                online: try row.decode(Bool.self, at: 8), lastSeenAt: try row.decode(Date?.self, at: 7), hasToken: try row.decode(Bool.self, at: 5),
                tokenCreatedAt: try row.decode(Date?.self, at: 6), createdAt: try row.decode(Date.self, at: 9),
                pickupsBlockedUntil: try row.decode(Date?.self, at: 14), loadingBlockedUntil: try row.decode(Date?.self, at: 15), compartments: nil)
        }
    }

    /// One box with its grid, or 404 (also for another authority's).
    static func fetch(_ connection: PostgresConnection, authorityID: UUID, id: UUID) throws -> BoxDTO.Box {
        guard var box = try list(connection, authorityID: authorityID, boxID: id).first else { throw AppError.notFound("box") }
        box.compartments = try compartments(connection, authorityID: authorityID, boxID: id)
        return box
    }

    /// The compartments of a box by number (or only `number`), with the Vorgangsnummern of live assignments.
    static func compartments(_ connection: PostgresConnection, authorityID: UUID, boxID: UUID, number: Int? = nil) throws -> [BoxDTO.Compartment] {
        let rows = try connection.query("""
            SELECT c.number, c.row_index, c.column_index, c.size_class, c.floor_height_cm, c.accessible, c.state, c.block_reason, c.block_note, asg.status
            FROM compartment c
            LEFT JOIN assignment asg ON asg.authority_id = c.authority_id AND asg.compartment_id = c.id
                                    AND asg.status IN ('assigned', 'loaded', 'retrieval_due')
            WHERE c.authority_id = \(authorityID) AND c.box_id = \(boxID) AND (\(number)::int IS NULL OR c.number = \(number))
            ORDER BY c.number
            """)
        // One join for the whole box (not one lookup per compartment): the applications of its live assignments.
        var numbers: [Int: [String]] = [:]
        for row in try connection.query("""
            SELECT c.number, a.vorgangsnummer
            FROM compartment c
            JOIN assignment asg ON asg.authority_id = c.authority_id AND asg.compartment_id = c.id
                               AND asg.status IN ('assigned', 'loaded', 'retrieval_due')
            JOIN application a ON a.authority_id = asg.authority_id AND a.assignment_id = asg.id
            WHERE c.authority_id = \(authorityID) AND c.box_id = \(boxID) AND (\(number)::int IS NULL OR c.number = \(number))
            ORDER BY c.number, a.vorgangsnummer
            """) {
            numbers[try row.decode(Int.self, at: 0), default: []].append(try row.decode(String.self, at: 1))
        }
        return try rows.map { row in
            let n = try row.decode(Int.self, at: 0)
            return BoxDTO.Compartment(
                number: n, row: try row.decode(Int.self, at: 1), column: try row.decode(Int.self, at: 2), sizeClass: try row.decode(Int.self, at: 3),
                floorHeightCm: try row.decode(Int.self, at: 4), accessible: try row.decode(Bool.self, at: 5), state: try row.decode(String.self, at: 6),
                blockReason: try row.decode(String?.self, at: 7), blockNote: try row.decode(String?.self, at: 8),
                assignmentStatus: try row.decode(String?.self, at: 9), vorgangsnummern: numbers[n] ?? [])
        }
    }
}
