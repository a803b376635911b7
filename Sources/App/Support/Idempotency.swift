import Crypto
import Foundation
import HTTPServer
import Postgres

/// `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header): the same key with the same body
/// answers with the stored response; the same key with another body is a 422. Requests with one key
/// are serialized by a transaction-scoped advisory lock, so a retry racing the original waits for it.
enum Idempotency {
    static let header = "Idempotency-Key"
    /// Stored answers hold personal data: they are kept long enough for any retry, then deleted (here
    /// and by the erasure pass).
    static let retention: TimeInterval = 24 * 3600

    /// The stored answer of a row `(request_hash, response_status, response_body)`, marked as a replay;
    /// `refusal` when the stored request differs from this one.
    static func replay(_ row: PostgresRow, requestHash: [UInt8], orRefuse refusal: AppError) throws -> Response {
        guard try row.decode([UInt8].self, column: "request_hash") == requestHash else { throw refusal }
        let status = try row.decode(Int.self, column: "response_status")
        var response = Response.json(bytes: try row.decode([UInt8].self, column: "response_body"), status: HTTPStatus(code: status, reason: status == 201 ? "Created" : "OK"))
        response.headers.set("Idempotent-Replayed", "true")
        return response
    }

    /// Runs `body` in a transaction; with a key, stores its response in the same transaction.
    static func run(_ context: StaffContext, route: String, _ body: (PostgresConnection) throws -> Response) throws -> Response {
        // Keys are the client's: scoped to the user, so two caseworkers choosing the same key never collide.
        try run(pool: context.app.pool, authorityID: context.authorityID, request: context.request,
                route: route + "|" + context.user.userID.uuidString.lowercased(), body)
    }

    /// The same for a box controller's write: a box that lost an answer (the door did not open) sends the
    /// request again with its key and gets the same answer instead of a refusal.
    static func run(_ app: Application, box: BoxPrincipal, request: Request, route: String, _ body: (PostgresConnection) throws -> Response) throws -> Response {
        try run(pool: app.pool, authorityID: box.authorityID, request: request, route: route + "|box:" + box.key, body)
    }

    private static func run(pool: PostgresPool, authorityID: UUID, request: Request, route: String,
                            _ body: (PostgresConnection) throws -> Response) throws -> Response {
        guard let key = request.headers[header] else {
            return try pool.transaction(body)
        }
        guard (1...200).contains(key.utf8.count), key.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
            throw AppError.invalid(header, "invalid_idempotency_key", "The Idempotency-Key must be 1 to 200 visible ASCII characters.")
        }
        // The target is part of the request: the CSV import carries its delivery note number in the query.
        let requestHash = Crypto.sha256(Array(request.target.utf8) + [0] + request.body)
        return try pool.transaction { connection in
            try connection.execute("SELECT pg_advisory_xact_lock(hashtextextended(\(authorityID.uuidString + "|" + route + "|" + key), 0))")
            try connection.execute("""
                DELETE FROM idempotency_key WHERE authority_id = \(authorityID) AND created_at < now() - make_interval(secs => \(retention))
                """)
            let stored = try connection.query("""
                SELECT request_hash, response_status, response_body FROM idempotency_key
                WHERE authority_id = \(authorityID) AND key = \(key) AND route = \(route)
                """)
            if let row = stored.first {
                return try replay(row, requestHash: requestHash,
                                  orRefuse: AppError(.unprocessableContent, "idempotency_key_reused", "This Idempotency-Key was used with a different request body.", field: header))
            }
            let response = try body(connection)
            if (200..<300).contains(response.status.code) {
                try connection.execute("""
                    INSERT INTO idempotency_key (authority_id, key, route, request_hash, response_status, response_body)
                    VALUES (\(authorityID), \(key), \(route), \(requestHash), \(response.status.code), \(response.body))
                    """)
            }
            return response
        }
    }
}
