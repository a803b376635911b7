import Domain
import Foundation
import HTTPServer
import Postgres

/// `GET /api/v1/applications/{id}/export` (supervisor): everything the server holds about one
/// application — the application with its personal data, its documents and delivery items, its
/// compartment assignments and pickup sessions at the box, its SMS, its four-eyes requests and every
/// audit event about it — as one JSON document, for a request under Art. 15 GDPR. The export itself is audited
/// (`application.exported`). Secrets are named, never given: whether a CAN hash or a PIN HMAC is stored,
/// whether an SMS text is still stored (encrypted).
enum ApplicationExport {
    struct Export: Codable {
        var exportedAt: Date
        var authority: Authority
        var application: ApplicationDTO.Application
        var site: Site
        var retention: Retention
        var documents: [Document]
        var deliveryItems: [DeliveryItem]
        var assignments: [Assignment]
        var pickupSessions: [PickupSession]
        var smsMessages: [SMSMessage]
        var staffApprovals: [ApprovalDTO.Approval]
        var auditEvents: [AuditHandlers.Event]
    }

    struct Authority: Codable {
        var id: UUID
        var slug: String
        var name: String
    }

    struct Site: Codable {
        var id: UUID
        var name: String
        var address: String
    }

    /// When the personal data is (or was) erased under the policy in force.
    struct Retention: Codable {
        var personalDataErasedAt: Date?
        /// The latest day the erasure pass erases it (while its document is in a box, only the maximum age applies).
        var erasedBy: Date?
        var retentionDaysAfterClose: Int
        var retentionDaysMax: Int
    }

    struct Document: Codable {
        var documentNumber: String
        var deliveryId: UUID
        var deliveryNoteNumber: String
        var receivedAt: Date
    }

    struct DeliveryItem: Codable {
        var deliveryId: UUID
        var position: Int
        var documentNumber: String
        var vorgangsnummer: String?
        var result: String
    }

    struct Assignment: Codable {
        var id: UUID
        var boxId: UUID
        var boxName: String
        var compartmentNumber: Int
        var status: AssignmentStatus
        /// A PIN is stored (only as an HMAC; the PIN itself never).
        var pinStored: Bool
        var pinExpiresAt: Date?
        var failedAttempts: Int
        var locked: Bool
        var assignedAt: Date
        var loadedAt: Date?
        var collectedAt: Date?
        var retrievedAt: Date?
        var releasedAt: Date?
    }

    struct PickupSession: Codable {
        var id: UUID
        var boxId: UUID
        var factors: [PickupFactor]
        var createdAt: Date
        var expiresAt: Date
        var verifiedAt: Date?
    }

    struct SMSMessage: Codable {
        var id: UUID
        var kind: String
        var language: String
        var status: SMSStatus
        /// The full number (absent once erased).
        var to: String?
        /// The text is stored (encrypted) until the gateway has it; it is not part of the export.
        var textStored: Bool
        var attempts: Int
        var provider: String?
        var error: String?
        var createdAt: Date
        var sentAt: Date?
        var finalAt: Date?
    }

    static func export(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        let a = ctx.authorityID
        let export = try ctx.transaction { c -> Export in
            let application = try ApplicationStore.fetch(c, authorityID: a, id: id)
            guard let authority = try c.query("SELECT id, slug, name FROM authority WHERE id = \(a)").first,
                  let site = try c.query("SELECT id, name, address FROM site WHERE authority_id = \(a) AND id = \(application.siteId)").first,
                  let dates = try c.query("SELECT cancelled_at FROM application WHERE authority_id = \(a) AND id = \(id)").first else {
                throw AppError.notFound("application")
            }
            let assignments = try assignments(c, authorityID: a, applicationID: id)
            // The export is an event about the application too (written first, so that it is in the export).
            try ctx.auditRead(c, "application.exported", applications: [id])
            let events = try c.query("""
                SELECT id, chain_seq, hash, at, actor_kind, actor_id, action, entity_type, entity_id, request_id, client_address, detail::text AS detail
                FROM audit_event WHERE authority_id = \(a) AND entity_id = \(id) ORDER BY id
                """).map(AuditHandlers.event)
            let policy = ctx.app.configuration.retention
            return Export(
                exportedAt: Date(),
                authority: Authority(id: try authority.decode(UUID.self, column: "id"), slug: try authority.decode(String.self, column: "slug"),
                                     name: try authority.decode(String.self, column: "name")),
                application: application,
                site: Site(id: try site.decode(UUID.self, column: "id"), name: try site.decode(String.self, column: "name"),
                           address: try site.decode(String.self, column: "address")),
                retention: Retention(personalDataErasedAt: application.personalDataErasedAt,
                                     erasedBy: erasedBy(application, cancelledAt: try dates.decode(Date?.self, column: "cancelled_at"), assignments: assignments, policy: policy),
                                     retentionDaysAfterClose: policy.daysAfterClose, retentionDaysMax: policy.maxAgeDays),
                documents: try documents(c, authorityID: a, applicationID: id), deliveryItems: try deliveryItems(c, authorityID: a, applicationID: id),
                assignments: assignments, pickupSessions: try pickupSessions(c, authorityID: a, applicationID: id),
                smsMessages: try smsMessages(c, authorityID: a, applicationID: id),
                staffApprovals: try ApprovalStore.all(c, authorityID: a, applicationID: id), auditEvents: events
            )
        }
        var response = try Response.json(export)
        response.headers.set("Cache-Control", "no-store")
        response.headers.set("Content-Disposition", "attachment; filename=\"application-\(export.application.vorgangsnummer.filter { $0.isLetter || $0.isNumber }).json\"")
        return response
    }

    /// The policy's answer for this application (nil once erased).
    static func erasedBy(_ a: ApplicationDTO.Application, cancelledAt: Date?, assignments: [Assignment], policy: RetentionPolicy) -> Date? {
        guard a.personalDataErasedAt == nil else { return nil }
        let state = a.state
        let inBox = assignments.contains { $0.status.isInBox }
        return policy.erasureDue(state: state, closedAt: a.collectedAt ?? cancelledAt, registeredAt: a.createdAt, documentInBox: inBox)
    }
}
