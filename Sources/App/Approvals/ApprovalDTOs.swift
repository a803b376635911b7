import Domain
import Foundation

/// Request and response bodies of the four-eyes routes (docs/ARCHITECTURE.md#four-eyes), as in openapi.yaml.
enum ApprovalDTO {
    /// `POST /applications/{id}/mobile-number-changes`.
    struct MobileNumberChangeInput: Codable {
        var mobileNumber: String
    }

    struct StaffMember: Codable {
        var id: UUID
        var displayName: String
    }

    struct Approval: Codable {
        var id: UUID
        var applicationId: UUID
        var vorgangsnummer: String
        /// `mobile_number_change` or `pin_reissue`.
        var kind: ApprovalKind
        /// `pending`, `approved`, `rejected` or `superseded`.
        var state: ApprovalState
        /// The number asked for (mobile_number_change) or the number the PIN goes to (pin_reissue).
        var mobileNumber: String?
        /// The application's number now: the one a change replaces.
        var currentMobileNumber: String?
        var requestedBy: StaffMember
        var requestedAt: Date
        var decidedBy: StaffMember?
        var decidedAt: Date?
    }

    struct Page: Codable {
        var items: [Approval]
        var offset: Int
        var limit: Int
        var total: Int
    }
}
