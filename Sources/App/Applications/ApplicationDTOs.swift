import Domain
import Foundation

/// Request and response bodies of the application routes (camelCase, as in openapi.yaml).
enum ApplicationDTO {
    struct Create: Codable {
        /// Only for numbers from the authority's specialist software; otherwise generated.
        var vorgangsnummer: String?
        var siteId: UUID
        var documentType: String
        var issuance: String
        var familyName: String
        var givenNames: String
        var dateOfBirth: String
        var mobileNumber: String?
        var pickupMethod: String
        var needsAccessibleCompartment: Bool?
        var smsLanguage: String?
        /// The old card's 6-digit CAN (renewal); kept only as a keyed hash.
        var oldDocumentCan: String?
        var feeExemption: String?
        var feeSettled: Bool?
        var householdGroup: UUID?
    }

    struct Update: Codable {
        var familyName: String?
        var givenNames: String?
        var mobileNumber: String?
        var pickupMethod: String?
        var needsAccessibleCompartment: Bool?
        var smsLanguage: String?
        var feeExemption: String?
        var feeSettled: Bool?
        var householdGroup: UUID?
        /// Staff clear (or set) the "call or write" flag that a failed "ready" SMS raises.
        var contactRequired: Bool?
    }

    struct Cancel: Codable {
        var reason: String
    }

    struct Fee: Codable {
        var amountCents: Int
        var exemption: String?
        var settled: Bool
    }

    struct AssignmentInfo: Codable {
        var id: UUID
        var boxId: UUID
        var boxName: String
        var compartmentNumber: Int
        var status: AssignmentStatus
        /// Failed pickup attempts locked it; a new PIN unlocks it.
        var locked: Bool
    }

    struct Application: Codable {
        var id: UUID
        var vorgangsnummer: String
        var siteId: UUID
        var documentType: DocumentType
        var issuance: Issuance
        var familyName: String?
        var givenNames: String?
        var dateOfBirth: String?
        var mobileNumber: String?
        /// For reading back: `+49 151 23456789`.
        var mobileNumberDisplay: String?
        /// When the mobile number last changed (a new PIN to it within 24 hours needs a second staff member).
        var mobileNumberChangedAt: Date?
        var pickupMethod: PickupMethod
        var needsAccessibleCompartment: Bool
        var smsLanguage: String
        var hasOldDocumentCan: Bool
        var fee: Fee
        var state: ApplicationState
        var cancelReason: String?
        var householdGroup: UUID?
        var pickupDeadline: String?
        /// A "ready" SMS failed: the applicant has no PIN and must be called or written to.
        var contactRequired: Bool
        var assignment: AssignmentInfo?
        var createdAt: Date
        var updatedAt: Date
        var collectedAt: Date?
        /// Who collected the document at the counter (absent for box pickups and open applications).
        var handover: Handover?
        /// When the personal data was erased (PRIVACY.md#erasure-on-schedule); the personal fields are absent from then on.
        var personalDataErasedAt: Date?
    }

    struct Handover: Codable {
        var recipient: HandoverRecipient
        var proxyName: String?
    }

    /// `POST /applications/{id}/handover`: what the caseworker checked at the counter.
    struct HandoverInput: Codable {
        /// `applicant` or `proxy`.
        var collectedBy: String
        var proxyName: String?
        var powerOfAttorneyChecked: Bool?
        var identityChecked: Bool
        var oldDocumentCollected: Bool?
        /// The fee was paid now; needed unless it is zero or was settled before.
        var feeSettled: Bool?
    }

    struct Page: Codable {
        var items: [Application]
        var offset: Int
        var limit: Int
        var total: Int
    }

    struct Event: Codable {
        var at: Date
        var action: String
        var actorKind: String
        var actorId: UUID?
        var requestId: String?
        var detail: [String: String]?
    }

    struct Letter: Codable {
        var vorgangsnummer: String
        /// Grouped for reading aloud and typing (`K7M-4XQ-9TR-C`).
        var vorgangsnummerDisplay: String
        /// The status page with the number: encode this in the letter's QR code.
        var statusUrl: String
        var familyName: String?
        var givenNames: String?
        var documentType: DocumentType
        var pickupMethod: PickupMethod
        var siteName: String
        var siteAddress: String
        /// A renewal brings the old document.
        var issuance: Issuance
        var fee: Fee
        /// What a pickup at the site's boxes asks for: the letter lists what to bring.
        var pickupSettings: SiteDTO.PickupSettings
        /// The applicant's language (the SMS's): the letter is written in it where the app has it (de, en).
        var smsLanguage: String
    }
}

/// Checks for free-text fields (names, reasons): trimmed, bounded, and free of control and
/// bidirectional-override characters (which can disguise text in letters and lists).
enum TextField {
    static func validate(_ value: String, field: String, maxLength: Int = 200) throws -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ServiceError.invalid(field, "missing_field", "The field must not be empty.") }
        // Unicode scalars, as PostgreSQL's length() counts them (the CHECK constraints use it).
        guard trimmed.unicodeScalars.count <= maxLength else { throw ServiceError.invalid(field, "too_long", "The field is longer than \(maxLength) characters.") }
        for scalar in trimmed.unicodeScalars {
            switch scalar.value {
            case 0..<0x20, 0x7F..<0xA0, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0xFEFF, 0xFFF9...0xFFFB:
                throw ServiceError.invalid(field, "invalid_characters", "The field contains control or text-direction characters.")
            default:
                continue
            }
        }
        return trimmed
    }

    /// At most `count` Unicode scalars of `text` (for storing raw input that may be too long).
    static func prefix(_ text: String, _ count: Int) -> String {
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: text.unicodeScalars.prefix(count))
        return String(scalars)
    }
}
