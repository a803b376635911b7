import Foundation
import HTTPServer
import Postgres

/// Staff accounts, for supervisors (DESIGN §1, §7).
enum UserHandlers {
    static func routes(_ app: Application) -> [AppRoute] {
        [
            .staff(.GET, "/api/v1/users", access: .supervisor, app: app) { _, ctx in
                try .json(try ctx.app.pool.withConnection { try UserStore.list($0, authorityID: ctx.authorityID) })
            },
            .staff(.POST, "/api/v1/users", access: .supervisor, maxBodyBytes: 8 * 1024, app: app) { _, ctx in
                // Validation hashes the password (Argon2id, ~30 ms) before a connection is taken.
                let user = try UserAdmin.validate(try ctx.request.decode(UserDTO.Create.self))
                return try ctx.transaction { connection in
                    let id = try UserAdmin.insert(connection, ctx.actor, user)
                    return try Response.json(try UserStore.fetch(connection, authorityID: ctx.authorityID, id: id), status: .created)
                }
            },
            .staff(.POST, "/api/v1/users/{id}/disable", access: .supervisor, maxBodyBytes: 1024, app: app) { req, ctx in
                let id = try AdminInput.id(req.parameter("id"), "user")
                return try ctx.transaction { connection in
                    try UserAdmin.disable(connection, ctx.actor, userID: id)
                    return try .json(try UserStore.fetch(connection, authorityID: ctx.authorityID, id: id))
                }
            },
        ]
    }
}
