import Crypto
import Foundation
import Postgres

/// Boxes of an authority: creation and their bearer tokens (docs/ARCHITECTURE.md#box-protocol). HTTP handlers and the
/// operator command line share these functions.
public enum BoxAdmin {
    /// A created box; `token` is set when one was issued, and is the only copy there will ever be.
    public struct CreatedBox: Sendable {
        /// The new box's id.
        public let id: UUID
        /// The bearer token (43 characters, base64url of 32 random bytes), or nil when none was asked for.
        public let token: String?
    }

    /// A validated new box.
    struct NewBox {
        let siteID: UUID
        let name: String
        let panelLanguages: [String]
    }

    /// Creates a box at a site of the authority, and with `issueToken` its first token, in one
    /// transaction (audited by `.system`). Errors: 400 naming the field (`siteId` `unknown_site`);
    /// 409 `box_name_taken`.
    public static func create(pool: PostgresPool, authorityID: UUID, siteID: UUID, name: String, panelLanguages: [String]? = nil,
                              issueToken: Bool) throws -> CreatedBox {
        let box = try validate(BoxDTO.Create(siteId: siteID, name: name, panelLanguages: panelLanguages))
        let token = issueToken ? Crypto.token() : nil
        return try pool.transaction { connection in
            let actor = AdminActor.system(authorityID)
            let id = try insert(connection, actor, box)
            if let token { try store(token, connection, actor, boxID: id) }
            return CreatedBox(id: id, token: token)
        }
    }

    static func validate(_ body: BoxDTO.Create) throws -> NewBox {
        let name = try TextField.validate(body.name, field: "name", maxLength: 100)
        let languages = body.panelLanguages ?? ["de", "en"]
        guard (1...10).contains(languages.count) else {
            throw ServiceError.invalid("panelLanguages", "invalid_languages", "List 1 to 10 languages.")
        }
        for (i, language) in languages.enumerated() {
            guard language.utf8.count == 2, language.utf8.allSatisfy({ $0 >= 0x61 && $0 <= 0x7A }) else {
                throw ServiceError.invalid("panelLanguages[\(i)]", "invalid_language", "Use two-letter ISO 639-1 codes in lower case, e.g. de or en.")
            }
            guard !languages[..<i].contains(language) else {
                throw ServiceError.invalid("panelLanguages[\(i)]", "duplicate_language", "Each language only once.")
            }
        }
        return NewBox(siteID: body.siteId, name: name, panelLanguages: languages)
    }

    static func insert(_ connection: PostgresConnection, _ actor: AdminActor, _ box: NewBox) throws -> UUID {
        let site = try connection.query("SELECT 1 FROM site WHERE authority_id = \(actor.authorityID) AND id = \(box.siteID)")
        guard !site.isEmpty else { throw ServiceError.invalid("siteId", "unknown_site", "No such site.") }
        let id = Crypto.uuid()
        try connection.unique(ServiceError.conflict("box_name_taken", "A box with this name exists.", field: "name")) {
            try connection.execute("""
                INSERT INTO box (authority_id, id, site_id, name, panel_languages)
                VALUES (\(actor.authorityID), \(id), \(box.siteID), \(box.name), \(box.panelLanguages)::text[])
                """)
        }
        try actor.audit(connection, "box.created", "box", id, detail: ["siteId": box.siteID.uuidString.lowercased()])
        return id
    }

    /// Locks the box row against concurrent token and layout changes; 404 when it is not the authority's.
    /// Returns whether the box has a token.
    @discardableResult
    static func lock(_ connection: PostgresConnection, authorityID: UUID, boxID: UUID) throws -> Bool {
        let rows = try connection.query("SELECT token_hash IS NOT NULL FROM box WHERE authority_id = \(authorityID) AND id = \(boxID) FOR NO KEY UPDATE")
        guard let row = rows.first else { throw ServiceError.notFound("box") }
        return try row.decode(Bool.self, at: 0)
    }

    /// Issues a new 256-bit token and returns it; only its SHA-256 is stored, replacing the previous
    /// token's at once (a stolen old token stops working with this commit).
    static func issueToken(_ connection: PostgresConnection, _ actor: AdminActor, boxID: UUID) throws -> String {
        let token = Crypto.token()
        try store(token, connection, actor, boxID: boxID)
        return token
    }

    private static func store(_ token: String, _ connection: PostgresConnection, _ actor: AdminActor, boxID: UUID) throws {
        let replaced = try lock(connection, authorityID: actor.authorityID, boxID: boxID)
        try connection.execute("""
            UPDATE box SET token_hash = \(Crypto.sha256(Array(token.utf8))), token_created_at = now()
            WHERE authority_id = \(actor.authorityID) AND id = \(boxID)
            """)
        // Never the token, nor its hash.
        try actor.audit(connection, replaced ? "box.token_rotated" : "box.token_issued", "box", boxID)
    }
}
