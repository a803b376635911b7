import Crypto
import Domain
import Foundation
import HTTPServer
import Logging
import Postgres

/// Pickup at the box (docs/ARCHITECTURE.md#pickup). The panel sends the mobile number and PIN; the
/// server answers with the factors the site still asks for, then names the compartment to open.
/// Every refusal — unknown number, wrong PIN, locked assignment, wrong date of birth or CAN — has the
/// same status and body, and is committed before it is answered, so the counters cannot be rolled back.
enum BoxPickup {
    struct Start: Codable {
        var mobileNumber: String
        var pin: String
    }

    struct Session: Codable {
        var pickupId: UUID
        /// Still to give, in the order the panel asks.
        var factors: [PickupFactor]
        var expiresAt: Date
    }

    struct Factors: Codable {
        var pinLetterConfirmed: Bool?
        var dateOfBirth: String?
        var can: String?
        var oldDocumentInserted: Bool?
    }

    struct Open: Codable {
        var assignmentId: UUID
        var compartmentNumbers: [Int]
    }


    static var refusal: Response {
        .error(.forbidden, code: "pickup_refused", message: "The details do not match. Please check them or ask at the counter.")
    }

    // MARK: - Mobile number and PIN

    /// Two round trips after the box's admission, whatever the outcome: one read (the site's factors and
    /// the candidates, no lock), then one call of `pickup_start` (Migrations/0021), which passes the gate and
    /// writes the outcome under the box's row lock and checks again what was read. The PIN is compared
    /// here, with the server's key, in constant time. With an `Idempotency-Key` both run in the key's
    /// transaction, so the stored answer and the outcome it reports commit together.
    /// The box comes from the route table (`AppRoute.box`, from the head when a body came): an unknown
    /// token is answered 401 before bad input.
    static func start(_ app: Application, _ request: Request, _ box: BoxPrincipal) throws -> Response {
        let body = try decodeStart(request)
        let mobile: String
        do { mobile = try PhoneNumber.parse(body.mobileNumber, field: "mobileNumber").e164 } catch {
            throw AppError.invalid(error.field, error.code, error.message)
        }
        guard body.pin.utf8.count == 6, body.pin.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw AppError.invalid("pin", "invalid_pin", "The PIN is 6 digits.")
        }
        return try steps(app, box: box, request: request, route: "POST /api/v1/box/pickups") { c in
            try start(app, c, box: box, mobile: mobile, pin: body.pin)
        }
    }

    private static func start(_ app: Application, _ c: any PickupQueries, box: BoxPrincipal, mobile: String, pin: String) throws -> Response {
        // The site's factors, and this number's loaded compartments at this box with the application of
        // each (Migrations/0021: a function, so that its plan is kept).
        let rows = try c.query("""
            SELECT requires_pin_letter, second_factor, requires_old_document, assignment_id, pin_hmac, locked, application_id, issuance, has_can
            FROM pickup_candidates(\(box.authorityID), \(box.boxID), \(mobile))
            """)
        guard let head = rows.first else { throw BoxAuth.invalid }
        var candidates: [Candidate] = []
        // In assignment order, and of a household (one assignment, several applications) the first
        // application: uuid order in PostgreSQL is the order of the lowercase text.
        let ordered = try rows.compactMap { row -> (key: String, row: PostgresRow)? in
            guard let id = try row.decode(UUID?.self, at: 3) else { return nil }
            return (id.uuidString.lowercased() + (try row.decode(UUID.self, at: 6)).uuidString.lowercased(), row)
        }.sorted { $0.key < $1.key }
        for (_, row) in ordered {
            let id = try row.decode(UUID.self, at: 3)
            guard candidates.last?.id != id else { continue }
            candidates.append(Candidate(
                id: id, stored: try row.decode([UInt8]?.self, at: 4) ?? [], locked: try row.decode(Bool.self, at: 5),
                applicationID: try row.decode(UUID.self, at: 6), issuance: try row.decode(Issuance.self, at: 7),
                hasCAN: try row.decode(Bool.self, at: 8)))
        }
        let matched = match(pin, among: candidates) { Pin.hmac($0, assignmentID: $1, key: app.secretKey) }.candidate
        var factors: [PickupFactor] = []
        if let match = matched {
            let policy = PickupFactorPolicy(
                requiresPinLetter: try head.decode(Bool.self, at: 0),
                secondFactor: try head.decode(PickupSecondFactor.self, at: 1),
                requiresOldDocument: try head.decode(Bool.self, at: 2))
            factors = policy.factors(issuance: match.issuance, hasCAN: match.hasCAN)
        }
        let session = Session(pickupId: UUID(), factors: factors, expiresAt: Date(timeIntervalSinceNow: 120))
        let limits = app.configuration.pickupLimits
        // A guess counts against every open assignment of this number at this box; a locked one stays locked.
        guard let result = try c.query("""
            SELECT outcome, wait_seconds, failures, box_blocked FROM pickup_start(
                \(box.authorityID), \(box.boxID), \(candidates.map(\.id))::uuid[], \(matched?.id), \(matched?.stored),
                \(session.pickupId), \(matched?.applicationID), \(session.factors)::text[], \(session.expiresAt),
                \(limits.perAssignment), \(limits.perBox), \(limits.boxWindowMinutes), \(limits.boxBlockMinutes))
            """).first else { throw BoxAuth.invalid }
        switch try outcome(result) {
        case .accepted:
            return .json(bytes: session.json, status: .created)
        case .deadlinePassed:
            return .error(.conflict, code: "deadline_passed", message: "The pickup period has ended; the document is being moved to the counter.")
        case let other:
            return try refusal(app, other, result, box: box)
        }
    }

    /// An open assignment of the mobile number at this box, as `pickup_candidates` reads it.
    struct Candidate {
        let id: UUID, stored: [UInt8], locked: Bool, applicationID: UUID, issuance: Issuance, hasCAN: Bool
    }

    /// The candidate the PIN opens. Every candidate is compared (no early exit), in constant time, and a
    /// locked one never matches; a number without candidates (unknown here) still costs one hash, against a
    /// placeholder that matches nothing, so an unknown number and a wrong PIN do the same work.
    /// `hashes` is how many PIN hashes were computed (what the tests observe).
    static func match(_ pin: String, among candidates: [Candidate], hmac: (String, UUID) -> [UInt8]) -> (candidate: Candidate?, hashes: Int) {
        guard !candidates.isEmpty else {
            _ = constantTimeEquals(hmac(pin, placeholderAssignment), [])
            return (nil, 1)
        }
        var matched: Candidate?
        for candidate in candidates {
            let equal = constantTimeEquals(hmac(pin, candidate.id), candidate.stored)
            if equal && !candidate.locked && matched == nil { matched = candidate }
        }
        return (matched, candidates.count)
    }

    /// No assignment has the nil UUID (ids are random, version 4).
    private static let placeholderAssignment = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    // MARK: - Factors

    /// As `start`: one read (the session and what its factors are checked against), the check here,
    /// then one call of `pickup_verify`, which writes the outcome under the locks and checks the session again.
    static func factors(_ app: Application, _ request: Request, _ box: BoxPrincipal) throws -> Response {
        guard let pickupID = UUID(uuidString: request.parameter("id")) else { throw AppError(.notFound, "pickup_not_found", "No such pickup.") }
        let body = try decodeFactors(request)
        return try steps(app, box: box, request: request, route: "POST /api/v1/box/pickups/{id}/factors") { c in
            try factors(app, c, box: box, request: request, pickupID: pickupID, body: body)
        }
    }

    private static func factors(_ app: Application, _ c: any PickupQueries, box: BoxPrincipal, request: Request, pickupID: UUID, body: Factors) throws -> Response {
        let rows = try c.query("""
            SELECT ps.factors, ps.expires_at < now() OR ps.verified_at IS NOT NULL, a.date_of_birth, a.old_can_hash
            FROM pickup_session ps
            JOIN application a ON a.authority_id = ps.authority_id AND a.id = ps.application_id
            WHERE ps.authority_id = \(box.authorityID) AND ps.id = \(pickupID) AND ps.box_id = \(box.boxID)
            """)
        guard let head = rows.first, let required = try head.decode([PickupFactor]?.self, at: 0) else {
            throw AppError(.notFound, "pickup_not_found", "No such pickup.")
        }
        if try head.decode(Bool.self, at: 1) { throw expired }
        // A factor the server does not know (never written by `start`) is a decoding error above: an opaque
        // 500, never a factor silently dropped.
        var answers = PickupAnswers(pinLetterConfirmed: body.pinLetterConfirmed, oldDocumentInserted: body.oldDocumentInserted,
                                    dateOfBirthMatches: false, canMatches: false)
        if required.contains(.dateOfBirth) {
            let given = body.dateOfBirth.flatMap { try? DateOfBirth($0, today: ApplicationHandlers.today()) }
            let storedBirth = try head.decode(String?.self, at: 2)
            answers.dateOfBirthMatches = given != nil && given?.canonical == storedBirth
        }
        if required.contains(.can) {
            let hash = Crypto.hmacSHA256(key: app.secretKey, Array("can:\(box.authorityID.uuidString.lowercased()):\(body.can ?? "")".utf8))
            answers.canMatches = constantTimeEquals(hash, try head.decode([UInt8]?.self, at: 3) ?? [])
        }
        let ok = answers.satisfy(required)
        let limits = app.configuration.pickupLimits
        guard let result = try c.query("""
            SELECT outcome, wait_seconds, failures, box_blocked, assignment_id, compartment_number FROM pickup_verify(
                \(box.authorityID), \(box.boxID), \(pickupID), \(ok), \(request.requestID), \(app.auditAddress(request)),
                \(limits.perAssignment), \(limits.perBox), \(limits.boxWindowMinutes), \(limits.boxBlockMinutes))
            """).first else { throw AppError(.notFound, "pickup_not_found", "No such pickup.") }
        switch try outcome(result) {
        case .verified:
            return .json(bytes: Open(assignmentId: try result.decode(UUID.self, at: 4), compartmentNumbers: [try result.decode(Int.self, at: 5)]).json)
        case .notFound:
            throw AppError(.notFound, "pickup_not_found", "No such pickup.")
        case .expired:
            throw expired
        case let other:
            return try refusal(app, other, result, box: box)
        }
    }

    // MARK: - Idempotency

    /// Where a step's two statements run. Without an `Idempotency-Key`, each on the pool (no `BEGIN` and
    /// `COMMIT`: the function's call is its own transaction); with one, both inside `Idempotency.run`'s
    /// transaction, which stores a 2xx answer with the outcome it reports (a retry with the same key and
    /// body gets that answer, and the attempt is not made or counted again).
    private static func steps(_ app: Application, box: BoxPrincipal, request: Request, route: String,
                              _ step: (any PickupQueries) throws -> Response) throws -> Response {
        guard request.headers[Idempotency.header] != nil else { return try step(app.pool) }
        return try Idempotency.run(app, box: box, request: request, route: route) { connection in try step(connection) }
    }

    // MARK: - Outcomes

    /// What `pickup_start` and `pickup_verify` (Migrations/0021) answer.
    enum Outcome: String, PostgresDecodable {
        case noBox = "no_box", throttled, outsideHours = "outside_hours"
        case accepted, deadlinePassed = "deadline_passed", refused
        case notFound = "not_found", expired, factorsRefused = "factors_refused", verified
    }

    private static let expired = AppError.conflict("pickup_expired", "This pickup has expired or was completed; start again with the mobile number and PIN.")

    /// An outcome this build does not know is a decoding error (an opaque 500), a schema/server mismatch.
    private static func outcome(_ row: PostgresRow) throws -> Outcome { try row.decode(Outcome.self, at: 0) }

    /// The answers other than success: the gate's, and the one uniform refusal. A refusal that blocked
    /// the box is an alert in the log (with the count, never the input).
    private static func refusal(_ app: Application, _ outcome: Outcome, _ row: PostgresRow, box: BoxPrincipal) throws -> Response {
        switch outcome {
        case .noBox:
            throw BoxAuth.invalid
        case .throttled:
            var r = Response.error(.tooManyRequests, code: "box_throttled", message: "Too many failed attempts at this box; pickups resume later.")
            r.headers.set("Retry-After", String(try row.decode(Int.self, at: 1)))
            return r
        case .outsideHours:
            return .error(.conflict, code: "outside_pickup_hours", message: "Pickups are possible during the site's pickup hours only.")
        default:
            if try row.decode(Bool?.self, at: 3) == true {
                let failures = try row.decode(Int?.self, at: 2) ?? 0
                app.logger.warning("box blocked after repeated failed pickups", metadata: ["box.id": "\(box.key)", "pickup.failures": "\(failures)"])
            }
            return refusal
        }
    }
}

/// A pickup step's statements run on the pool (each its own transaction) or on one connection inside
/// the idempotency key's transaction.
protocol PickupQueries {
    func query(_ query: PostgresQuery) throws -> PostgresRows
}

extension PostgresPool: PickupQueries {}
extension PostgresConnection: PickupQueries {}
