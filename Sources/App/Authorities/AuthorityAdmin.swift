import Crypto
import Foundation
import Postgres

/// Authorities (tenants): created by operators on the command line, never over HTTP.
public enum AuthorityAdmin {
    /// Creates an authority and returns its id. `slug` is the short name staff type at login
    /// (`^[a-z0-9][a-z0-9-]{1,62}$`); a taken slug is a 409 `slug_taken`.
    public static func create(pool: PostgresPool, slug: String, name: String) throws -> UUID {
        guard AdminInput.isIdentifier(slug, extra: [UInt8(ascii: "-")]) else {
            throw ServiceError.invalid("slug", "invalid_slug", "Use 2 to 63 characters: a-z, 0-9 and '-', starting with a letter or digit.")
        }
        let name = try TextField.validate(name, field: "name")
        let id = Crypto.uuid()
        return try AdminInput.unique(ServiceError.conflict("slug_taken", "An authority with this slug exists.", field: "slug")) {
            try pool.transaction { connection in
                try connection.execute("INSERT INTO authority (id, slug, name) VALUES (\(id), \(slug), \(name))")
                try AdminActor.system(id).audit(connection, "authority.created", "authority", id)
                return id
            }
        }
    }

    /// The id of the authority with `slug`; 404 `not_found` when there is none.
    public static func id(pool: PostgresPool, slug: String) throws -> UUID {
        guard (1...63).contains(slug.utf8.count) else { throw ServiceError.notFound("authority") }
        let rows = try pool.query("SELECT id FROM authority WHERE slug = \(slug)")
        guard let row = rows.first else { throw ServiceError.notFound("authority") }
        return try row.decode(UUID.self, at: 0)
    }
}
