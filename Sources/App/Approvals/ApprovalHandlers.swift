import Domain
import Foundation
import HTTPServer
import Postgres

/// Four-eyes requests (docs/ARCHITECTURE.md#four-eyes). A caseworker asks (`POST /applications/{id}/mobile-number-changes`,
/// or `POST /applications/{id}/pin` within 24 hours of a number change); nothing changes until a
/// supervisor who is not the requester approves with `POST /approvals/{id}/approve`, or refuses with
/// `…/reject`. Every step is audited on the application (ids only).
enum ApprovalHandlers {
    static func read(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        try .json(try ctx.app.pool.withConnection { try ApprovalStore.fetch($0, authorityID: ctx.authorityID, id: id) })
    }

    static func approvalID(_ text: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else { throw AppError.notFound("approval") }
        return id
    }

    static func list(_ ctx: StaffContext, _ query: QueryParameters) throws -> Response {
        let limit = try Input.intParameter(query, "limit", default: 50, range: 1...200)
        let offset = try Input.intParameter(query, "offset", default: 0, range: 0...100_000)
        let state = try query["state"].map { try Input.enumValue(ApprovalState.self, $0, field: "state") }
        let applicationID = try query["applicationId"].map { text -> UUID in
            guard let id = UUID(uuidString: text) else { throw AppError.invalid("applicationId", "invalid_parameter", "applicationId must be a UUID.") }
            return id
        }
        return try .json(try ctx.app.pool.withConnection {
            try ApprovalStore.list($0, authorityID: ctx.authorityID, state: state, applicationID: applicationID, limit: limit, offset: offset)
        })
    }

    static func requestMobileNumberChange(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        let body = try ctx.request.decode(ApprovalDTO.MobileNumberChangeInput.self)
        let number = try Input.phone(body.mobileNumber)
        return try ctx.transaction { c in
            let current = try ApplicationStore.fetch(c, authorityID: ctx.authorityID, id: id, forUpdate: true)
            let state = current.state
            guard state.isOpen else {
                throw AppError.illegalTransition(current: current.state, action: "changing the mobile number")
            }
            guard current.personalDataErasedAt == nil else { throw AppError.personalDataErased("its mobile number cannot be entered again") }
            guard StaffApproval.mobileNumberChangeNeedsApproval(in: state) else {
                throw AppError.conflict("approval_not_needed", "Before delivery the number is changed directly (PATCH the application).", extra: ["state": current.state.rawValue])
            }
            guard number != current.mobileNumber else {
                throw AppError.conflict("mobile_number_unchanged", "This is the application's mobile number already.", field: "mobileNumber")
            }
            let request = try ApprovalStore.request(c, authorityID: ctx.authorityID, applicationID: id, kind: .mobileNumberChange, mobileNumber: number,
                                                    requestedBy: ctx.user.userID)
            for old in request.superseded {
                try ctx.audit(c, "application.approval_superseded", "application", id, detail: ["approval": old.uuidString.lowercased()])
            }
            try ctx.audit(c, "application.mobile_number_change_requested", "application", id, detail: ["approval": request.id.uuidString.lowercased()])
            return try .json(try ApprovalStore.fetch(c, authorityID: ctx.authorityID, id: request.id), status: .accepted)
        }
    }

    static func decide(_ ctx: StaffContext, _ id: UUID, _ decision: ApprovalDecision) throws -> Response {
        try ctx.transaction { c in
            // The application first, then the request: the order every writer of both takes (no deadlock).
            // A new PIN writes the document's assignment: the box holding it before both, as every writer
            // of a document in a box (docs/ARCHITECTURE.md#deadline).
            let pending = try ApprovalStore.fetch(c, authorityID: ctx.authorityID, id: id)
            let applicationID = pending.applicationId
            if decision == .approve && pending.kind == .pinReissue {
                try Assignments.lockBoxHoldingDocument(c, authorityID: ctx.authorityID, applicationID: applicationID)
            }
            _ = try ApplicationStore.fetch(c, authorityID: ctx.authorityID, id: applicationID, forUpdate: true)
            let approval = try ApprovalStore.fetch(c, authorityID: ctx.authorityID, id: id, forUpdate: true)
            let state = approval.state, kind = approval.kind
            let result: ApprovalState
            do throws(ApprovalRefusal) {
                result = try StaffApproval.decide(decision, state: state, requester: approval.requestedBy.id, decider: ctx.user.userID)
            } catch {
                switch error {
                case .sameStaffMember:
                    throw AppError(.forbidden, "second_staff_member_required", "A second staff member must decide this; you asked for it yourself.")
                case .notPending:
                    throw AppError.conflict("approval_not_pending", "This request was decided or replaced already.", extra: ["state": approval.state.rawValue])
                }
            }
            if decision == .approve {
                switch kind {
                case .mobileNumberChange: try MobileNumberChange.apply(ctx, c, approval)
                case .pinReissue: try PinHandlers.approve(ctx, c, approval)
                }
            }
            try ApprovalStore.record(c, authorityID: ctx.authorityID, id: id, state: result, decidedBy: ctx.user.userID)
            try ctx.audit(c, "application.\(kind.rawValue)_\(result.rawValue)", "application", approval.applicationId,
                          detail: ["approval": id.uuidString.lowercased(), "requestedBy": approval.requestedBy.id.uuidString.lowercased()])
            return try .json(try ApprovalStore.fetch(c, authorityID: ctx.authorityID, id: id))
        }
    }
}
