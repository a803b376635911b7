import Domain
import Foundation
import Postgres

/// The rows an application's export collects beside the application itself, each decoded by column name.
extension ApplicationExport {
    static func documents(_ c: PostgresConnection, authorityID a: UUID, applicationID id: UUID) throws -> [Document] {
        try c.query("""
            SELECT d.document_number, d.delivery_id, dl.delivery_note_number, dl.received_at FROM document d
            JOIN delivery dl ON dl.authority_id = d.authority_id AND dl.id = d.delivery_id
            WHERE d.authority_id = \(a) AND d.application_id = \(id) ORDER BY dl.received_at
            """).map { row in
            Document(documentNumber: try row.decode(String.self, column: "document_number"), deliveryId: try row.decode(UUID.self, column: "delivery_id"),
                     deliveryNoteNumber: try row.decode(String.self, column: "delivery_note_number"), receivedAt: try row.decode(Date.self, column: "received_at"))
        }
    }

    /// The items that name the application (served by `delivery_item_application_idx`, Migrations/0029).
    static func deliveryItemsQuery(authorityID a: UUID, applicationID id: UUID) -> PostgresQuery {
        """
        SELECT delivery_id, position, document_number, vorgangsnummer, result FROM delivery_item
        WHERE authority_id = \(a) AND application_id = \(id) ORDER BY delivery_id, position
        """
    }

    static func deliveryItems(_ c: PostgresConnection, authorityID a: UUID, applicationID id: UUID) throws -> [DeliveryItem] {
        try c.query(deliveryItemsQuery(authorityID: a, applicationID: id)).map { row in
            DeliveryItem(deliveryId: try row.decode(UUID.self, column: "delivery_id"), position: try row.decode(Int.self, column: "position"),
                         documentNumber: try row.decode(String.self, column: "document_number"), vorgangsnummer: try row.decode(String?.self, column: "vorgangsnummer"),
                         result: try row.decode(String.self, column: "result"))
        }
    }

    /// Its assignment now, and those its SMS and pickup sessions name (a released or retrieved one).
    static func assignments(_ c: PostgresConnection, authorityID a: UUID, applicationID id: UUID) throws -> [Assignment] {
        try c.query("""
            SELECT s.id, b.id AS box_id, b.name AS box_name, cp.number, s.status, (s.pin_digest IS NOT NULL OR s.pin_hmac IS NOT NULL) AS pin_stored, s.pin_expires_at,
                   s.failed_attempts, s.locked, s.assigned_at, s.loaded_at, s.collected_at, s.retrieved_at, s.released_at
            FROM assignment s
            JOIN compartment cp ON cp.authority_id = s.authority_id AND cp.id = s.compartment_id
            JOIN box b ON b.authority_id = cp.authority_id AND b.id = cp.box_id
            WHERE s.authority_id = \(a) AND s.id IN (
                SELECT assignment_id FROM application WHERE authority_id = \(a) AND id = \(id)
                UNION SELECT assignment_id FROM sms_message WHERE authority_id = \(a) AND application_id = \(id)
                UNION SELECT assignment_id FROM pickup_session WHERE authority_id = \(a) AND application_id = \(id))
            ORDER BY s.assigned_at
            """).map { row in
            Assignment(id: try row.decode(UUID.self, column: "id"), boxId: try row.decode(UUID.self, column: "box_id"),
                       boxName: try row.decode(String.self, column: "box_name"), compartmentNumber: try row.decode(Int.self, column: "number"),
                       status: try row.decode(AssignmentStatus.self, column: "status"), pinStored: try row.decode(Bool.self, column: "pin_stored"),
                       pinExpiresAt: try row.decode(Date?.self, column: "pin_expires_at"), failedAttempts: try row.decode(Int.self, column: "failed_attempts"),
                       locked: try row.decode(Bool.self, column: "locked"), assignedAt: try row.decode(Date.self, column: "assigned_at"),
                       loadedAt: try row.decode(Date?.self, column: "loaded_at"), collectedAt: try row.decode(Date?.self, column: "collected_at"),
                       retrievedAt: try row.decode(Date?.self, column: "retrieved_at"), releasedAt: try row.decode(Date?.self, column: "released_at"))
        }
    }

    static func pickupSessions(_ c: PostgresConnection, authorityID a: UUID, applicationID id: UUID) throws -> [PickupSession] {
        try c.query("""
            SELECT id, box_id, factors, created_at, expires_at, verified_at FROM pickup_session
            WHERE authority_id = \(a) AND application_id = \(id) ORDER BY created_at
            """).map { row in
            PickupSession(id: try row.decode(UUID.self, column: "id"), boxId: try row.decode(UUID.self, column: "box_id"),
                          factors: try row.decode([PickupFactor].self, column: "factors"), createdAt: try row.decode(Date.self, column: "created_at"),
                          expiresAt: try row.decode(Date.self, column: "expires_at"), verifiedAt: try row.decode(Date?.self, column: "verified_at"))
        }
    }

    static func smsMessages(_ c: PostgresConnection, authorityID a: UUID, applicationID id: UUID) throws -> [SMSMessage] {
        try c.query("""
            SELECT id, template, language, status, to_number, body_sealed IS NOT NULL OR body IS NOT NULL AS text_stored, attempts, provider, error,
                   created_at, sent_at, final_at
            FROM sms_message WHERE authority_id = \(a) AND application_id = \(id) ORDER BY created_at
            """).map { row in
            SMSMessage(id: try row.decode(UUID.self, column: "id"), kind: try row.decode(String.self, column: "template"),
                       language: try row.decode(String.self, column: "language"), status: try row.decode(SMSStatus.self, column: "status"),
                       to: try row.decode(String?.self, column: "to_number"), textStored: try row.decode(Bool.self, column: "text_stored"),
                       attempts: try row.decode(Int.self, column: "attempts"), provider: try row.decode(String?.self, column: "provider"),
                       error: try row.decode(String?.self, column: "error"), createdAt: try row.decode(Date.self, column: "created_at"),
                       sentAt: try row.decode(Date?.self, column: "sent_at"), finalAt: try row.decode(Date?.self, column: "final_at"))
        }
    }
}
