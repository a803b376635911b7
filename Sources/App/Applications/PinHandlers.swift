import Domain
import Foundation
import HTTPServer
import Postgres

/// `POST /api/v1/applications/{id}/pin` (docs/ARCHITECTURE.md#deadline): a caseworker unlocks the compartment and sends
/// a new PIN — the old one dies, the failed-attempt count starts again, a new SMS goes out. Limited to
/// three a day per application, audited (never the PIN). When the mobile number changed within the last
/// 24 hours (docs/ARCHITECTURE.md#four-eyes), the new PIN waits for a second staff member: the call answers 202 with a
/// pending `pin_reissue` request, and `POST /approvals/{id}/approve` by a supervisor sends it.
enum PinHandlers {
    static let perDay = 3

    static func reissue(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        try ctx.transaction { c in
            // The box first, as every writer of a loaded document (docs/ARCHITECTURE.md#deadline).
            try Assignments.lockBoxHoldingDocument(c, authorityID: ctx.authorityID, applicationID: id)
            let current = try ApplicationStore.fetch(c, authorityID: ctx.authorityID, id: id, forUpdate: true)
            let target = try reissuable(current)
            let now = try c.query("SELECT now()").first?.decode(Date.self, at: 0) ?? Date()
            if StaffApproval.pinReissueNeedsApproval(numberChangedAt: current.mobileNumberChangedAt, now: now) {
                let request = try ApprovalStore.request(c, authorityID: ctx.authorityID, applicationID: id, kind: .pinReissue, mobileNumber: target.mobile,
                                                        requestedBy: ctx.user.userID)
                for old in request.superseded {
                    try ctx.audit(c, "application.approval_superseded", "application", id, detail: ["approval": old.uuidString.lowercased()])
                }
                try ctx.audit(c, "application.pin_reissue_requested", "application", id, detail: ["approval": request.id.uuidString.lowercased()])
                return try .json(try ApprovalStore.fetch(c, authorityID: ctx.authorityID, id: request.id), status: .accepted)
            }
            try send(ctx, c, current, assignmentID: target.assignmentID, to: target.mobile)
            return try .json(try ApplicationStore.fetch(c, authorityID: ctx.authorityID, id: id))
        }
    }

    /// A supervisor approved a pending `pin_reissue` (the caller checked the four eyes, and locked the box
    /// holding the document and then the application): the PIN goes to the number the request named, which
    /// must still be the application's.
    static func approve(_ ctx: StaffContext, _ c: PostgresConnection, _ approval: ApprovalDTO.Approval) throws {
        let current = try ApplicationStore.fetch(c, authorityID: ctx.authorityID, id: approval.applicationId, forUpdate: true)
        let target = try reissuable(current)
        guard target.mobile == approval.mobileNumber else {
            throw AppError.conflict("approval_outdated", "The mobile number changed after this new PIN was asked for; ask again.")
        }
        try send(ctx, c, current, assignmentID: target.assignmentID, to: target.mobile, approval: approval)
    }

    /// The loaded assignment and the number a new PIN would go to, or the refusal.
    private static func reissuable(_ current: ApplicationDTO.Application) throws -> (assignmentID: UUID, mobile: String) {
        guard current.state == .readyInBox, let assignment = current.assignment, assignment.status == .loaded else {
            throw AppError.illegalTransition(current: current.state, action: "issuing a new PIN")
        }
        guard let mobile = current.mobileNumber else {
            throw AppError.conflict("no_mobile_number", "The application has no mobile number for the SMS.", field: "mobileNumber")
        }
        return (assignment.id, mobile)
    }

    /// Draws the PIN, unlocks, ends running pickup sessions, queues the SMS and audits — in the caller's transaction.
    private static func send(_ ctx: StaffContext, _ c: PostgresConnection, _ current: ApplicationDTO.Application, assignmentID: UUID, to mobile: String,
                             approval: ApprovalDTO.Approval? = nil) throws {
        let id = current.id
        let today = try c.query("""
            SELECT count(*)::int8 FROM audit_event
            WHERE authority_id = \(ctx.authorityID) AND entity_type = 'application' AND entity_id = \(id)
              AND action = 'application.pin_reissued' AND at > now() - interval '24 hours'
            """).first?.decode(Int.self, at: 0) ?? 0
        guard today < perDay else {
            throw AppError.tooManyRequests(retryAfterSeconds: 3600, "At most \(perDay) new PINs a day for one application.")
        }
        let pin = Pin.draw()
        try c.execute("""
            UPDATE assignment SET \(storedPin: pin, authorityID: ctx.authorityID, assignmentID: assignmentID, key: ctx.app.secretKey),
                failed_attempts = 0, locked = false
            WHERE authority_id = \(ctx.authorityID) AND id = \(assignmentID)
            """)
        try c.execute("UPDATE pickup_session SET expires_at = now() WHERE authority_id = \(ctx.authorityID) AND assignment_id = \(assignmentID) AND expires_at > now()")
        try SMSOutbox.enqueue(c, cipher: ctx.app.smsCipher, authorityID: ctx.authorityID, applicationID: id, assignmentID: assignmentID, to: mobile, kind: .newPin,
                              language: current.smsLanguage,
                              values: SMSValues(pin: pin, deadline: current.pickupDeadline.flatMap { try? CivilDate(iso: $0) }))
        var detail: [String: String] = [:]
        if let approval {
            detail = ["approval": approval.id.uuidString.lowercased(), "requestedBy": approval.requestedBy.id.uuidString.lowercased()]
        }
        try ctx.audit(c, "application.pin_reissued", "application", id, detail: detail)
    }
}
