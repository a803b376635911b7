/// Where an assignment (a document's hold on a compartment) stands (`assignment.status`).
///
/// ```
/// assigned ─loaded─▶ loaded ─picked up─▶ collected
/// assigned ─released by hand─▶ released
/// loaded ─deadline passed, or the application cancelled─▶ retrieval_due ─retrieved by staff─▶ retrieved
/// ```
/// `assigned`, `loaded` and `retrieval_due` are live: the compartment is occupied.
public enum AssignmentStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case assigned
    case loaded
    case retrievalDue = "retrieval_due"
    case collected
    case retrieved
    case released

    /// The compartment is held (at most one live assignment per compartment).
    public var isLive: Bool { self == .assigned || self == .loaded || self == .retrievalDue }

    /// The document is in the box.
    public var isInBox: Bool { self == .loaded || self == .retrievalDue }
}
