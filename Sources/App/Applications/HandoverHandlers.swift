import Domain
import Foundation
import HTTPServer
import Postgres

/// `POST /api/v1/applications/{id}/handover`: a document waiting at the counter is handed to the
/// applicant or to a proxy with a power of attorney (seed 004). The checks are the Domain's
/// (``CounterHandover``); the state change is the lifecycle's `handedOverAtCounter`. One transaction
/// with the audit event `application.handed_over` — the same event as a pickup at the box, which
/// tells the authority's systems that the document left (biometric data is deleted at handover).
enum HandoverHandlers {
    static func handOver(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        let body = try ctx.request.decode(ApplicationDTO.HandoverInput.self)
        let recipient = try Input.enumValue(HandoverRecipient.self, body.collectedBy, field: "collectedBy")
        var proxyName: String?
        if recipient == .proxy, let given = body.proxyName, !given.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            proxyName = try TextField.validate(given, field: "proxyName")
        }
        let handover = CounterHandover(recipient: recipient, proxyName: proxyName, powerOfAttorneyChecked: body.powerOfAttorneyChecked ?? false,
                                       identityChecked: body.identityChecked, oldDocumentCollected: body.oldDocumentCollected ?? false,
                                       feePaidNow: body.feeSettled ?? false)
        return try ctx.transaction { connection in
            let current = try ApplicationStore.fetch(connection, authorityID: ctx.authorityID, id: id, forUpdate: true)
            let state = current.state
            guard ApplicationLifecycle.sources(of: .handedOverAtCounter).contains(state) else {
                throw AppError.illegalTransition(current: current.state, action: "handing it over at the counter")
            }
            try Input.domain { () throws(DomainError) in
                try handover.validate(issuance: current.issuance, feeCents: current.fee.amountCents, feeSettledBefore: current.fee.settled)
            }
            try ApplicationTransitions.apply(.handedOverAtCounter, to: id, from: state, connection, authorityID: ctx.authorityID, effects: .init(
                collectedNow: true, handover: .init(feePaidNow: handover.feePaidNow, recipient: recipient.rawValue, proxyName: proxyName)))
            var detail = ["place": "counter", "recipient": recipient.rawValue]
            if handover.feePaidNow && !current.fee.settled && current.fee.amountCents > 0 { detail["feePaid"] = "true" }
            try ctx.audit(connection, "application.handed_over", "application", id, detail: detail)
            return try .json(try ApplicationStore.fetch(connection, authorityID: ctx.authorityID, id: id))
        }
    }
}
