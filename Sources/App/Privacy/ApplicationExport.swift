import Domain
import Foundation
import HTTPServer
import Postgres

/// `GET /api/v1/applications/{id}/export` (supervisor): everything the server holds about one
/// application — the application with its personal data, its documents and delivery items, its
/// compartment assignments and pickup sessions at the box, its SMS and every audit event about it — as
/// one JSON document, for a request under Art. 15 GDPR. The export itself is audited
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
            let documents = try c.query("""
                SELECT d.document_number, d.delivery_id, dl.delivery_note_number, dl.received_at FROM document d
                JOIN delivery dl ON dl.authority_id = d.authority_id AND dl.id = d.delivery_id
                WHERE d.authority_id = \(a) AND d.application_id = \(id) ORDER BY dl.received_at
                """).map { row in
                Document(documentNumber: try row.decode(String.self, at: 0), deliveryId: try row.decode(UUID.self, at: 1),
                         deliveryNoteNumber: try row.decode(String.self, at: 2), receivedAt: try row.decode(Date.self, at: 3))
            }
            let items = try c.query("""
                SELECT delivery_id, position, document_number, vorgangsnummer, result FROM delivery_item
                WHERE authority_id = \(a) AND application_id = \(id) ORDER BY delivery_id, position
                """).map { row in
                DeliveryItem(deliveryId: try row.decode(UUID.self, at: 0), position: try row.decode(Int.self, at: 1), documentNumber: try row.decode(String.self, at: 2),
                             vorgangsnummer: try row.decode(String?.self, at: 3), result: try row.decode(String.self, at: 4))
            }
            // Its assignment now, and those its SMS and pickup sessions name (a released or retrieved one).
            let assignments = try c.query("""
                SELECT s.id, b.id, b.name, cp.number, s.status, s.pin_hmac IS NOT NULL, s.pin_expires_at, s.failed_attempts, s.locked,
                       s.assigned_at, s.loaded_at, s.collected_at, s.retrieved_at, s.released_at
                FROM assignment s
                JOIN compartment cp ON cp.authority_id = s.authority_id AND cp.id = s.compartment_id
                JOIN box b ON b.authority_id = cp.authority_id AND b.id = cp.box_id
                WHERE s.authority_id = \(a) AND s.id IN (
                    SELECT assignment_id FROM application WHERE authority_id = \(a) AND id = \(id)
                    UNION SELECT assignment_id FROM sms_message WHERE authority_id = \(a) AND application_id = \(id)
                    UNION SELECT assignment_id FROM pickup_session WHERE authority_id = \(a) AND application_id = \(id))
                ORDER BY s.assigned_at
                """).map { row in
                Assignment(id: try row.decode(UUID.self, at: 0), boxId: try row.decode(UUID.self, at: 1), boxName: try row.decode(String.self, at: 2),
                           compartmentNumber: try row.decode(Int.self, at: 3), status: try row.decode(AssignmentStatus.self, at: 4), pinStored: try row.decode(Bool.self, at: 5),
                           pinExpiresAt: try row.decode(Date?.self, at: 6), failedAttempts: try row.decode(Int.self, at: 7), locked: try row.decode(Bool.self, at: 8),
                           assignedAt: try row.decode(Date.self, at: 9), loadedAt: try row.decode(Date?.self, at: 10), collectedAt: try row.decode(Date?.self, at: 11),
                           retrievedAt: try row.decode(Date?.self, at: 12), releasedAt: try row.decode(Date?.self, at: 13))
            }
            let sessions = try c.query("""
                SELECT id, box_id, factors, created_at, expires_at, verified_at FROM pickup_session
                WHERE authority_id = \(a) AND application_id = \(id) ORDER BY created_at
                """).map { row in
                PickupSession(id: try row.decode(UUID.self, at: 0), boxId: try row.decode(UUID.self, at: 1), factors: try row.decode([PickupFactor].self, at: 2),
                              createdAt: try row.decode(Date.self, at: 3), expiresAt: try row.decode(Date.self, at: 4), verifiedAt: try row.decode(Date?.self, at: 5))
            }
            let messages = try c.query("""
                SELECT id, template, language, status, to_number, body_sealed IS NOT NULL OR body IS NOT NULL, attempts, provider, error,
                       created_at, sent_at, final_at
                FROM sms_message WHERE authority_id = \(a) AND application_id = \(id) ORDER BY created_at
                """).map { row in
                SMSMessage(id: try row.decode(UUID.self, at: 0), kind: try row.decode(String.self, at: 1), language: try row.decode(String.self, at: 2),
                           status: try row.decode(SMSStatus.self, at: 3), to: try row.decode(String?.self, at: 4), textStored: try row.decode(Bool.self, at: 5),
                           attempts: try row.decode(Int.self, at: 6), provider: try row.decode(String?.self, at: 7), error: try row.decode(String?.self, at: 8),
                           createdAt: try row.decode(Date.self, at: 9), sentAt: try row.decode(Date?.self, at: 10), finalAt: try row.decode(Date?.self, at: 11))
            }
            // The export is an event about the application too (written first, so that it is in the export).
            try ctx.auditRead(c, "application.exported", applications: [id])
            let events = try c.query("""
                SELECT id, chain_seq, hash, at, actor_kind, actor_id, action, entity_type, entity_id, request_id, client_address, detail::text
                FROM audit_event WHERE authority_id = \(a) AND entity_id = \(id) ORDER BY id
                """).map(AuditHandlers.event)
            let policy = ctx.app.configuration.retention
            return Export(
                exportedAt: Date(),
                authority: Authority(id: try authority.decode(UUID.self, at: 0), slug: try authority.decode(String.self, at: 1), name: try authority.decode(String.self, at: 2)),
                application: application,
                site: Site(id: try site.decode(UUID.self, at: 0), name: try site.decode(String.self, at: 1), address: try site.decode(String.self, at: 2)),
                retention: Retention(personalDataErasedAt: application.personalDataErasedAt,
                                     erasedBy: erasedBy(application, cancelledAt: try dates.decode(Date?.self, at: 0), assignments: assignments, policy: policy),
                                     retentionDaysAfterClose: policy.daysAfterClose, retentionDaysMax: policy.maxAgeDays),
                documents: documents, deliveryItems: items, assignments: assignments, pickupSessions: sessions, smsMessages: messages, auditEvents: events
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
