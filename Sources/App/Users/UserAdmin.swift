import Crypto
import Foundation
import Postgres

/// Staff accounts: creation (HTTP and command line share it) and disabling.
public enum UserAdmin {
    /// A validated new account, its password already hashed (Argon2id).
    struct NewUser {
        let username: String
        let displayName: String
        let role: Role
        let passwordHash: String
    }

    static let minPasswordCharacters = 12

    /// Creates an account and returns its id (audited as `user.created` by `.system`).
    /// Errors: 400 naming the field; 409 `username_taken`.
    public static func create(pool: PostgresPool, authorityID: UUID, username: String, displayName: String, role: String, password: String) throws -> UUID {
        let user = try validate(UserDTO.Create(username: username, displayName: displayName, role: role, password: password))
        return try pool.transaction { try insert($0, .system(authorityID), user) }
    }

    static func validate(_ body: UserDTO.Create) throws -> NewUser {
        // ASCII only, then folded: no look-alike letters (Kelvin sign, dotless i) in a login name.
        guard body.username.utf8.allSatisfy({ $0 < 0x80 }), AdminInput.isIdentifier(body.username.lowercased(), extra: Set("._-".utf8)) else {
            throw ServiceError.invalid("username", "invalid_username", "Use 2 to 63 characters: a-z, 0-9, '.', '_' and '-', starting with a letter or digit.")
        }
        let displayName = try TextField.validate(body.displayName, field: "displayName")
        let role = try Input.enumValue(Role.self, body.role, field: "role")
        guard body.password.utf8.count <= PasswordHasher.maxPasswordBytes else {
            throw ServiceError.invalid("password", "password_too_long", "The password must not be longer than \(PasswordHasher.maxPasswordBytes) bytes.")
        }
        guard body.password.count >= minPasswordCharacters else {
            throw ServiceError.invalid("password", "password_too_short", "The password must have at least \(minPasswordCharacters) characters.")
        }
        return NewUser(username: body.username.lowercased(), displayName: displayName, role: role, passwordHash: PasswordHasher.hash(body.password))
    }

    static func insert(_ connection: PostgresConnection, _ actor: AdminActor, _ user: NewUser) throws -> UUID {
        let id = Crypto.uuid()
        try connection.unique(ServiceError.conflict("username_taken", "This username is taken.", field: "username")) {
            try connection.execute("""
                INSERT INTO app_user (authority_id, id, username, display_name, role, password_hash)
                VALUES (\(actor.authorityID), \(id), \(user.username), \(user.displayName), \(user.role.rawValue), \(user.passwordHash))
                """)
        }
        try actor.audit(connection, "user.created", "app_user", id, detail: ["role": user.role.rawValue])
        return id
    }

    /// Disables an account and ends all its sessions in the same transaction, so its open browser
    /// tabs get 401 on their next request. Idempotent; nobody can disable themself (409), which also
    /// keeps at least one supervisor (the caller) able to log in.
    static func disable(_ connection: PostgresConnection, _ actor: AdminActor, userID: UUID) throws {
        if case .user(let me) = actor.actor, me == userID {
            throw ServiceError.conflict("cannot_disable_self", "You cannot disable your own account.")
        }
        let rows = try connection.query("""
            SELECT disabled_at IS NOT NULL FROM app_user WHERE authority_id = \(actor.authorityID) AND id = \(userID) FOR UPDATE
            """)
        guard let row = rows.first else { throw ServiceError.notFound("user") }
        let alreadyDisabled = try row.decode(Bool.self, at: 0)
        let ended = try connection.execute("DELETE FROM session WHERE authority_id = \(actor.authorityID) AND user_id = \(userID)")
        guard !alreadyDisabled else { return }
        try connection.execute("UPDATE app_user SET disabled_at = now() WHERE authority_id = \(actor.authorityID) AND id = \(userID)")
        try actor.audit(connection, "user.disabled", "app_user", userID, detail: ["sessionsEnded": String(ended)])
    }
}
