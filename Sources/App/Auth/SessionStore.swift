import Crypto
import Foundation
import HTTPServer
import Postgres

/// Server-side sessions: the cookie carries `<authority id>.<random token>`; the database keeps only
/// the token's SHA-256. 30 minutes idle, 12 hours absolute (docs/ARCHITECTURE.md#sessions).
struct SessionStore: Sendable {
    static let cookieName = "pickupbox_session"
    static let idleTimeout: TimeInterval = 30 * 60
    static let absoluteLifetime: TimeInterval = 12 * 60 * 60

    let pool: PostgresPool
    let secureCookie: Bool

    /// The cookie's name: with `Secure`, the `__Host-` prefix pins it to this host and path `/`.
    var cookieName: String { secureCookie ? "__Host-" + Self.cookieName : Self.cookieName }

    /// Creates a session (a new id at every login) inside the caller's transaction.
    func create(on connection: PostgresConnection, authorityID: UUID, userID: UUID) throws -> (cookieValue: String, csrfToken: String) {
        let token = Crypto.token()
        let csrf = Crypto.token()
        let expires = Date().addingTimeInterval(Self.absoluteLifetime)
        try connection.execute("""
            INSERT INTO session (authority_id, token_hash, user_id, csrf_token, expires_at)
            VALUES (\(authorityID), \(Crypto.sha256(Array(token.utf8))), \(userID), \(csrf), \(expires))
            """)
        return (authorityID.uuidString.lowercased() + "." + token, csrf)
    }

    /// True when the request carries a well-formed session cookie (checked without the database).
    func hasCookie(_ request: Request) -> Bool {
        Self.cookie(named: cookieName, in: request.headers).flatMap(Self.split) != nil
    }

    /// The principal of a request's session cookie, or nil (no cookie, unknown, expired, user disabled).
    func principal(for request: Request) throws -> UserPrincipal? {
        guard let value = Self.cookie(named: cookieName, in: request.headers), let (authorityID, token) = Self.split(value) else { return nil }
        let hash = Crypto.sha256(Array(token.utf8))
        let rows = try pool.query("""
            SELECT u.id, u.username, u.display_name, u.role, s.csrf_token,
                   (s.last_seen_at < now() - interval '30 seconds') AS stale
            FROM session s JOIN app_user u ON u.authority_id = s.authority_id AND u.id = s.user_id
            WHERE s.authority_id = \(authorityID) AND s.token_hash = \(hash)
              AND s.expires_at > now() AND s.last_seen_at > now() - interval '30 minutes'
              AND u.disabled_at IS NULL
            """)
        guard let row = rows.first else { return nil }
        // An unknown role is a decoding error (500), never a caseworker by default.
        let role = try row.decode(Role.self, column: "role")
        if try row.decode(Bool.self, column: "stale") {
            // Sliding idle expiry, written at most twice a minute per session.
            try pool.execute("UPDATE session SET last_seen_at = now() WHERE authority_id = \(authorityID) AND token_hash = \(hash)")
        }
        return UserPrincipal(
            authorityID: authorityID, userID: try row.decode(UUID.self, column: "id"), username: try row.decode(String.self, column: "username"),
            displayName: try row.decode(String.self, column: "display_name"), role: role, csrfToken: try row.decode(String.self, column: "csrf_token"),
            sessionTokenHash: hash
        )
    }

    func delete(on connection: PostgresConnection, _ principal: UserPrincipal) throws {
        try connection.execute("DELETE FROM session WHERE authority_id = \(principal.authorityID) AND token_hash = \(principal.sessionTokenHash)")
    }

    func setCookie(_ value: String) -> String {
        "\(cookieName)=\(value); Path=/; Max-Age=\(Int(Self.absoluteLifetime)); HttpOnly; SameSite=Strict" + (secureCookie ? "; Secure" : "")
    }

    func clearCookie() -> String {
        "\(cookieName)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict" + (secureCookie ? "; Secure" : "")
    }

    static func cookie(named name: String, in headers: HTTPHeaders) -> String? {
        for header in headers.values("Cookie") {
            for part in header.split(separator: ";") {
                let pair = part.trimmingCharacters(in: .whitespaces)
                guard let eq = pair.firstIndex(of: "=") else { continue }
                if pair[..<eq] == name { return String(pair[pair.index(after: eq)...]) }
            }
        }
        return nil
    }

    static func split(_ value: String) -> (UUID, String)? {
        let parts = value.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let authority = UUID(uuidString: String(parts[0])), (20...100).contains(parts[1].utf8.count) else { return nil }
        return (authority, String(parts[1]))
    }
}

extension PostgresPool {
    @discardableResult
    func execute(_ query: PostgresQuery) throws -> Int {
        try withConnection { try $0.execute(query) }
    }
}
