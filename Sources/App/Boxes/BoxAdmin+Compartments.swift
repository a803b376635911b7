import Domain
import Foundation
import Postgres

extension BoxAdmin {
    /// Why a compartment is out of service (`compartment.block_reason`).
    enum BlockReason: String, CaseIterable {
        case defect
        case maintenance
        case other
    }

    /// Takes an `available` compartment out of service. 409 `compartment_occupied` or
    /// `compartment_already_blocked` (with `state`) otherwise; 404 for an unknown box or number.
    static func block(_ connection: PostgresConnection, _ actor: AdminActor, boxID: UUID, number: Int, reason: BlockReason, note: String?) throws {
        let (id, state) = try lockCompartment(connection, actor.authorityID, boxID: boxID, number: number)
        switch state {
        case "available":
            break
        case "occupied":
            throw ServiceError.conflict("compartment_occupied", "The compartment holds a document; it can be blocked once it is empty.", extra: ["state": state])
        default:
            throw ServiceError.conflict("compartment_already_blocked", "The compartment is already blocked; unblock it first to change the reason.", extra: ["state": state])
        }
        try connection.execute("""
            UPDATE compartment SET state = \(CompartmentState.blocked.rawValue), block_reason = \(reason.rawValue), block_note = \(note)
            WHERE authority_id = \(actor.authorityID) AND id = \(id)
            """)
        try BoxChanges.record(connection, authorityID: actor.authorityID, compartmentID: id, kind: .compartment, assignmentID: nil)
        try actor.audit(connection, "compartment.blocked", "compartment", id, detail: [
            "boxId": boxID.uuidString.lowercased(), "number": String(number), "reason": reason.rawValue,
        ])
    }

    /// Puts a blocked compartment back into service; 409 `compartment_not_blocked` (with `state`) otherwise.
    static func unblock(_ connection: PostgresConnection, _ actor: AdminActor, boxID: UUID, number: Int) throws {
        let (id, state) = try lockCompartment(connection, actor.authorityID, boxID: boxID, number: number)
        guard state == "blocked" else {
            throw ServiceError.conflict("compartment_not_blocked", "The compartment is not blocked.", extra: ["state": state])
        }
        try connection.execute("""
            UPDATE compartment SET state = \(CompartmentState.available.rawValue), block_reason = NULL, block_note = NULL
            WHERE authority_id = \(actor.authorityID) AND id = \(id)
            """)
        try BoxChanges.record(connection, authorityID: actor.authorityID, compartmentID: id, kind: .compartment, assignmentID: nil)
        try actor.audit(connection, "compartment.unblocked", "compartment", id, detail: ["boxId": boxID.uuidString.lowercased(), "number": String(number)])
    }

    /// The compartment's row, locked: a concurrent assignment (which locks its candidate with
    /// `FOR UPDATE SKIP LOCKED`) either committed first, and then we see `occupied`, or skips this one.
    private static func lockCompartment(_ connection: PostgresConnection, _ authorityID: UUID, boxID: UUID, number: Int) throws -> (UUID, String) {
        let box = try connection.query("SELECT 1 FROM box WHERE authority_id = \(authorityID) AND id = \(boxID)")
        guard !box.isEmpty else { throw ServiceError.notFound("box") }
        let rows = try connection.query("""
            SELECT id, state FROM compartment WHERE authority_id = \(authorityID) AND box_id = \(boxID) AND number = \(number) FOR UPDATE
            """)
        guard let row = rows.first else { throw ServiceError.notFound("compartment") }
        return (try row.decode(UUID.self, column: "id"), try row.decode(String.self, column: "state"))
    }
}
