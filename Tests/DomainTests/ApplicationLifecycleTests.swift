import Foundation
import Testing
@testable import Domain

@Suite("ApplicationLifecycle")
struct ApplicationLifecycleTests {
    typealias S = ApplicationState

    /// The whole transition table (docs/ARCHITECTURE.md#state-machine), cancellations listed separately.
    static let allowed: [S: [ApplicationEvent: S]] = [
        .registered: [.sentToProduction: .inProduction, .deliveryRecorded(pickup: .box): .delivered,
                      .deliveryRecorded(pickup: .counter): .readyAtCounter],
        .inProduction: [.deliveryRecorded(pickup: .box): .delivered, .deliveryRecorded(pickup: .counter): .readyAtCounter],
        .delivered: [.compartmentAssigned: .assigned, .movedToCounter: .readyAtCounter],
        .assigned: [.loaded: .readyInBox, .assignmentReleased: .delivered],
        .readyInBox: [.pickedUp: .collected, .deadlinePassed: .retrievalDue, .retrievedByStaff: .readyAtCounter],
        .retrievalDue: [.retrievedByStaff: .readyAtCounter],
        .readyAtCounter: [.handedOverAtCounter: .collected],
        .collected: [:],
        .cancelled: [:],
    ]

    @Test func next_followsTheTransitionTableForEveryStateAndEvent()  throws {
        for state in S.allCases {
            for event in ApplicationEvent.allCases {
                let expected: S? = event == .cancelled ? (state.isOpen ? .cancelled : nil) : Self.allowed[state]?[event]
                do {
                    let result = try ApplicationLifecycle.next(state, event)
                    #expect(result == expected, "\(state) + \(event)")
                } catch {
                    #expect(expected == nil, "\(state) + \(event) refused")
                    #expect(error == IllegalTransition(state: state, event: event))
                }
            }
        }
    }

    @Test func happyPath_box() throws {
        var state = S.registered
        for event: ApplicationEvent in [.sentToProduction, .deliveryRecorded(pickup: .box), .compartmentAssigned, .loaded, .pickedUp] {
            state = try ApplicationLifecycle.next(state, event)
        }
        #expect(state == .collected)
    }

    @Test func happyPath_notCollectedFromTheBox() throws {
        var state = S.readyInBox
        for event: ApplicationEvent in [.deadlinePassed, .retrievedByStaff, .handedOverAtCounter] {
            state = try ApplicationLifecycle.next(state, event)
        }
        #expect(state == .collected)
    }

    @Test func deliveryStraightFromRegistered_isAllowed() throws {
        #expect(try ApplicationLifecycle.next(.registered, .deliveryRecorded(pickup: .box)) == .delivered)
    }

    @Test func counterDelivery_landsAtTheCounter() throws {
        #expect(try ApplicationLifecycle.next(.inProduction, .deliveryRecorded(pickup: .counter)) == .readyAtCounter)
    }

    @Test func assignmentReleased_returnsToDelivered() throws {
        #expect(try ApplicationLifecycle.next(.assigned, .assignmentReleased) == .delivered)
    }

    @Test func cancel_isAllowedFromEveryOpenStateOnly() throws {
        for state in S.allCases {
            if state.isOpen {
                #expect(try ApplicationLifecycle.next(state, .cancelled) == .cancelled)
            } else {
                #expect(throws: IllegalTransition(state: state, event: .cancelled)) { try ApplicationLifecycle.next(state, .cancelled) }
            }
        }
    }

    @Test func illegalTransition_carriesStateAndEvent()  throws {
        #expect(throws: IllegalTransition(state: .registered, event: .pickedUp)) { try ApplicationLifecycle.next(.registered, .pickedUp) }
        #expect(throws: IllegalTransition(state: .collected, event: .loaded)) { try ApplicationLifecycle.next(.collected, .loaded) }
        #expect(throws: IllegalTransition(state: .delivered, event: .loaded)) { try ApplicationLifecycle.next(.delivered, .loaded) }
        let error = IllegalTransition(state: .readyInBox, event: .deliveryRecorded(pickup: .box))
        #expect(error.description == "Event delivery_recorded(box) is not allowed in state ready_in_box.")
    }

    @Test func apply_throwsTheDomainError() {
        #expect(throws: DomainError.illegalTransition(IllegalTransition(state: .cancelled, event: .loaded))) {
            try ApplicationLifecycle.apply(.loaded, to: .cancelled)
        }
        #expect(DomainError.illegalTransition(IllegalTransition(state: .cancelled, event: .loaded)).code == "illegal_transition")
    }

    @Test func retrievedByStaff_movesADocumentStillReadyInTheBoxToTheCounter() throws {
        #expect(try ApplicationLifecycle.next(.readyInBox, .retrievedByStaff) == .readyAtCounter)
        #expect(ApplicationLifecycle.sources(of: .retrievedByStaff) == [.readyInBox, .retrievalDue])
    }

    @Test func sources_listTheStatesWhereTheEventIsAllowed() {
        #expect(ApplicationLifecycle.sources(of: .pickedUp) == [.readyInBox])
        #expect(ApplicationLifecycle.sources(of: .loaded) == [.assigned])
        #expect(ApplicationLifecycle.sources(of: .deadlinePassed) == [.readyInBox])
        #expect(ApplicationLifecycle.sources(of: .cancelled) == S.allCases.filter(\.isOpen))
        for event in ApplicationEvent.allCases {
            for state in S.allCases {
                #expect(ApplicationLifecycle.sources(of: event).contains(state) == ApplicationLifecycle.allowedEvents(in: state).contains(event))
            }
        }
    }

    @Test func terminalStates_allowNoEvents()  throws {
        #expect(ApplicationLifecycle.allowedEvents(in: .collected).isEmpty)
        #expect(ApplicationLifecycle.allowedEvents(in: .cancelled).isEmpty)
        #expect(ApplicationLifecycle.allowedEvents(in: .retrievalDue) == [.retrievedByStaff, .cancelled])
    }

    @Test func isOpenAndIsTerminal_partitionTheStates()  throws {
        #expect(S.allCases.filter(\.isTerminal) == [.collected, .cancelled])
        for state in S.allCases { #expect(state.isOpen != state.isTerminal) }
    }

    @Test func everyStateIsReachableFromRegistered()  throws {
        var reached: Set<S> = [.registered]
        var frontier: [S] = [.registered]
        while let state = frontier.popLast() {
            for event in ApplicationEvent.allCases {
                if let next = try? ApplicationLifecycle.next(state, event), reached.insert(next).inserted { frontier.append(next) }
            }
        }
        #expect(reached == Set(S.allCases))
    }

    @Test func rawValues_matchTheDatabase()  throws {
        #expect(S.allCases.map(\.rawValue) == ["registered", "in_production", "delivered", "assigned", "ready_in_box",
                                               "collected", "retrieval_due", "ready_at_counter", "cancelled"])
        #expect(PickupMethod.allCases.map(\.rawValue) == ["box", "counter"])
        #expect(DocumentType.allCases.map(\.rawValue) == ["eat", "travel_document", "passport", "id_card"])
        #expect(S(rawValue: "inProduction") == nil)
    }

    @Test func eventNames_areSnakeCase()  throws {
        #expect(ApplicationEvent.allCases.count == 12)
        #expect(Set(ApplicationEvent.allCases.map(\.name)).count == 12)
        #expect(ApplicationEvent.retrievedByStaff.name == "retrieved_by_staff")
    }
}
