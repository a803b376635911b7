import Crypto
import Domain
import Foundation
import Postgres

/// Giving compartments to applications and taking them back, inside the caller's transaction.
/// Concurrency: candidates are locked with `FOR UPDATE SKIP LOCKED`, so parallel deliveries never
/// wait on each other's compartments, and the partial unique index on live assignments makes a
/// double booking impossible even if this code were wrong.
enum Assignments {
    struct Assigned {
        let assignmentID: UUID
        let compartmentID: UUID
        let boxID: UUID
        let number: Int
    }

    /// Assigns the best free compartment at the application's site (or joins the household's
    /// compartment). nil when the box is full. The application must be `delivered` (a reassignment
    /// releases the old compartment first: `assigned ─assignmentReleased─▶ delivered`), box pickup, fee
    /// settled; the caller checked that.
    static func assignAutomatically(_ connection: PostgresConnection, authorityID: UUID, applicationID: UUID, siteID: UUID,
                                    needsAccessible: Bool, householdGroup: UUID?, compartmentID: UUID? = nil, boxID: UUID? = nil) throws -> Assigned? {
        if let group = householdGroup, compartmentID == nil {
            // Documents of one family share one compartment and one PIN while it has not been loaded.
            let shared = try connection.query("""
                SELECT asg.id AS assignment_id, c.id AS compartment_id, c.box_id, c.number FROM application a
                JOIN assignment asg ON asg.authority_id = a.authority_id AND asg.id = a.assignment_id
                JOIN compartment c ON c.authority_id = asg.authority_id AND c.id = asg.compartment_id
                JOIN box b ON b.authority_id = c.authority_id AND b.id = c.box_id AND b.site_id = \(siteID)
                WHERE a.authority_id = \(authorityID) AND a.household_group = \(group) AND a.id <> \(applicationID)
                  AND asg.status = \(AssignmentStatus.assigned) AND (NOT \(needsAccessible) OR c.accessible)
                LIMIT 1 FOR UPDATE OF asg
                """)
            if let row = shared.first {
                let assigned = Assigned(assignmentID: try row.decode(UUID.self, column: "assignment_id"), compartmentID: try row.decode(UUID.self, column: "compartment_id"),
                                        boxID: try row.decode(UUID.self, column: "box_id"), number: try row.decode(Int.self, column: "number"))
                try attach(connection, authorityID: authorityID, applicationID: applicationID, assignmentID: assigned.assignmentID)
                try BoxChanges.record(connection, authorityID: authorityID, compartmentID: assigned.compartmentID, kind: .toLoad, assignmentID: assigned.assignmentID)
                return assigned
            }
        }
        guard let chosen = try CompartmentClaims.claim(connection, authorityID: authorityID, siteID: siteID, needsAccessible: needsAccessible, count: 1,
                                                       compartmentID: compartmentID, boxID: boxID).first else { return nil }
        let assignmentID = Crypto.uuid()
        try connection.execute("""
            INSERT INTO assignment (authority_id, id, compartment_id, household_group, status)
            VALUES (\(authorityID), \(assignmentID), \(chosen.id), \(householdGroup), \(AssignmentStatus.assigned))
            """)
        try connection.execute("UPDATE compartment SET state = \(CompartmentState.occupied.rawValue) WHERE authority_id = \(authorityID) AND id = \(chosen.id)")
        try attach(connection, authorityID: authorityID, applicationID: applicationID, assignmentID: assignmentID)
        try BoxChanges.record(connection, authorityID: authorityID, compartmentID: chosen.id, kind: .toLoad, assignmentID: assignmentID)
        return Assigned(assignmentID: assignmentID, compartmentID: chosen.id, boxID: chosen.boxID, number: chosen.number)
    }

    private static func attach(_ connection: PostgresConnection, authorityID: UUID, applicationID: UUID, assignmentID: UUID) throws {
        try ApplicationTransitions.apply(.compartmentAssigned, to: applicationID, from: .delivered, connection, authorityID: authorityID,
                                         effects: .init(assignment: .set(assignmentID)))
    }

    /// Cancelling an application whose document is already in the box: the compartment stays
    /// occupied and the assignment becomes `retrieval_due` (its PIN dies) until staff take it out. The
    /// cancellation locked the box already (`lockBoxHoldingDocument`, from an unlocked read); taking it
    /// again from the assignment now costs one query and covers a document loaded between the two.
    static func markForRetrieval(_ connection: PostgresConnection, authorityID: UUID, assignmentID: UUID) throws {
        try lockBoxes(connection, holding: [(authorityID, assignmentID)])
        let marked = try connection.query("""
            UPDATE assignment SET status = \(AssignmentStatus.retrievalDue), pin_hmac = NULL, pin_digest = NULL
            WHERE authority_id = \(authorityID) AND id = \(assignmentID) AND status = \(AssignmentStatus.loaded)
            RETURNING compartment_id
            """)
        // The box shows it in service mode, as after a passed deadline.
        for row in marked {
            try BoxChanges.record(connection, authorityID: authorityID, compartmentID: try row.decode(UUID.self, column: "compartment_id"), kind: .toRetrieve,
                                  assignmentID: assignmentID)
        }
    }

