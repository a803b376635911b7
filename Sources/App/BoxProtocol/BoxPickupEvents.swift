import Domain
import Foundation
import HTTPServer
import Logging
import Postgres

/// The events of a pickup and of a retrieval (docs/ARCHITECTURE.md#pickup and #deadline), inside the event's transaction.
enum BoxPickupEvents {
    static let faults: Set<String> = ["door_jammed", "door_left_open", "old_document_reader_failed", "other"]

    static func handle(_ app: Application, _ c: PostgresConnection, box: BoxPrincipal, event: BoxEvents.Event, request: Request) throws -> BoxEvents.Result {
        let holding = try Holding.read(c, box: box, compartment: event.compartmentNumber)
        if event.kind == "fault" { return try fault(app, c, box: box, event: event, request: request) }
        guard let holding else { throw outOfOrder(app, box: box, event: event, "No document is in this compartment.", state: "empty") }
        if let given = event.assignmentId, given != holding.assignmentID {
            throw AppError.conflict("assignment_mismatch", "The compartment holds another assignment.", field: "assignmentId")
        }
        if event.kind == "retrieved" {
            guard holding.status == .retrievalDue else {
                throw outOfOrder(app, box: box, event: event, "Only a compartment due for retrieval is retrieved.", state: holding.status.rawValue)
            }
            return try retrieved(app, c, box: box, assignmentID: holding.assignmentID, event: event, request: request)
        }
        return try door(app, c, box: box, holding: holding, event: event, request: request)
    }

    /// What the compartment holds while a pickup or retrieval may be under way, its row locked.
    struct Holding {
        var assignmentID: UUID
        var status: AssignmentStatus
        var opened: Bool
        var removed: Bool
        var destroyed: Bool
        /// A pickup at this compartment was verified in the last 10 minutes.
        var verified: Bool
        var requiresOldDocument: Bool

        static func read(_ c: PostgresConnection, box: BoxPrincipal, compartment: Int) throws -> Holding? {
            try c.query("""
                SELECT asg.id AS assignment_id, asg.status, asg.opened_at IS NOT NULL AS opened, asg.document_removed_at IS NOT NULL AS removed,
                       asg.old_document_destroyed_at IS NOT NULL AS destroyed,
                       EXISTS (SELECT 1 FROM pickup_session ps WHERE ps.authority_id = asg.authority_id AND ps.assignment_id = asg.id
                               AND ps.verified_at > now() - interval '10 minutes') AS verified,
                       s.pickup_requires_old_document AS requires_old_document
                FROM compartment cp
                JOIN assignment asg ON asg.authority_id = cp.authority_id AND asg.compartment_id = cp.id
                 AND asg.status IN (\(AssignmentStatus.loaded), \(AssignmentStatus.retrievalDue))
                JOIN box b ON b.authority_id = cp.authority_id AND b.id = cp.box_id
                JOIN site s ON s.authority_id = b.authority_id AND s.id = b.site_id
                WHERE cp.authority_id = \(box.authorityID) AND cp.box_id = \(box.boxID) AND cp.number = \(compartment)
                FOR UPDATE OF asg
                """).first.map { row in
                Holding(assignmentID: try row.decode(UUID.self, column: "assignment_id"), status: try row.decode(AssignmentStatus.self, column: "status"),
                        opened: try row.decode(Bool.self, column: "opened"), removed: try row.decode(Bool.self, column: "removed"),
                        destroyed: try row.decode(Bool.self, column: "destroyed"), verified: try row.decode(Bool.self, column: "verified"),
                        requiresOldDocument: try row.decode(Bool.self, column: "requires_old_document"))
            }
        }
    }

    private static func outOfOrder(_ app: Application, box: BoxPrincipal, event: BoxEvents.Event, _ why: String, state: String) -> AppError {
        app.logger.warning("out-of-order box event", metadata: ["box.id": "\(box.key)", "event.kind": "\(event.kind)"])
        return AppError.conflict("out_of_order", why, extra: ["state": state])
    }

    /// A fault the box reports: staff see it in the log and the audit trail.
    private static func fault(_ app: Application, _ c: PostgresConnection, box: BoxPrincipal, event: BoxEvents.Event, request: Request) throws -> BoxEvents.Result {
        guard let fault = event.fault, faults.contains(fault) else {
            throw AppError.invalid("fault", "invalid_value", "fault is one of " + faults.sorted().joined(separator: ", ") + ".")
        }
        app.logger.error("box fault", metadata: ["box.id": "\(box.key)", "box.compartment": "\(event.compartmentNumber)", "box.fault": "\(fault)"])
        try audit(app, c, box: box, request: request, action: "box.fault", entityType: "box", entityID: box.boxID,
                  detail: ["fault": fault, "compartment": String(event.compartmentNumber)])
        return BoxEvents.Result(eventId: event.eventId, kind: event.kind, state: "fault_recorded", pickupDeadline: nil)
    }

