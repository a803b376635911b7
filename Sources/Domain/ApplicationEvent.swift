import Foundation

/// Something that happens to an application and may move it to another state.
public enum ApplicationEvent: Sendable, Hashable, CustomStringConvertible {
    /// The application went to the Bundesdruckerei.
    case sentToProduction
    /// The document arrived (delivery scanned or imported).
    case deliveryRecorded(pickup: PickupMethod)
    /// A compartment was reserved (only with the fee settled: ``FeeSchedule/requireSettledForBox(feeCents:settled:field:)``).
    case compartmentAssigned
    /// Staff released the compartment by hand before loading.
    case assignmentReleased
    /// The box reported the compartment loaded and closed.
    case loaded
    /// The applicant took the document out of the box.
    case pickedUp
    /// The pickup deadline passed with the document still in the box.
    case deadlinePassed
    /// Staff took an uncollected document out of the box.
    case retrievedByStaff
    /// The document is offered at the counter instead of the box (applicant's wish, no compartment).
    case movedToCounter
    /// Handed over at the counter (to the applicant or a proxy with power of attorney).
    case handedOverAtCounter
    /// Withdrawn (reason recorded by the caller).
    case cancelled

    /// snake_case name, for errors and audit events.
    public var name: String {
        switch self {
        case .sentToProduction: "sent_to_production"
        case .deliveryRecorded(let pickup): "delivery_recorded(\(pickup.rawValue))"
        case .compartmentAssigned: "compartment_assigned"
        case .assignmentReleased: "assignment_released"
        case .loaded: "loaded"
        case .pickedUp: "picked_up"
        case .deadlinePassed: "deadline_passed"
        case .retrievedByStaff: "retrieved_by_staff"
        case .movedToCounter: "moved_to_counter"
        case .handedOverAtCounter: "handed_over_at_counter"
        case .cancelled: "cancelled"
        }
    }

    public var description: String { name }

    /// Every event, for exhaustive tests and tables.
    public static let allCases: [ApplicationEvent] = [
        .sentToProduction, .deliveryRecorded(pickup: .box), .deliveryRecorded(pickup: .counter),
        .compartmentAssigned, .assignmentReleased, .loaded, .pickedUp, .deadlinePassed,
        .retrievedByStaff, .movedToCounter, .handedOverAtCounter, .cancelled,
    ]
}
