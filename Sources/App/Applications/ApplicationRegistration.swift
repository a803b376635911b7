import Crypto
import Domain
import Foundation
import Postgres

/// A new application, checked field by field from `POST /applications`' body: every value is typed and
/// valid, so the store only writes it.
struct ApplicationRegistration {
    let siteID: UUID
    let documentType: DocumentType
    let issuance: Issuance
    let pickupMethod: PickupMethod
    let familyName: String
    let givenNames: String
    let dateOfBirth: DateOfBirth
    let mobileNumber: String?
    let needsAccessible: Bool
    let smsLanguage: String
    /// The old card's CAN as a keyed hash; the CAN itself is never stored.
    let canHash: [UInt8]?
    let feeCents: Int
    let feeExemption: FeeExemption?
    let feeSettled: Bool
    let householdGroup: UUID?
    /// A number from the authority's specialist software; nil: one is generated.
    let externalNumber: Vorgangsnummer?

    /// Checks the body; a bad field is a 400 that names it.
    init(_ body: ApplicationDTO.Create, authorityID: UUID, secretKey: [UInt8]) throws {
        siteID = body.siteId
        documentType = try Input.enumValue(DocumentType.self, body.documentType, field: "documentType")
        let issuance = try Input.enumValue(Issuance.self, body.issuance, field: "issuance")
        self.issuance = issuance
        pickupMethod = try Input.enumValue(PickupMethod.self, body.pickupMethod, field: "pickupMethod")
        familyName = try TextField.validate(body.familyName, field: "familyName")
        givenNames = try TextField.validate(body.givenNames, field: "givenNames")
        let today = Input.today()
        dateOfBirth = try Input.domain { () throws(DomainError) in try DateOfBirth(body.dateOfBirth, today: today, field: "dateOfBirth") }
        mobileNumber = try body.mobileNumber.map(Input.phone)
        if pickupMethod == .box && mobileNumber == nil {
            throw AppError.invalid("mobileNumber", "missing_field", "Box pickup needs a mobile number for the SMS with the PIN.")
        }
        needsAccessible = body.needsAccessibleCompartment ?? false
        smsLanguage = try Input.smsLanguage(body.smsLanguage)
        feeExemption = try Input.exemption(body.feeExemption)
        canHash = try body.oldDocumentCan.map { try Self.canHash($0, issuance: issuance, authorityID: authorityID, secretKey: secretKey) }
        externalNumber = try body.vorgangsnummer.map { given in
            try Input.domain { () throws(DomainError) in try Vorgangsnummer.parse(given, allowExternal: true, field: "vorgangsnummer") }
        }
        feeCents = FeeSchedule.feeCents(issuance: issuance, exemption: feeExemption, dateOfBirth: dateOfBirth, on: today)
        feeSettled = body.feeSettled ?? false
        householdGroup = body.householdGroup
    }

    /// The CAN of a renewal's old card, keyed per authority so equal CANs of two authorities differ.
    static func canHash(_ can: String, issuance: Issuance, authorityID: UUID, secretKey: [UInt8]) throws -> [UInt8] {
        try checkCAN(can, issuance: issuance)
        return CANHash.hmac(can, authorityID: authorityID, key: secretKey)
    }
}

extension ApplicationRegistration {
    /// A CAN belongs to the old card of a renewal and has 6 digits.
    static func checkCAN(_ can: String, issuance: Issuance?) throws {
        guard issuance == .renewal else { throw AppError.invalid("oldDocumentCan", "not_applicable", "A CAN belongs to the old card of a renewal.") }
        guard can.utf8.count == 6, can.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw AppError.invalid("oldDocumentCan", "invalid_can", "The CAN is the 6-digit number on the front of the old card.")
        }
    }
}

extension ApplicationStore {
    /// Writes a registered application with a free Vorgangsnummer: the given one (409 when taken) or a
    /// generated one, drawn again on a collision.
    static func insert(_ connection: PostgresConnection, authorityID: UUID, id: UUID, _ r: ApplicationRegistration) throws {
        let site = try connection.query("SELECT 1 FROM site WHERE authority_id = \(authorityID) AND id = \(r.siteID)")
        guard !site.isEmpty else { throw AppError.invalid("siteId", "unknown_site", "No such site.") }
        // Vorgangsnummern come from the OS CSPRNG (a local generator: no state shared between threads).
        var rng = SystemRandomNumberGenerator()
        var number = r.externalNumber ?? Vorgangsnummer.generate(using: &rng)
        // ON CONFLICT instead of a savepoint: a collision costs no extra round trips.
        for attempt in 0..<5 {
            let inserted = try connection.execute("""
                INSERT INTO application (authority_id, id, vorgangsnummer, site_id, document_type, issuance, family_name, given_names,
                    date_of_birth, mobile_number, pickup_method, needs_accessible, sms_language, old_can_hash, fee_cents, fee_exemption,
                    fee_settled, state, household_group)
                VALUES (\(authorityID), \(id), \(number.value), \(r.siteID), \(r.documentType.rawValue), \(r.issuance.rawValue),
                    \(r.familyName), \(r.givenNames), \(r.dateOfBirth.canonical), \(r.mobileNumber), \(r.pickupMethod.rawValue), \(r.needsAccessible),
                    \(r.smsLanguage), \(r.canHash), \(r.feeCents), \(r.feeExemption?.rawValue), \(r.feeSettled), \(ApplicationState.registered.rawValue),
                    \(r.householdGroup))
                ON CONFLICT (authority_id, vorgangsnummer) DO NOTHING
                """)
            if inserted == 1 { return }
            if r.externalNumber != nil {
                throw AppError.conflict("duplicate_vorgangsnummer", "An application with this Vorgangsnummer exists.", field: "vorgangsnummer")
            }
            // A generated number collided (1 in 10^13): draw another.
            guard attempt < 4 else { throw AppError.conflict("duplicate_vorgangsnummer", "No free Vorgangsnummer was found; try again.") }
            number = Vorgangsnummer.generate(using: &rng)
        }
    }
}
