import Foundation

/// The state of an application (docs/ARCHITECTURE.md#state-machine); raw values are the `application.state` column values.
public enum ApplicationState: String, Sendable, Hashable, Codable, CaseIterable {
    case registered
    case inProduction = "in_production"
    case delivered
    case assigned
    case readyInBox = "ready_in_box"
    case collected
    case retrievalDue = "retrieval_due"
    case readyAtCounter = "ready_at_counter"
    case cancelled

    /// Not yet collected or cancelled: work remains and the application may still be cancelled.
    public var isOpen: Bool { !isTerminal }

    /// Collected or cancelled: no event leaves this state.
    public var isTerminal: Bool { self == .collected || self == .cancelled }
}

/// How the applicant collects the document.
public enum PickupMethod: String, Sendable, Hashable, Codable, CaseIterable {
    case box
    case counter
}

/// The kinds of document handed out (`application.document_type`).
public enum DocumentType: String, Sendable, Hashable, Codable, CaseIterable {
    /// Elektronischer Aufenthaltstitel (electronic residence permit).
    case eat
    /// Reiseausweis (travel document for refugees, stateless persons, foreigners).
    case travelDocument = "travel_document"
    case passport
    case idCard = "id_card"
}

/// What the public status check tells anyone who has the Vorgangsnummer: the coarse state only
/// (docs/ARCHITECTURE.md#status-check). A cancelled application is `unknown`, exactly like a number that does not exist.
public enum PublicStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case inProduction = "in_production"
    case readyInBox = "ready_in_box"
    case readyAtCounter = "ready_at_counter"
    case collected
    case unknown

    public init(_ state: ApplicationState) {
        switch state {
        case .registered, .inProduction, .delivered, .assigned: self = .inProduction
        case .readyInBox: self = .readyInBox
        // Past the box deadline the document goes back to the counter; the applicant goes there.
        case .retrievalDue, .readyAtCounter: self = .readyAtCounter
        case .collected: self = .collected
        case .cancelled: self = .unknown
        }
    }
}
