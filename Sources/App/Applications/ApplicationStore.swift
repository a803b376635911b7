import Domain
import Foundation
import Postgres

/// The SQL that reads applications, beside the code that decodes its rows.
enum ApplicationStore {
    /// Every column ``decode(_:)`` reads, named: the joined assignment's, box's and compartment's carry prefixes.
    static let select = """
        SELECT a.id, a.vorgangsnummer, a.site_id, a.document_type, a.issuance, a.family_name, a.given_names, a.date_of_birth,
               a.mobile_number, a.pickup_method, a.needs_accessible, a.sms_language, a.old_can_hash IS NOT NULL AS has_old_can, a.fee_cents,
               a.fee_exemption, a.fee_settled, a.state, a.cancel_reason, a.household_group, a.pickup_deadline::text AS pickup_deadline,
               a.created_at, a.updated_at, a.collected_at, asg.id AS assignment_id, b.id AS box_id, b.name AS box_name,
               c.number AS compartment_number, asg.status AS assignment_status, a.contact_required, a.handover_recipient, a.proxy_name,
               a.mobile_number_changed_at, a.personal_data_erased_at, coalesce(asg.locked, false) AS assignment_locked
        FROM application a
        LEFT JOIN assignment asg ON asg.authority_id = a.authority_id AND asg.id = a.assignment_id
        LEFT JOIN compartment c ON c.authority_id = asg.authority_id AND c.id = asg.compartment_id
        LEFT JOIN box b ON b.authority_id = c.authority_id AND b.id = c.box_id
        """

    /// A row of ``select``, by column name.
    static func decode(_ row: PostgresRow) throws -> ApplicationDTO.Application {
        var assignment: ApplicationDTO.AssignmentInfo?
        if let assignmentID = try row.decode(UUID?.self, column: "assignment_id") {
            assignment = ApplicationDTO.AssignmentInfo(
                id: assignmentID, boxId: try row.decode(UUID.self, column: "box_id"), boxName: try row.decode(String.self, column: "box_name"),
                compartmentNumber: try row.decode(Int.self, column: "compartment_number"),
                status: try row.decode(AssignmentStatus.self, column: "assignment_status"), locked: try row.decode(Bool.self, column: "assignment_locked")
            )
        }
        var handover: ApplicationDTO.Handover?
        if let recipient = try row.decode(HandoverRecipient?.self, column: "handover_recipient") {
            handover = ApplicationDTO.Handover(recipient: recipient, proxyName: try row.decode(String?.self, column: "proxy_name"))
        }
        let mobile = try row.decode(String?.self, column: "mobile_number")
        return ApplicationDTO.Application(
            id: try row.decode(UUID.self, column: "id"),
            vorgangsnummer: try row.decode(String.self, column: "vorgangsnummer"),
            siteId: try row.decode(UUID.self, column: "site_id"),
            documentType: try row.decode(DocumentType.self, column: "document_type"),
            issuance: try row.decode(Issuance.self, column: "issuance"),
            familyName: try row.decode(String?.self, column: "family_name"),
            givenNames: try row.decode(String?.self, column: "given_names"),
            dateOfBirth: try row.decode(String?.self, column: "date_of_birth"),
            mobileNumber: mobile,
            mobileNumberDisplay: mobile.flatMap { try? PhoneNumber.parse($0, allowedCountryCodes: nil) }?.grouped,
            mobileNumberChangedAt: try row.decode(Date?.self, column: "mobile_number_changed_at"),
            pickupMethod: try row.decode(PickupMethod.self, column: "pickup_method"),
            needsAccessibleCompartment: try row.decode(Bool.self, column: "needs_accessible"),
            smsLanguage: try row.decode(String.self, column: "sms_language"),
            hasOldDocumentCan: try row.decode(Bool.self, column: "has_old_can"),
            fee: ApplicationDTO.Fee(amountCents: try row.decode(Int.self, column: "fee_cents"), exemption: try row.decode(String?.self, column: "fee_exemption"),
                                    settled: try row.decode(Bool.self, column: "fee_settled")),
            state: try row.decode(ApplicationState.self, column: "state"),
            cancelReason: try row.decode(String?.self, column: "cancel_reason"),
            householdGroup: try row.decode(UUID?.self, column: "household_group"),
            pickupDeadline: try row.decode(String?.self, column: "pickup_deadline"),
            contactRequired: try row.decode(Bool.self, column: "contact_required"),
            assignment: assignment,
            createdAt: try row.decode(Date.self, column: "created_at"),
            updatedAt: try row.decode(Date.self, column: "updated_at"),
            collectedAt: try row.decode(Date?.self, column: "collected_at"),
            handover: handover,
            personalDataErasedAt: try row.decode(Date?.self, column: "personal_data_erased_at")
        )
    }

    /// One application of the authority, or 404 (also for another authority's). `forUpdate` locks it against
    /// every other writer of it; `FOR NO KEY UPDATE`, since no writer changes its key: rows that name it
    /// (delivery items, documents), whose foreign keys take a key-share lock, need not wait for a writer
    /// (docs/ARCHITECTURE.md#deadline).
    static func fetch(_ connection: PostgresConnection, authorityID: UUID, id: UUID, forUpdate: Bool = false) throws -> ApplicationDTO.Application {
        let rows = try connection.query("\(unsafeSQL: select) WHERE a.authority_id = \(authorityID) AND a.id = \(id) \(unsafeSQL: forUpdate ? "FOR NO KEY UPDATE OF a" : "")")
        guard let row = rows.first else { throw AppError.notFound("application") }
        return try decode(row)
    }

    /// The path parameter `{id}` as a UUID; anything else is simply not found.
    static func id(_ text: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else { throw AppError.notFound("application") }
        return id
    }
}
