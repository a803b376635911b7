import Foundation

/// What one staff member may not finish alone (docs/ARCHITECTURE.md#four-eyes): once a document is delivered, changing the
/// applicant's mobile number, and sending a new PIN to a number changed within the last 24 hours. Either
/// would let one insider redirect the PIN of a loaded document to a phone of their choosing.
public enum ApprovalKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// A new mobile number for an application whose document was delivered.
    case mobileNumberChange = "mobile_number_change"
    /// A new PIN for an application whose mobile number changed within ``StaffApproval/recentNumberChange``.
    case pinReissue = "pin_reissue"
}

/// Where an approval request stands (`staff_approval.state`).
public enum ApprovalState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Asked for; nothing has changed yet.
    case pending
    /// A second staff member approved it, and it took effect.
    case approved
    /// A second staff member refused it; nothing changed.
    case rejected
    /// A newer request of the same kind replaced it, or an approved number change made it moot.
    case superseded
}

/// A supervisor's answer to a pending request.
public enum ApprovalDecision: String, Sendable, Hashable, CaseIterable {
    case approve
    case reject

    /// The state the request ends in.
    public var resultingState: ApprovalState { self == .approve ? .approved : .rejected }
}

/// Why a decision on an approval request is refused.
public enum ApprovalRefusal: String, Error, Sendable, Hashable, CaseIterable {
    /// The decider asked for it themself: four eyes means two people.
    case sameStaffMember = "second_staff_member_required"
    /// The request was decided or superseded already.
    case notPending = "approval_not_pending"
}

/// The four-eyes rules (docs/ARCHITECTURE.md#four-eyes), without I/O.
public enum StaffApproval {
    /// A number changed more recently than this needs a second staff member before a new PIN goes to it.
    public static let recentNumberChange: TimeInterval = 24 * 3600

    /// Before delivery nothing can be collected with the number, so one caseworker may change it; from
    /// delivery on (box or counter, until collected or cancelled) a change needs a second staff member.
    public static func mobileNumberChangeNeedsApproval(in state: ApplicationState) -> Bool {
        switch state {
        case .registered, .inProduction: false
        case .delivered, .assigned, .readyInBox, .retrievalDue, .readyAtCounter: true
        case .collected, .cancelled: true
        }
    }

    /// A new PIN to a number changed within the last 24 hours (by approval or, before delivery, directly)
    /// needs a second staff member; any other new PIN does not.
    public static func pinReissueNeedsApproval(numberChangedAt: Date?, now: Date) -> Bool {
        guard let changed = numberChangedAt else { return false }
        return now.timeIntervalSince(changed) < recentNumberChange
    }

    /// Checks that `decider` may decide a request in `state` asked for by `requester`; returns the state it
    /// ends in. The role (supervisor) is the route's to check; this is the part no role can waive.
    public static func decide(_ decision: ApprovalDecision, state: ApprovalState, requester: UUID, decider: UUID) throws(ApprovalRefusal) -> ApprovalState {
        guard state == .pending else { throw .notPending }
        guard requester != decider else { throw .sameStaffMember }
        return decision.resultingState
    }
}
