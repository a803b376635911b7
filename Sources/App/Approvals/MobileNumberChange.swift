import Domain
import Foundation
import Postgres

/// An approved change of mobile number: the number changes (and with it where PINs go), the old number
/// is told — without the new one — and a new PIN asked for the old number is moot.
enum MobileNumberChange {
    static func apply(_ ctx: StaffContext, _ c: PostgresConnection, _ approval: ApprovalDTO.Approval) throws {
        let current = try ApplicationStore.fetch(c, authorityID: ctx.authorityID, id: approval.applicationId, forUpdate: true)
        let state = current.state
        guard state.isOpen else {
            throw AppError.illegalTransition(current: current.state, action: "changing the mobile number")
        }
        guard let number = approval.mobileNumber else {
            // Erased with the application's personal data: nothing left to change to.
            throw AppError.conflict("approval_outdated", "The number asked for is no longer stored; ask again.")
        }
        try c.execute("""
            UPDATE application SET mobile_number = \(number), mobile_number_changed_at = now(), updated_at = now()
            WHERE authority_id = \(ctx.authorityID) AND id = \(current.id)
            """)
        for moot in try ApprovalStore.supersede(c, authorityID: ctx.authorityID, applicationID: current.id, kind: .pinReissue) {
            try ctx.audit(c, "application.approval_superseded", "application", current.id, detail: ["approval": moot.uuidString.lowercased()])
        }
        if let old = current.mobileNumber, old != number {
            let site = try c.query("SELECT name FROM site WHERE authority_id = \(ctx.authorityID) AND id = \(current.siteId)").first?.decode(String.self, at: 0)
            try SMSOutbox.enqueue(c, cipher: ctx.app.smsCipher, authorityID: ctx.authorityID, applicationID: current.id, assignmentID: nil, to: old, kind: .mobileNumberChanged,
                                  language: current.smsLanguage, values: SMSValues(site: site))
        }
    }
}
