import Domain
import Foundation
import HTTPServer
import Postgres

/// `POST /api/v1/applications/{id}/pin` (issue #4 §5): a caseworker unlocks the compartment and sends
/// a new PIN — the old one dies, the failed-attempt count starts again, a new SMS goes out. Limited to
/// three a day per application, audited (never the PIN).
enum PinHandlers {
    static let perDay = 3

    static func routes(_ app: Application) -> [AppRoute] {
        [
            .staff(.POST, "/api/v1/applications/{id}/pin", maxBodyBytes: 1024, app: app) { req, ctx in try reissue(ctx, try ApplicationStore.id(req.parameter("id"))) },
        ]
    }

    static func reissue(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        try ctx.transaction { c in
            let current = try ApplicationStore.fetch(c, authorityID: ctx.authorityID, id: id, forUpdate: true)
            guard current.state == ApplicationState.readyInBox.rawValue, let assignment = current.assignment, assignment.status == "loaded" else {
                throw AppError.illegalTransition(current: current.state, action: "issuing a new PIN")
            }
            let today = try c.query("""
                SELECT count(*)::int8 FROM audit_event
                WHERE authority_id = \(ctx.authorityID) AND entity_type = 'application' AND entity_id = \(id)
                  AND action = 'application.pin_reissued' AND at > now() - interval '24 hours'
                """).first?.decode(Int.self, at: 0) ?? 0
            guard today < perDay else {
                throw AppError.tooManyRequests(retryAfterSeconds: 3600, "At most \(perDay) new PINs a day for one application.")
            }
            guard let mobile = current.mobileNumber else {
                throw AppError.conflict("no_mobile_number", "The application has no mobile number for the SMS.", field: "mobileNumber")
            }
            let pin = Pin.draw()
            try c.execute("""
                UPDATE assignment SET pin_hmac = \(Pin.hmac(pin, assignmentID: assignment.id, key: ctx.app.secretKey)), failed_attempts = 0, locked = false
                WHERE authority_id = \(ctx.authorityID) AND id = \(assignment.id)
                """)
            try c.execute("UPDATE pickup_session SET expires_at = now() WHERE authority_id = \(ctx.authorityID) AND assignment_id = \(assignment.id) AND expires_at > now()")
            try SMSOutbox.enqueue(c, cipher: ctx.app.smsCipher, authorityID: ctx.authorityID, applicationID: id, assignmentID: assignment.id, to: mobile, kind: .newPin,
                                  language: current.smsLanguage,
                                  values: SMSValues(pin: pin, deadline: current.pickupDeadline.flatMap { try? CivilDate(iso: $0) }))
            try ctx.audit(c, "application.pin_reissued", "application", id)
            return try .json(try ApplicationStore.fetch(c, authorityID: ctx.authorityID, id: id))
        }
    }
}