    /// The door's events of a verified pickup, in order: opened, document removed (and the old document
    /// destroyed for a renewal where the site asks it), closed.
    private static func door(_ app: Application, _ c: PostgresConnection, box: BoxPrincipal, holding: Holding, event: BoxEvents.Event,
                             request: Request) throws -> BoxEvents.Result {
        let state = holding.status.rawValue
        guard holding.status == .loaded, holding.verified else {
            throw outOfOrder(app, box: box, event: event, "No verified pickup is under way at this compartment.", state: state)
        }
        let assignmentID = holding.assignmentID
        switch event.kind {
        case "opened":
            try c.execute("UPDATE assignment SET opened_at = coalesce(opened_at, now()) WHERE authority_id = \(box.authorityID) AND id = \(assignmentID)")
            return BoxEvents.Result(eventId: event.eventId, kind: event.kind, state: "ready_in_box", pickupDeadline: nil)
        case "document_removed", "old_document_destroyed":
            guard holding.opened else { throw outOfOrder(app, box: box, event: event, "The compartment was not reported open.", state: state) }
            let column = event.kind == "document_removed" ? "document_removed_at" : "old_document_destroyed_at"
            try c.execute("UPDATE assignment SET \(unsafeSQL: column) = coalesce(\(unsafeSQL: column), now()) WHERE authority_id = \(box.authorityID) AND id = \(assignmentID)")
            return BoxEvents.Result(eventId: event.eventId, kind: event.kind, state: "ready_in_box", pickupDeadline: nil)
        default: // closed
            guard holding.opened, holding.removed else {
                throw outOfOrder(app, box: box, event: event, "The door closed before the document was taken.", state: state)
            }
            let renewals = try c.query("""
                SELECT count(*)::int8 AS renewals FROM application
                WHERE authority_id = \(box.authorityID) AND assignment_id = \(assignmentID) AND issuance = \(Issuance.renewal.rawValue)
                """).first?.decode(Int.self, column: "renewals") ?? 0
            if renewals > 0, holding.requiresOldDocument, !holding.destroyed {
                throw outOfOrder(app, box: box, event: event, "The old document was not reported destroyed.", state: state)
            }
            return try collected(app, c, box: box, assignmentID: assignmentID, event: event, request: request)
        }
    }

    /// The pickup is complete: applications `collected`, compartment free, a handover event for the
    /// authority's systems (biometric data is to be deleted at handover), and the erasure clock starts
    /// (`collected_at`).
    private static func collected(_ app: Application, _ c: PostgresConnection, box: BoxPrincipal, assignmentID: UUID, event: BoxEvents.Event, request: Request) throws -> BoxEvents.Result {
        try c.execute("""
            UPDATE assignment SET status = \(AssignmentStatus.collected), collected_at = now(), pin_hmac = NULL, pin_digest = NULL WHERE authority_id = \(box.authorityID) AND id = \(assignmentID)
            """)
        try c.execute("""
            UPDATE compartment SET state = \(CompartmentState.available.rawValue)
            WHERE authority_id = \(box.authorityID) AND id = (SELECT compartment_id FROM assignment WHERE authority_id = \(box.authorityID) AND id = \(assignmentID))
            """)
        let applications = try ApplicationTransitions.apply(.pickedUp, onAssignment: assignmentID, c, authorityID: box.authorityID,
                                                            effects: .init(collectedNow: true)).map(\.id)
        for id in applications {
            try audit(app, c, box: box, request: request, action: "application.collected", entityType: "application", entityID: id)
            // The handover event the authority's specialist software consumes (e.g. to delete the fingerprints).
            try audit(app, c, box: box, request: request, action: "application.handed_over", entityType: "application", entityID: id)
        }
        return BoxEvents.Result(eventId: event.eventId, kind: event.kind, state: ApplicationState.collected.rawValue, pickupDeadline: nil)
    }

    /// Staff took an uncollected document out: the applications move to the counter, the applicant is told.
    private static func retrieved(_ app: Application, _ c: PostgresConnection, box: BoxPrincipal, assignmentID: UUID, event: BoxEvents.Event, request: Request) throws -> BoxEvents.Result {
        try c.execute("UPDATE assignment SET status = \(AssignmentStatus.retrieved), retrieved_at = now(), pin_hmac = NULL, pin_digest = NULL WHERE authority_id = \(box.authorityID) AND id = \(assignmentID)")
        try c.execute("""
            UPDATE compartment SET state = \(CompartmentState.available.rawValue)
            WHERE authority_id = \(box.authorityID) AND id = (SELECT compartment_id FROM assignment WHERE authority_id = \(box.authorityID) AND id = \(assignmentID))
            """)
        // Documents still `ready_in_box` or `retrieval_due` go to the counter (the lifecycle's `retrievedByStaff`);
        // a cancelled one only leaves the assignment.
        let moved = try ApplicationTransitions.apply(.retrievedByStaff, onAssignment: assignmentID, c, authorityID: box.authorityID,
                                                     effects: .init(assignment: .clear))
        try c.execute("UPDATE application SET assignment_id = NULL WHERE authority_id = \(box.authorityID) AND assignment_id = \(assignmentID)")
        for application in moved {
            try audit(app, c, box: box, request: request, action: "application.retrieved", entityType: "application", entityID: application.id)
        }
        if let first = moved.first, let mobile = first.mobileNumber {
            let site = try c.query("SELECT name FROM site WHERE authority_id = \(box.authorityID) AND id = \(box.siteID)").first?.decode(String.self, column: "name")
            try SMSOutbox.enqueue(c, cipher: app.smsCipher, authorityID: box.authorityID, applicationID: first.id, assignmentID: assignmentID,
                                  to: mobile, kind: .movedToCounter, language: first.smsLanguage, values: SMSValues(site: site))
        }
        return BoxEvents.Result(eventId: event.eventId, kind: event.kind, state: ApplicationState.readyAtCounter.rawValue, pickupDeadline: nil)
    }

    private static func audit(_ app: Application, _ c: PostgresConnection, box: BoxPrincipal, request: Request, action: String, entityType: String, entityID: UUID,
                              detail: [String: String] = [:]) throws {
        try Audit.record(c, authorityID: box.authorityID, actor: .box(box.boxID), action: action, entityType: entityType, entityID: entityID,
                         requestID: request.requestID, clientAddress: app.auditAddress(request), detail: detail)
    }
}
