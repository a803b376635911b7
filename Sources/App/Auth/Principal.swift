import Foundation

/// Staff roles (docs/ARCHITECTURE.md#actors).
public enum Role: String, Sendable, Codable, CaseIterable {
    case caseworker
    case supervisor
}

/// A logged-in member of staff, from the session cookie.
public struct UserPrincipal: Sendable {
    public let authorityID: UUID
    public let userID: UUID
    public let username: String
    public let displayName: String
    public let role: Role
    public let csrfToken: String
    let sessionTokenHash: [UInt8]
}

/// Who may call a route. Every route has exactly one entry in the route table (docs/ARCHITECTURE.md#actors), and the
/// authorization test walks that table for every role.
public enum Access: String, Sendable, CaseIterable {
    /// Anyone, no credentials (public status check, login, operations probes).
    case `public`
    /// A staff session: caseworker or supervisor.
    case caseworker
    /// A staff session with the supervisor role.
    case supervisor
    /// A box controller's bearer token.
    case box
    /// Operators' scrapers: open, or the bearer `METRICS_TOKEN` when configured.
    case metrics
    /// The SMS provider's delivery reports: its signature (or our shared secret) on the request.
    case provider
}
