import Domain
import Foundation
import Postgres

/// The SQL that reads applications, beside the code that decodes its rows.
enum ApplicationStore {
    static let select = """
        SELECT a.id, a.vorgangsnummer, a.site_id, a.document_type, a.issuance, a.family_name, a.given_names, a.date_of_birth,
               a.mobile_number, a.pickup_method, a.needs_accessible, a.sms_language, a.old_can_hash IS NOT NULL, a.fee_cents,
               a.fee_exemption, a.fee_settled, a.state, a.cancel_reason, a.household_group, a.pickup_deadline::text,
               a.created_at, a.updated_at, a.collected_at, asg.id, b.id, b.name, c.number, asg.status, a.contact_required,
               a.handover_recipient, a.proxy_name, a.mobile_number_changed_at, a.personal_data_erased_at, coalesce(asg.locked, false)
        FROM application a
        LEFT JOIN assignment asg ON asg.authority_id = a.authority_id AND asg.id = a.assignment_id
        LEFT JOIN compartment c ON c.authority_id = asg.authority_id AND c.id = asg.compartment_id
        LEFT JOIN box b ON b.authority_id = c.authority_id AND b.id = c.box_id
        """

    /// `offset`: columns before the application's (a window count, for lists).
    static func decode(_ row: PostgresRow, offset o: Int = 0) throws -> ApplicationDTO.Application {
        var assignment: ApplicationDTO.AssignmentInfo?
        if let assignmentID = try row.decode(UUID?.self, at: o + 23) {
            assignment = ApplicationDTO.AssignmentInfo(
                id: assignmentID, boxId: try row.decode(UUID.self, at: o + 24), boxName: try row.decode(String.self, at: o + 25),
                compartmentNumber: try row.decode(Int.self, at: o + 26), status: try row.decode(AssignmentStatus.self, at: o + 27),
                locked: try row.decode(Bool.self, at: o + 33)
            )
        }
        var handover: ApplicationDTO.Handover?
        if let recipient = try row.decode(HandoverRecipient?.self, at: o + 29) {
            handover = ApplicationDTO.Handover(recipient: recipient, proxyName: try row.decode(String?.self, at: o + 30))
        }
        let mobile = try row.decode(String?.self, at: o + 8)
        return ApplicationDTO.Application(
            id: try row.decode(UUID.self, at: o + 0),
            vorgangsnummer: try row.decode(String.self, at: o + 1),
            siteId: try row.decode(UUID.self, at: o + 2),
            documentType: try row.decode(DocumentType.self, at: o + 3),
            issuance: try row.decode(Issuance.self, at: o + 4),
            familyName: try row.decode(String?.self, at: o + 5),
            givenNames: try row.decode(String?.self, at: o + 6),
            dateOfBirth: try row.decode(String?.self, at: o + 7),
            mobileNumber: mobile,
            mobileNumberDisplay: mobile.flatMap { try? PhoneNumber.parse($0, allowedCountryCodes: nil) }?.grouped,
            mobileNumberChangedAt: try row.decode(Date?.self, at: o + 31),
            pickupMethod: try row.decode(PickupMethod.self, at: o + 9),
            needsAccessibleCompartment: try row.decode(Bool.self, at: o + 10),
            smsLanguage: try row.decode(String.self, at: o + 11),
            hasOldDocumentCan: try row.decode(Bool.self, at: o + 12),
            fee: ApplicationDTO.Fee(amountCents: try row.decode(Int.self, at: o + 13), exemption: try row.decode(String?.self, at: o + 14), settled: try row.decode(Bool.self, at: o + 15)),
            state: try row.decode(ApplicationState.self, at: o + 16),
            cancelReason: try row.decode(String?.self, at: o + 17),
            householdGroup: try row.decode(UUID?.self, at: o + 18),
            pickupDeadline: try row.decode(String?.self, at: o + 19),
            contactRequired: try row.decode(Bool.self, at: o + 28),
            assignment: assignment,
            createdAt: try row.decode(Date.self, at: o + 20),
            updatedAt: try row.decode(Date.self, at: o + 21),
            collectedAt: try row.decode(Date?.self, at: o + 22),
            handover: handover,
            personalDataErasedAt: try row.decode(Date?.self, at: o + 32)
        )
    }

    /// One application of the authority, or 404 (also for another authority's).
    static func fetch(_ connection: PostgresConnection, authorityID: UUID, id: UUID, forUpdate: Bool = false) throws -> ApplicationDTO.Application {
        let rows = try connection.query("\(unsafeSQL: select) WHERE a.authority_id = \(authorityID) AND a.id = \(id) \(unsafeSQL: forUpdate ? "FOR UPDATE OF a" : "")")
        guard let row = rows.first else { throw AppError.notFound("application") }
        return try decode(row)
    }

    /// The path parameter `{id}` as a UUID; anything else is simply not found.
    static func id(_ text: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else { throw AppError.notFound("application") }
        return id
    }
}
