import Foundation
import Postgres

/// The feed a box controller long-polls (docs/ARCHITECTURE.md#box-protocol): changes to its work, numbered per box, written
/// in the same transaction as the change itself, with a NOTIFY that wakes the box's long polls in
/// every server process when the transaction commits.
enum BoxChanges {
    static let channel = "box_changes"

    enum Kind: String {
        /// A compartment was given a document to load.
        case toLoad = "to_load"
        /// An assignment ended before loading; the compartment is free again.
        case released
        /// A compartment was blocked or unblocked.
        case compartment
        /// The pickup deadline passed: staff take the document out in service mode.
        case toRetrieve = "to_retrieve"
    }

    /// Records a change for the box that holds `compartmentID`.
    static func record(_ connection: PostgresConnection, authorityID: UUID, compartmentID: UUID, kind: Kind, assignmentID: UUID?) throws {
        try recordAll(connection, authorityID: authorityID, compartmentIDs: [compartmentID], kind: kind, assignmentIDs: [assignmentID])
    }

    /// Records one change per compartment (all of one kind), numbering them per box. Boxes are
    /// locked in id order, so concurrent writers cannot deadlock on them.
    static func recordAll(_ connection: PostgresConnection, authorityID: UUID, compartmentIDs: [UUID], kind: Kind, assignmentIDs: [UUID?]) throws {
        guard !compartmentIDs.isEmpty else { return }
        try connection.execute("""
            SELECT b.id FROM box b
            WHERE b.authority_id = \(authorityID)
              AND b.id IN (SELECT c.box_id FROM compartment c WHERE c.authority_id = \(authorityID) AND c.id = ANY(\(compartmentIDs)::uuid[]))
            ORDER BY b.id FOR UPDATE
            """)
        let rows = try connection.query("""
            WITH items AS (
                SELECT c.box_id, c.number, t.assignment, t.ord
                FROM unnest(\(compartmentIDs)::uuid[], \(assignmentIDs.map { $0?.uuidString ?? "" })::text[]) WITH ORDINALITY AS t(compartment, assignment, ord)
                JOIN compartment c ON c.authority_id = \(authorityID) AND c.id = t.compartment
            ), counts AS (
                SELECT box_id, count(*) AS n FROM items GROUP BY box_id
            ), bumped AS (
                UPDATE box b SET change_seq = b.change_seq + counts.n
                FROM counts WHERE b.authority_id = \(authorityID) AND b.id = counts.box_id
                RETURNING b.id, b.change_seq - counts.n AS base
            )
            INSERT INTO box_change (authority_id, box_id, seq, kind, compartment_number, assignment_id)
            SELECT \(authorityID)::uuid, i.box_id, bumped.base + row_number() OVER (PARTITION BY i.box_id ORDER BY i.ord), \(kind.rawValue), i.number,
                   NULLIF(i.assignment, '')::uuid
            FROM items i JOIN bumped ON bumped.id = i.box_id
            RETURNING box_id::text
            """)
        for box in Set(try rows.map { try $0.decode(String.self, at: 0) }) {
            try connection.execute("SELECT pg_notify(\(channel), \(box))")
        }
    }
}
