import Crypto
import Foundation
import Postgres

/// The SQL that reads staff accounts: explicit columns, never `password_hash`.
enum UserStore {
    static func list(_ connection: PostgresConnection, authorityID: UUID, userID: UUID? = nil) throws -> [UserDTO.User] {
        try connection.query("""
            SELECT id, username, display_name, role, disabled_at, created_at, badge_hash IS NOT NULL AS has_badge FROM app_user
            WHERE authority_id = \(authorityID) AND (\(userID)::uuid IS NULL OR id = \(userID))
            ORDER BY username
            """).map { row in
            let disabledAt = try row.decode(Date?.self, column: "disabled_at")
            return UserDTO.User(id: try row.decode(UUID.self, column: "id"), username: try row.decode(String.self, column: "username"),
                                displayName: try row.decode(String.self, column: "display_name"), role: try row.decode(String.self, column: "role"),
                                disabled: disabledAt != nil, disabledAt: disabledAt, hasBadge: try row.decode(Bool.self, column: "has_badge"),
                                createdAt: try row.decode(Date.self, column: "created_at"))
        }
    }

    /// A badge as stored: HMAC-SHA256 under the server key, bound to the authority.
    static func badgeHash(_ badge: String, authorityID: UUID, key: [UInt8]) -> [UInt8] {
        Crypto.hmacSHA256(key: key, Array(("badge:" + authorityID.uuidString.lowercased() + ":" + badge).utf8))
    }

    /// 4–64 visible ASCII characters, as a badge reader delivers them.
    static func validBadge(_ badge: String) -> Bool {
        (4...64).contains(badge.utf8.count) && badge.utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7E }
    }

    /// One account, or 404 (also for another authority's).
    static func fetch(_ connection: PostgresConnection, authorityID: UUID, id: UUID) throws -> UserDTO.User {
        guard let user = try list(connection, authorityID: authorityID, userID: id).first else { throw ServiceError.notFound("user") }
        return user
    }
}
