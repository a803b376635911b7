import Foundation
import HTTPServer
import Postgres

/// A box controller, from its bearer token (only the token's SHA-256 is stored).
struct BoxPrincipal: Sendable {
    let authorityID: UUID
    let boxID: UUID
    let siteID: UUID
    /// The box id as text: the key of its long polls and NOTIFY payloads.
    var key: String { boxID.uuidString.lowercased() }
}

enum BoxAuth {
    static let invalid = AppError(.unauthorized, "invalid_box_token", "A valid box token is required.",
                                  headers: ["WWW-Authenticate": "Bearer realm=\"pickupbox-box\""])

    static let certificateRequired = AppError(.unauthorized, "client_certificate_required",
                                              "Box controllers connect with a client certificate of the authority's CA (mutual TLS).")

    /// The box of `Authorization: Bearer <token>`; cookies are never looked at, so a staff session
    /// cannot act as a box. A rotated or revoked token is refused at once (no cache). With mutual TLS
    /// (`TLS_CLIENT_CA_FILE`, issue 12 §5) the connection must also carry a client certificate that
    /// verified against the authority's CA: a stolen token alone is not enough.
    static func principal(_ request: Request, _ app: Application) throws -> BoxPrincipal {
        let hash = try tokenHash(request, app)
        let rows = try app.pool.query("""
            WITH b AS (SELECT authority_id, id, site_id, last_seen_at FROM box WHERE token_hash = \(hash)), \(unsafeSQL: noteSeen)
            SELECT authority_id, id, site_id FROM b
            """)
        guard let row = rows.first else { throw invalid }
        return BoxPrincipal(authorityID: try row.decode(UUID.self, at: 0), boxID: try row.decode(UUID.self, at: 1), siteID: try row.decode(UUID.self, at: 2))
    }

    /// The SHA-256 of the request's bearer token, after the checks every box route makes first (client
    /// certificate, header shape). A route that looks its box up inside its own statement (the pickup steps)
    /// starts that statement with `WITH b AS (… WHERE token_hash = <hash>), <noteSeen>`, as `principal` does.
    static func tokenHash(_ request: Request, _ app: Application) throws -> [UInt8] {
        if app.configuration.tls?.clientCAFile != nil && request.transport.clientCertificate == nil { throw certificateRequired }
        guard let header = request.headers["Authorization"], header.hasPrefix("Bearer ") else { throw invalid }
        let given = header.utf8.dropFirst(7)
        // Tokens are base64url: without spaces around them (the usual case) there is nothing to trim,
        // and Foundation's trimming cost more than the hash.
        let bare = given.first.map { $0 > 0x20 && $0 < 0x7f } == true && given.last.map { $0 > 0x20 && $0 < 0x7f } == true
        let token = bare ? Array(given) : Array(header.dropFirst(7).trimmingCharacters(in: .whitespaces).utf8)
        guard (20...128).contains(token.count) else { throw invalid }
        return Crypto.sha256(token)
    }

    /// The `WITH` item after `b` (the token's box, with `last_seen_at`): "seen" is written at most every
    /// 10 seconds per box (offline means 2 minutes without a call), so most box calls read only and commit
    /// without a WAL flush.
    static let noteSeen = """
        seen AS (UPDATE box SET last_seen_at = now() FROM b
                 WHERE box.authority_id = b.authority_id AND box.id = b.id
                   AND (b.last_seen_at IS NULL OR b.last_seen_at < now() - interval '10 seconds')
                 RETURNING box.id)
        """
}
