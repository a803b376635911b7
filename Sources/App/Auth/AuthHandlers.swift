import Foundation
import HTTPServer
import Postgres

/// `POST /api/v1/auth/login`, `POST /api/v1/auth/logout`, `GET /api/v1/auth/me`.
enum AuthHandlers {
    struct LoginRequest: Codable {
        /// The authority's short name (slug), e.g. "dortmund".
        let authority: String
        let username: String
        let password: String
    }

    struct SessionInfo: Codable {
        let user: UserInfo
        let csrfToken: String
    }

    /// `GET /api/v1/auth/session`: whether the request carries a live session, without a 401 when not.
    struct SessionState: Codable {
        let authenticated: Bool
        let user: UserInfo?
        let csrfToken: String?
    }

    struct UserInfo: Codable {
        let id: UUID
        let authorityId: UUID
        let username: String
        let displayName: String
        let role: Role
    }

    static func me(_ ctx: StaffContext) throws -> Response {
        try .json(SessionInfo(user: UserInfo(ctx.user), csrfToken: ctx.user.csrfToken))
    }

    /// The web app asks this first: "not logged in" is an answer here, not an error.
    static func session(_ app: Application, _ request: Request) throws -> Response {
        guard let user = try app.sessions.principal(for: request) else {
            return try .json(SessionState(authenticated: false, user: nil, csrfToken: nil))
        }
        return try .json(SessionState(authenticated: true, user: UserInfo(user), csrfToken: user.csrfToken))
    }

    static let invalidCredentials = AppError(.unauthorized, "invalid_credentials", "Authority, username or password is wrong.")

    static func login(_ app: Application, _ request: Request) throws -> Response {
        let clientAddress = app.clientAddress(request)
        let addressKey = LoginThrottle.addressKey(TrustedProxies.limiterKey(clientAddress))
        // A blocked address is refused before anything is read or looked up (and counts against no account).
        if let wait = app.throttle.cachedBlock(address: addressKey) {
            throw AppError.tooManyRequests(retryAfterSeconds: wait, "Too many failed logins; try again later.")
        }
        let body = try request.decode(LoginRequest.self)
        let username = body.username.lowercased()
        guard (1...64).contains(body.authority.utf8.count), (1...64).contains(username.utf8.count), (1...PasswordHasher.maxPasswordBytes).contains(body.password.utf8.count) else {
            throw invalidCredentials
        }
        // Look the account up — and whether its user logged in from this address recently — and check the
        // throttle before spending time on the hash.
        let account = try app.pool.withConnection {
            try LoginAccount.find($0, authority: body.authority.lowercased(), username: username, clientAddress: clientAddress)
        }
        // Unknown authorities and users count on the address only: they leave no rows behind.
        var accountKey: String?
        if let account, account.user != nil {
            accountKey = LoginThrottle.accountKey(account.authority, username, knownAddress: account.knownAddress ? addressKey : nil)
        }
        if let wait = try app.pool.transaction({ try app.throttle.reserveAttempt(account: accountKey, address: addressKey, on: $0) }) {
            throw AppError.tooManyRequests(retryAfterSeconds: wait, "Too many failed logins; try again later.")
        }
        // Unknown authority or user: verify against a dummy hash so the answer takes as long.
        let verified = PasswordHasher.verify(body.password, against: account?.hash ?? PasswordHasher.dummyHash)
        guard verified, let account, let userID = account.user, let accountKey, !account.disabled, let role = account.role else {
            // The attempt was counted already; only the audit event is left to write.
            if let account { try auditFailure(app, request, account) }
            throw invalidCredentials
        }
        let session = try app.pool.transaction { connection in
            try app.throttle.recordSuccess(account: accountKey, address: addressKey, on: connection)
            let session = try app.sessions.create(on: connection, authorityID: account.authority, userID: userID)
            try Audit.record(connection, authorityID: account.authority, actor: .user(userID), action: "auth.login", entityType: "app_user",
                             entityID: userID, requestID: request.requestID, clientAddress: app.auditAddress(request))
            return session
        }
        var response = try Response.json(SessionInfo(
            user: UserInfo(id: userID, authorityId: account.authority, username: username, displayName: account.name ?? username, role: role),
            csrfToken: session.csrfToken
        ))
        response.headers.add("Set-Cookie", app.sessions.setCookie(session.cookieValue))
        return response
    }

    private static func auditFailure(_ app: Application, _ request: Request, _ account: LoginAccount) throws {
        _ = try app.pool.transaction { connection in
            try Audit.record(connection, authorityID: account.authority, actor: .system, action: "auth.login_failed", entityType: "app_user",
                             entityID: account.user, requestID: request.requestID, clientAddress: app.auditAddress(request))
        }
    }

    static func logout(_ ctx: StaffContext) throws -> Response {
        try ctx.transaction { connection in
            try ctx.app.sessions.delete(on: connection, ctx.user)
            try ctx.audit(connection, "auth.logout", "app_user", ctx.user.userID)
        }
        var response = Response(status: .noContent)
        response.headers.add("Set-Cookie", ctx.app.sessions.clearCookie())
        return response
    }
}

/// An account as the login looks it up: the authority of the slug, its user of the name (if any), and
/// whether that user logged in from the client's address recently.
struct LoginAccount {
    let authority: UUID
    let user: UUID?
    let hash: String?
    /// nil for an unknown user, and for a role this server does not know (refused like a wrong password).
    let role: Role?
    let name: String?
    let disabled: Bool
    let knownAddress: Bool

    /// nil: no authority has this slug.
    static func find(_ connection: PostgresConnection, authority slug: String, username: String, clientAddress: String) throws -> LoginAccount? {
        guard let row = try connection.query("""
            SELECT a.id AS authority_id, u.id AS user_id, u.password_hash, u.role, u.display_name, u.disabled_at IS NOT NULL AS disabled,
                   EXISTS (SELECT 1 FROM audit_event e
                           WHERE e.authority_id = a.id AND e.entity_type = 'app_user' AND e.entity_id = u.id AND e.action = 'auth.login'
                             AND e.client_address = \(clientAddress)
                             AND e.at > now() - make_interval(days => \(LoginThrottle.knownAddressDays))) AS known_address
            FROM authority a LEFT JOIN app_user u ON u.authority_id = a.id AND u.username = \(username)
            WHERE a.slug = \(slug)
            """).first else { return nil }
        return LoginAccount(
            authority: try row.decode(UUID.self, column: "authority_id"), user: try row.decode(UUID?.self, column: "user_id"),
            hash: try row.decode(String?.self, column: "password_hash"), role: try row.decode(String?.self, column: "role").flatMap(Role.init(rawValue:)),
            name: try row.decode(String?.self, column: "display_name"), disabled: try row.decode(Bool?.self, column: "disabled") ?? false,
            knownAddress: try row.decode(Bool.self, column: "known_address"))
    }
}

extension AuthHandlers.UserInfo {
    init(_ user: UserPrincipal) {
        self.init(id: user.userID, authorityId: user.authorityID, username: user.username, displayName: user.displayName, role: user.role)
    }
}
