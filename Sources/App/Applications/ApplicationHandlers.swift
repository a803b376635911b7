import Crypto
import Domain
import Foundation
import HTTPServer
import Postgres

/// Caseworkers' application routes (docs/ARCHITECTURE.md#applications): each decodes the request, lets
/// the checked input, the rules and the store do their part, and answers.
enum ApplicationHandlers {
    /// One application; the read is audited.
    static func read(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        try .json(try ctx.transaction { c in
            let application = try ApplicationStore.fetch(c, authorityID: ctx.authorityID, id: id)
            try ctx.auditRead(c, "application.read", applications: [id])
            return application
        })
    }

    static func create(_ ctx: StaffContext) throws -> Response {
        let registration = try ApplicationRegistration(try ctx.request.decode(ApplicationDTO.Create.self), authorityID: ctx.authorityID,
                                                       secretKey: ctx.app.secretKey)
        let id = Crypto.uuid()
        return try Idempotency.run(ctx, route: "POST /api/v1/applications") { connection in
            try ApplicationStore.insert(connection, authorityID: ctx.authorityID, id: id, registration)
            try ctx.audit(connection, "application.registered", "application", id, detail: ["pickupMethod": registration.pickupMethod.rawValue])
            var response = try Response.json(try ApplicationStore.fetch(connection, authorityID: ctx.authorityID, id: id), status: .created)
            response.headers.set("Location", "/api/v1/applications/\(id.uuidString.lowercased())")
            return response
        }
    }

    static func list(_ ctx: StaffContext, _ query: QueryParameters) throws -> Response {
        let search = try ApplicationSearch(query)
        return try ctx.transaction { connection in
            let page = try ApplicationStore.search(connection, authorityID: ctx.authorityID, search)
            // Who saw which applications in a result: the filters by name only (a searched name is personal data).
            try ctx.auditRead(connection, "application.listed", applications: page.items.map(\.id),
                              detail: search.given.isEmpty ? [:] : ["filters": search.given.joined(separator: ",")])
            return try .json(ApplicationDTO.Page(items: page.items, offset: search.offset, limit: search.limit, total: page.total))
        }
    }

    static func update(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        let changes = try ApplicationChanges(try ctx.request.decode(ApplicationDTO.Update.self))
        return try ctx.transaction { connection in
            let current = try ApplicationStore.fetch(connection, authorityID: ctx.authorityID, id: id, forUpdate: true)
            let plan = try changes.plan(for: current, today: Input.today())
            try ApplicationStore.update(connection, authorityID: ctx.authorityID, id: id, changes, plan)
            var detail = ["fields": changes.fieldNames]
            if plan.state != current.state {
                try ApplicationTransitions.apply(.movedToCounter, to: id, from: current.state, connection, authorityID: ctx.authorityID)
                detail["state"] = plan.state.rawValue
            }
            try ctx.audit(connection, "application.updated", "application", id, detail: detail)
            if plan.state == .readyAtCounter && current.state != .readyAtCounter, let number = changes.mobileNumber ?? current.mobileNumber {
                let site = try connection.query("SELECT name FROM site WHERE authority_id = \(ctx.authorityID) AND id = \(current.siteId)").first?.decode(String.self, at: 0)
                try SMSOutbox.enqueue(connection, cipher: ctx.app.smsCipher, authorityID: ctx.authorityID, applicationID: id, assignmentID: nil, to: number,
                                      kind: .readyAtCounter, language: changes.smsLanguage ?? current.smsLanguage, values: SMSValues(site: site))
            }
            return try .json(try ApplicationStore.fetch(connection, authorityID: ctx.authorityID, id: id))
        }
    }

    static func cancel(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        let body = try ctx.request.decode(ApplicationDTO.Cancel.self)
        let reason = try TextField.validate(body.reason, field: "reason", maxLength: 500)
        return try ctx.transaction { connection in
            try Assignments.lockBoxHoldingDocument(connection, authorityID: ctx.authorityID, applicationID: id)
            let current = try ApplicationStore.fetch(connection, authorityID: ctx.authorityID, id: id, forUpdate: true)
            let state = current.state
            do {
                _ = try ApplicationLifecycle.next(state, .cancelled)
            } catch {
                throw AppError.illegalTransition(current: current.state, action: "cancelling")
            }
            var keepAssignment = false
            if let assignment = current.assignment {
                if assignment.status == .assigned {
                    try Assignments.release(connection, authorityID: ctx.authorityID, assignmentID: assignment.id, applicationID: id)
                } else {
                    let sharing = try connection.query("""
                        SELECT count(*)::int8 FROM application
                        WHERE authority_id = \(ctx.authorityID) AND assignment_id = \(assignment.id) AND id <> \(id)
                        """).first?.decode(Int.self, at: 0) ?? 0
                    guard sharing == 0 else {
                        // The siblings' documents share the loaded compartment and its PIN: taking it out
                        // for one would strand the others.
                        throw AppError.conflict("household_shares_compartment",
                                                "Other documents of the household are in the same compartment; hand them out or retrieve the compartment first.",
                                                extra: ["state": current.state.rawValue])
                    }
                    // The document is in the box: it stays there until staff retrieve it.
                    try Assignments.markForRetrieval(connection, authorityID: ctx.authorityID, assignmentID: assignment.id)
                    keepAssignment = true
                }
            }
            try ApplicationTransitions.apply(.cancelled, to: id, from: state, connection, authorityID: ctx.authorityID,
                                             effects: .init(assignment: keepAssignment ? .keep : .clear, cancelReason: reason))
            try ctx.audit(connection, "application.cancelled", "application", id, detail: ["from": current.state.rawValue])
            return try .json(try ApplicationStore.fetch(connection, authorityID: ctx.authorityID, id: id))
        }
    }
}
