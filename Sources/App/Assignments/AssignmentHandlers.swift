import Domain
import Foundation
import HTTPServer
import Postgres

/// Assigning a compartment by hand, reassigning, and releasing it (before loading).
enum AssignmentHandlers {
    struct Assign: Codable {
        /// A specific free compartment; omitted → the best free one at the application's site.
        var compartmentId: UUID?
        /// Or the compartment as staff name it: its box and its number (both, instead of `compartmentId`).
        var boxId: UUID?
        var compartmentNumber: Int?
    }

    static func assign(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        let body = ctx.request.body.isEmpty ? Assign() : try ctx.request.decode(Assign.self)
        return try ctx.transaction { connection in
            let current = try ApplicationStore.fetch(connection, authorityID: ctx.authorityID, id: id, forUpdate: true)
            guard current.pickupMethod == .box else {
                throw AppError.conflict("not_box_pickup", "The applicant collects at the counter; no compartment is needed.", extra: ["state": current.state.rawValue])
            }
            guard current.state == .delivered || current.state == .assigned else {
                throw AppError.illegalTransition(current: current.state, action: "assigning a compartment")
            }
            guard FeeSchedule.isSettledForBox(feeCents: current.fee.amountCents, settled: current.fee.settled) else {
                throw AppError.conflict("fee_not_settled", "The fee must be paid before box pickup: a box cannot take payment.", field: "feeSettled")
            }
            if let previous = current.assignment {
                try Assignments.release(connection, authorityID: ctx.authorityID, assignmentID: previous.id, applicationID: id)
                try ApplicationTransitions.apply(.assignmentReleased, to: id, from: .assigned, connection, authorityID: ctx.authorityID)
            }
            var compartmentID = body.compartmentId
            switch (body.boxId, body.compartmentNumber) {
            case (nil, nil):
                break
            case (let box?, let number?):
                guard compartmentID == nil else {
                    throw AppError.invalid("compartmentId", "conflicting_fields", "Name the compartment by its id or by box and number, not both.")
                }
                guard let row = try connection.query("""
                    SELECT id FROM compartment WHERE authority_id = \(ctx.authorityID) AND box_id = \(box) AND number = \(number)
                    """).first else {
                    throw AppError.conflict("compartment_unavailable", "That box has no compartment with this number.", field: "compartmentNumber")
                }
                compartmentID = try row.decode(UUID.self, at: 0)
            default:
                throw AppError.invalid(body.boxId == nil ? "boxId" : "compartmentNumber", "missing_field", "Give both the box and the compartment number.")
            }
            guard let assigned = try Assignments.assignAutomatically(
                connection, authorityID: ctx.authorityID, applicationID: id, siteID: current.siteId, needsAccessible: current.needsAccessibleCompartment,
                // A reassignment goes to another compartment, not back to the household's.
                householdGroup: current.assignment == nil ? current.householdGroup : nil, compartmentID: compartmentID
            ) else {
                if compartmentID != nil {
                    throw AppError.conflict("compartment_unavailable", "That compartment is not free, not at this site, or not accessible as needed.",
                                            field: body.compartmentNumber != nil ? "compartmentNumber" : "compartmentId")
                }
                throw AppError.conflict("no_free_compartment", "No suitable compartment is free at this site.")
            }
            try ctx.audit(connection, "application.assigned", "application", id,
                          detail: ["compartment": assigned.compartmentID.uuidString.lowercased(), "mode": current.assignment == nil ? "manual" : "reassigned"])
            return try .json(try ApplicationStore.fetch(connection, authorityID: ctx.authorityID, id: id))
        }
    }

    static func release(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        try ctx.transaction { connection in
            let current = try ApplicationStore.fetch(connection, authorityID: ctx.authorityID, id: id, forUpdate: true)
            guard current.state == .assigned, let assignment = current.assignment else {
                throw AppError.illegalTransition(current: current.state, action: "releasing the compartment")
            }
            try Assignments.release(connection, authorityID: ctx.authorityID, assignmentID: assignment.id, applicationID: id)
            try ApplicationTransitions.apply(.assignmentReleased, to: id, from: .assigned, connection, authorityID: ctx.authorityID)
            try ctx.audit(connection, "application.assignment_released", "application", id)
            return try .json(try ApplicationStore.fetch(connection, authorityID: ctx.authorityID, id: id))
        }
    }
}