    /// Locks the boxes that hold these assignments, in key order, before the caller writes a loaded
    /// assignment and then its box's feed (`BoxChanges`). A pickup's steps lock the box first and its
    /// assignments after it (Migrations/0028), and the feed's writers lock several boxes in key order
    /// (`BoxChanges.recordAll`): a writer that took a loaded assignment first and its box after could
    /// deadlock with a person at the box.
    static func lockBoxes(_ connection: PostgresConnection, holding assignments: [(authorityID: UUID, id: UUID)]) throws {
        guard !assignments.isEmpty else { return }
        try connection.execute("""
            SELECT b.id FROM box b
            WHERE (b.authority_id, b.id) IN (
                SELECT c.authority_id, c.box_id FROM unnest(\(assignments.map(\.authorityID))::uuid[], \(assignments.map(\.id))::uuid[]) AS t(authority_id, id)
                JOIN assignment asg ON asg.authority_id = t.authority_id AND asg.id = t.id
                JOIN compartment c ON c.authority_id = asg.authority_id AND c.id = asg.compartment_id)
            ORDER BY b.authority_id, b.id FOR UPDATE OF b
            """)
    }

    /// Locks the box that holds the application's document (its assignment loaded or due for retrieval),
    /// if any, before the caller locks the application: a cancellation then takes the box, the application
    /// and the assignment in the order a pickup's steps, the box's door events and the deadline pass take
    /// them (box first). The assignment is read without a lock; should it change before the caller's lock,
    /// the caller still decides on what it locked, and only the order was not kept (PostgreSQL would then
    /// name a deadlock, and the transaction is retried).
    static func lockBoxHoldingDocument(_ connection: PostgresConnection, authorityID: UUID, applicationID: UUID) throws {
        try connection.execute("""
            SELECT b.id FROM box b
            WHERE (b.authority_id, b.id) IN (
                SELECT c.authority_id, c.box_id FROM application a
                JOIN assignment asg ON asg.authority_id = a.authority_id AND asg.id = a.assignment_id
                JOIN compartment c ON c.authority_id = asg.authority_id AND c.id = asg.compartment_id
                WHERE a.authority_id = \(authorityID) AND a.id = \(applicationID)
                  AND asg.status IN (\(AssignmentStatus.loaded), \(AssignmentStatus.retrievalDue)))
            FOR UPDATE OF b
            """)
    }

    /// Takes an application out of its assignment before loading; the last one out frees the
    /// compartment. A loaded compartment is never freed here (see `markForRetrieval`).
    static func release(_ connection: PostgresConnection, authorityID: UUID, assignmentID: UUID, applicationID: UUID) throws {
        // Lock the assignment before counting its members: a household member being attached
        // concurrently (which locks it too) is then either counted or attaches after us.
        try connection.execute("SELECT 1 FROM assignment WHERE authority_id = \(authorityID) AND id = \(assignmentID) FOR UPDATE")
        let others = try connection.query("""
            SELECT count(*)::int8 AS others FROM application
            WHERE authority_id = \(authorityID) AND assignment_id = \(assignmentID) AND id <> \(applicationID)
            """).first?.decode(Int.self, column: "others") ?? 0
        try connection.execute("UPDATE application SET assignment_id = NULL WHERE authority_id = \(authorityID) AND id = \(applicationID)")
        guard others == 0 else { return }
        let rows = try connection.query("""
            UPDATE assignment SET status = \(AssignmentStatus.released), released_at = now()
            WHERE authority_id = \(authorityID) AND id = \(assignmentID) AND status = \(AssignmentStatus.assigned)
            RETURNING compartment_id
            """)
        if let row = rows.first {
            let compartment = try row.decode(UUID.self, column: "compartment_id")
            try connection.execute("""
                UPDATE compartment SET state = \(CompartmentState.available.rawValue)
                WHERE authority_id = \(authorityID) AND id = \(compartment) AND state = \(CompartmentState.occupied.rawValue)
                """)
            try BoxChanges.record(connection, authorityID: authorityID, compartmentID: compartment, kind: .released, assignmentID: assignmentID)
        }
    }
}
