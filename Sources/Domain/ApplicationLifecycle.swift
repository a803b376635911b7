import Foundation

/// An event that the lifecycle does not allow in the current state (a 409 in the API).
public struct IllegalTransition: Error, Sendable, Hashable, CustomStringConvertible {
    /// The state the application is in.
    public let state: ApplicationState
    /// The event that was refused.
    public let event: ApplicationEvent

    public init(state: ApplicationState, event: ApplicationEvent) {
        self.state = state
        self.event = event
    }

    public var description: String { "Event \(event.name) is not allowed in state \(state.rawValue)." }

    /// As the module's error type.
    public var domainError: DomainError { .illegalTransition(self) }
}

/// The one state machine of an application (docs/ARCHITECTURE.md#state-machine):
///
/// ```
/// registered ─sentToProduction─▶ in_production ─deliveryRecorded(box)─▶ delivered
/// registered ─deliveryRecorded(box)─▶ delivered          (no production step was recorded)
/// in_production | registered ─deliveryRecorded(counter)─▶ ready_at_counter
/// delivered ─compartmentAssigned─▶ assigned ─loaded─▶ ready_in_box ─pickedUp─▶ collected
/// assigned ─assignmentReleased─▶ delivered                (released by hand before loading)
/// ready_in_box ─deadlinePassed─▶ retrieval_due ─retrievedByStaff─▶ ready_at_counter
/// ready_in_box ─retrievedByStaff─▶ ready_at_counter        (staff emptied the compartment before the deadline)
/// delivered ─movedToCounter─▶ ready_at_counter ─handedOverAtCounter─▶ collected
/// any open state ─cancelled─▶ cancelled
/// ```
/// A counter delivery passes through `delivered` inside one transaction (delivered, then — pickup at
/// the counter — ready_at_counter), so it lands in `ready_at_counter` directly; the SMS
/// "ready at the counter" goes out with it. Guards on data (fee settled, compartment free) are the
/// caller's, checked in the same transaction — see ``FeeSchedule/requireSettledForBox(feeCents:settled:field:)``.
///
/// The box reports `retrieved` for a compartment whose assignment is due for retrieval (deadline passed, or the
/// application was cancelled with its document in the box); any document of it still `ready_in_box` goes to the
/// counter by the same event as one already `retrieval_due`, so both are listed here.
///
/// This table is the only list of transitions: `ApplicationTransitions` (App) writes a state only as the target
/// of ``next(_:_:)``, and only where the row is still in the source state.
public enum ApplicationLifecycle {
    /// The state after `event`, or ``IllegalTransition`` carrying the current state and the event.
    public static func next(_ state: ApplicationState, _ event: ApplicationEvent) throws(IllegalTransition) -> ApplicationState {
        if case .cancelled = event {
            guard state.isOpen else { throw IllegalTransition(state: state, event: event) }
            return .cancelled
        }
        switch (state, event) {
        case (.registered, .sentToProduction):
            return .inProduction
        case (.registered, .deliveryRecorded(.box)), (.inProduction, .deliveryRecorded(.box)):
            return .delivered
        case (.registered, .deliveryRecorded(.counter)), (.inProduction, .deliveryRecorded(.counter)):
            return .readyAtCounter
        case (.delivered, .compartmentAssigned):
            return .assigned
        case (.assigned, .assignmentReleased):
            return .delivered
        case (.assigned, .loaded):
            return .readyInBox
        case (.readyInBox, .pickedUp):
            return .collected
        case (.readyInBox, .deadlinePassed):
            return .retrievalDue
        case (.retrievalDue, .retrievedByStaff), (.readyInBox, .retrievedByStaff):
            return .readyAtCounter
        case (.delivered, .movedToCounter):
            return .readyAtCounter
        case (.readyAtCounter, .handedOverAtCounter):
            return .collected
        default:
            throw IllegalTransition(state: state, event: event)
        }
    }

    /// Like ``next(_:_:)`` but throwing the module's ``DomainError`` (`illegal_transition`).
    public static func apply(_ event: ApplicationEvent, to state: ApplicationState) throws(DomainError) -> ApplicationState {
        do {
            return try next(state, event)
        } catch {
            throw error.domainError
        }
    }

    /// The states in which `event` is allowed, in ``ApplicationState/allCases`` order.
    public static func sources(of event: ApplicationEvent) -> [ApplicationState] {
        ApplicationState.allCases.filter { (try? next($0, event)) != nil }
    }

    /// The events allowed in `state`.
    public static func allowedEvents(in state: ApplicationState) -> [ApplicationEvent] {
        ApplicationEvent.allCases.filter { (try? next(state, $0)) != nil }
    }
}
