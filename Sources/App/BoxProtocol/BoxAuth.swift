import Crypto
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
    /// cannot act as a box. A rotated or revoked token is refused at once: nothing is cached (the
    /// pickup steps remember their admissions only as claims their calls check, `BoxAdmissions`). With mutual TLS
    /// (`TLS_CLIENT_CA_FILE`, README.md#tls-without-a-proxy) the connection must also carry a client certificate that
    /// verified against the authority's CA: a stolen token alone is not enough.
    static func principal(_ request: Request, _ app: Application) throws -> BoxPrincipal {
        // A request with a body was authenticated from its head already (see `AppRoute.box`).
        if let admitted = request.admitted as? BoxPrincipal { return admitted }
        return try admit(request, app) { hash in try lookUp(app, tokenHash: hash) }
    }

    /// What `read` finds with the SHA-256 of the request's bearer token (the box, and what a route reads
    /// with it in the same round trip); `invalid` when it finds nothing. With mutual TLS the connection's
    /// client certificate is required first.
    static func admit<Read>(_ request: Request, _ app: Application, _ read: ([UInt8]) throws -> Read?) throws -> Read {
        if app.configuration.tls?.clientCAFile != nil && request.transport.clientCertificate == nil { throw certificateRequired }
        guard let hash = tokenHash(request), let found = try read(hash) else { throw invalid }
        return found
    }

    /// The box of a token hash, nil for none. "Seen" is written at most every 10 seconds per box (offline
    /// means 2 minutes without a call): most box calls then read only, and commit without a WAL flush.
    /// The pickup steps' reads (`BoxPickupStore`) do the same in their functions.
    private static func lookUp(_ app: Application, tokenHash hash: [UInt8]) throws -> BoxPrincipal? {
        let rows = try app.pool.query("""
            \(boxOfToken: hash)
            SELECT authority_id, id, site_id FROM b
            """)
        guard let row = rows.first else { return nil }
        return BoxPrincipal(authorityID: try row.decode(UUID.self, column: "authority_id"), boxID: try row.decode(UUID.self, column: "id"),
                            siteID: try row.decode(UUID.self, column: "site_id"))
    }

    /// The bearer token of a plausible length, or nil (checked without the database).
    static func bearerToken(_ request: Request) -> [UInt8]? {
        guard let header = request.headers["Authorization"], header.hasPrefix("Bearer ") else { return nil }
        let given = header.utf8.dropFirst(7)
        // Tokens are base64url: without spaces around them (the usual case) there is nothing to trim,
        // and Foundation's trimming cost more than the hash.
        let bare = given.first.map { $0 > 0x20 && $0 < 0x7f } == true && given.last.map { $0 > 0x20 && $0 < 0x7f } == true
        let token = bare ? Array(given) : Array(header.dropFirst(7).trimmingCharacters(in: .whitespaces).utf8)
        return (20...128).contains(token.count) ? token : nil
    }

    /// The SHA-256 of the request's bearer token (only the hash is stored), or nil without a plausible token.
    static func tokenHash(_ request: Request) -> [UInt8]? {
        bearerToken(request).map(Crypto.sha256)
    }
}

extension PostgresQuery.StringInterpolation {
    /// `WITH b AS (…), seen AS (…)`: `b` is the box of the token hash (bound as a parameter), and "seen" is
    /// written at most every 10 seconds. The box's admissions (`BoxAuth`, `BoxPickupStore`) follow it with
    /// the `SELECT … FROM b` of what they read.
    mutating func appendInterpolation(boxOfToken tokenHash: [UInt8]) {
        appendLiteral("WITH b AS (SELECT authority_id, id, site_id, last_seen_at FROM box WHERE token_hash = ")
        appendInterpolation(tokenHash)
        appendLiteral("""
            ),
                 seen AS (UPDATE box SET last_seen_at = now() FROM b
                          WHERE box.authority_id = b.authority_id AND box.id = b.id
                            AND (b.last_seen_at IS NULL OR b.last_seen_at < now() - interval '10 seconds')
                          RETURNING box.id)
            """)
    }
}
