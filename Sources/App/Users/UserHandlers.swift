import Foundation
import HTTPServer
import Postgres

/// Staff accounts, for supervisors (docs/ARCHITECTURE.md#actors).
enum UserHandlers {
    static func list(_ ctx: StaffContext) throws -> Response {
        try .json(try ctx.app.pool.withConnection { try UserStore.list($0, authorityID: ctx.authorityID) })
    }

    static func create(_ ctx: StaffContext) throws -> Response {
        // Validation hashes the password (Argon2id, ~30 ms) before a connection is taken.
        let user = try UserAdmin.validate(try ctx.request.decode(UserDTO.Create.self))
        return try ctx.transaction { connection in
            let id = try UserAdmin.insert(connection, ctx.actor, user)
            return try Response.json(try UserStore.fetch(connection, authorityID: ctx.authorityID, id: id), status: .created)
        }
    }

    static func disable(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        try ctx.transaction { connection in
            try UserAdmin.disable(connection, ctx.actor, userID: id)
            return try .json(try UserStore.fetch(connection, authorityID: ctx.authorityID, id: id))
        }
    }

    /// Registers the staff badge of a user (four-eyes loading); a badge belongs to one user of the authority.
    static func setBadge(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        let badge = try ctx.request.decode(UserDTO.Badge.self).badge
        guard UserStore.validBadge(badge) else {
            throw AppError.invalid("badge", "invalid_badge", "A badge number is 4 to 64 visible ASCII characters.")
        }
        let hash = UserStore.badgeHash(badge, authorityID: ctx.authorityID, key: ctx.app.secretKey)
        return try ctx.transaction { connection in
            let owner = try connection.query("SELECT id FROM app_user WHERE authority_id = \(ctx.authorityID) AND badge_hash = \(hash)").first?.decode(UUID.self, at: 0)
            if let owner, owner != id { throw AppError.conflict("badge_in_use", "This badge belongs to another user.", field: "badge") }
            let updated = try connection.query("UPDATE app_user SET badge_hash = \(hash) WHERE authority_id = \(ctx.authorityID) AND id = \(id) RETURNING id")
            guard !updated.isEmpty else { throw AppError.notFound("user") }
            try ctx.audit(connection, "user.badge_set", "user", id)
            return try .json(try UserStore.fetch(connection, authorityID: ctx.authorityID, id: id))
        }
    }

    static func removeBadge(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        try ctx.transaction { connection in
            let updated = try connection.query("""
                UPDATE app_user SET badge_hash = NULL WHERE authority_id = \(ctx.authorityID) AND id = \(id) AND badge_hash IS NOT NULL RETURNING id
                """)
            guard !updated.isEmpty else { throw AppError.notFound("badge") }
            try ctx.audit(connection, "user.badge_removed", "user", id)
            return Response(status: .noContent)
        }
    }
}
