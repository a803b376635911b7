import Foundation

/// Request and response bodies of the user routes (camelCase). No password hash ever leaves the server.
enum UserDTO {
    struct Create: Codable {
        /// 2…63 of a-z 0-9 . _ - (upper case is folded), starting with a letter or digit.
        var username: String
        var displayName: String
        /// `caseworker` or `supervisor`.
        var role: String
        /// 12 characters at least, 1024 bytes (UTF-8) at most.
        var password: String
    }

    /// `PUT /users/{id}/badge`: the number the box's badge reader reads.
    struct Badge: Codable {
        var badge: String
    }

    struct User: Codable {
        var id: UUID
        var username: String
        var displayName: String
        var role: String
        var disabled: Bool
        var disabledAt: Date?
        /// A staff badge is registered (four-eyes loading at the box); the badge itself is never shown.
        var hasBadge: Bool
        var createdAt: Date
    }
}
