import Domain
import Foundation
import HTTPServer
import Postgres

/// Pickup at the box (DESIGN §4.5, issue #4 §4–5). The panel sends the mobile number and PIN; the
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
        /// Still to give: `pin_letter`, `date_of_birth`, `can`, `old_document_destroyed`.
        var factors: [String]
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

    static func start(_ app: Application, _ request: Request) throws -> Response {
        let box = try BoxAuth.principal(request, app)
        let body = try request.decode(Start.self)
        let mobile: String
        do { mobile = try PhoneNumber.parse(body.mobileNumber, field: "mobileNumber").e164 } catch {
            throw AppError.invalid(error.field, error.code, error.message)
        }
        guard body.pin.utf8.count == 6, body.pin.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw AppError.invalid("pin", "invalid_pin", "The PIN is 6 digits.")
        }
        return try Idempotency.run(app, box: box, request: request, route: "POST /api/v1/box/pickups") { c in
            // One query: the gate's facts, the site's factors, and this number's loaded compartments at
            // this box (locked in id order), with the application of each. The box row is locked too: the
            // attempts at one box are serialized, so the failures counted below decide the block exactly
            // (a burst of parallel guesses cannot all pass a count made before any of them was recorded).
            let rows = try c.query("""
                SELECT \(unsafeSQL: gateColumns), s.pickup_requires_pin_letter, s.pickup_second_factor, s.pickup_requires_old_document,
                       k.id, k.pin_hmac, k.locked, k.expired, k.application_id, k.issuance, k.has_can
                FROM box b JOIN site s ON s.authority_id = b.authority_id AND s.id = b.site_id
                LEFT JOIN LATERAL (
                    SELECT asg.id, asg.pin_hmac, asg.locked, asg.pin_expires_at < now() AS expired, a.id AS application_id, a.issuance,
                           a.old_can_hash IS NOT NULL AS has_can
                    FROM application a
                    JOIN assignment asg ON asg.authority_id = a.authority_id AND asg.id = a.assignment_id
                    JOIN compartment cp ON cp.authority_id = asg.authority_id AND cp.id = asg.compartment_id
                    WHERE a.authority_id = \(box.authorityID) AND a.mobile_number = \(mobile) AND a.state = 'ready_in_box'
                      AND asg.status = 'loaded' AND cp.box_id = \(box.boxID)
                    ORDER BY asg.id, a.id
                    FOR UPDATE OF asg
                ) k ON true
                WHERE b.authority_id = \(box.authorityID) AND b.id = \(box.boxID)
                FOR UPDATE OF b
                """)
            guard let head = rows.first else { throw BoxAuth.invalid }
            if let refused = try gate(c, box: box, blockedSeconds: try head.decode(Int?.self, at: 0), open: try head.decode(Bool?.self, at: 1) ?? false) {
                return refused
            }
            struct Candidate {
                let id: UUID, stored: [UInt8], locked: Bool, expired: Bool, applicationID: UUID, renewal: Bool, hasCAN: Bool
            }
            var candidates: [Candidate] = []
            for row in rows {
                guard let id = try row.decode(UUID?.self, at: 5), candidates.last?.id != id else { continue }   // a household: the first application
                candidates.append(Candidate(
                    id: id, stored: try row.decode([UInt8]?.self, at: 6) ?? [], locked: try row.decode(Bool.self, at: 7),
                    expired: try row.decode(Bool?.self, at: 8) ?? false, applicationID: try row.decode(UUID.self, at: 9),
                    renewal: try row.decode(String.self, at: 10) == Issuance.renewal.rawValue, hasCAN: try row.decode(Bool.self, at: 11)))
            }
            var matched: Candidate?
            var open: [UUID] = []
            for candidate in candidates {
                // Every candidate is compared (no early exit), and in constant time.
                let equal = constantTimeEquals(Pin.hmac(body.pin, assignmentID: candidate.id, key: app.secretKey), candidate.stored)
                if candidate.locked { continue }
                open.append(candidate.id)
                if equal && matched == nil { matched = candidate }
            }
            guard let match = matched else {
                // A guess counts against every open assignment of this number at this box; a locked one stays locked.
                try countFailure(c, box: box, assignments: open, outcome: "refused", app: app)
                return refusal
            }
            if match.expired {
                try record(c, box: box, "deadline_passed")
                return .error(.conflict, code: "deadline_passed", message: "The pickup period has ended; the document is being moved to the counter.")
            }
            var factors: [String] = []
            if try head.decode(Bool.self, at: 2) { factors.append("pin_letter") }
            switch try head.decode(String.self, at: 3) {
            case "date_of_birth_or_can": factors.append(match.renewal && match.hasCAN ? "can" : "date_of_birth")
            case "date_of_birth": factors.append("date_of_birth")
            default: break
            }
            if match.renewal, try head.decode(Bool.self, at: 4) { factors.append("old_document_destroyed") }
            let session = Session(pickupId: UUID(), factors: factors, expiresAt: Date(timeIntervalSinceNow: 120))
            try c.execute("""
                WITH started AS (
                    INSERT INTO pickup_session (authority_id, id, box_id, assignment_id, application_id, factors, expires_at)
                    VALUES (\(box.authorityID), \(session.pickupId), \(box.boxID), \(match.id), \(match.applicationID), \(factors), \(session.expiresAt))
                )
                INSERT INTO pickup_attempt (authority_id, box_id, outcome) VALUES (\(box.authorityID), \(box.boxID), 'pin_accepted')
                """)
            return try .json(session, status: .created)
        }
    }

    // MARK: - Factors

    static func factors(_ app: Application, _ request: Request) throws -> Response {
        let box = try BoxAuth.principal(request, app)
        guard let pickupID = UUID(uuidString: request.parameter("id")) else { throw AppError(.notFound, "pickup_not_found", "No such pickup.") }
        let body = try request.decode(Factors.self)
        return try Idempotency.run(app, box: box, request: request, route: "POST /api/v1/box/pickups/{id}/factors") { c in
            let rows = try c.query("""
                SELECT ps.assignment_id, ps.factors, ps.expires_at < now() OR ps.verified_at IS NOT NULL, asg.locked, asg.status,
                       a.date_of_birth, a.old_can_hash, cp.number, \(unsafeSQL: gateColumns)
                FROM pickup_session ps
                JOIN assignment asg ON asg.authority_id = ps.authority_id AND asg.id = ps.assignment_id
                JOIN compartment cp ON cp.authority_id = asg.authority_id AND cp.id = asg.compartment_id
                JOIN application a ON a.authority_id = ps.authority_id AND a.id = ps.application_id
                JOIN box b ON b.authority_id = ps.authority_id AND b.id = ps.box_id
                JOIN site s ON s.authority_id = b.authority_id AND s.id = b.site_id
                WHERE ps.authority_id = \(box.authorityID) AND ps.id = \(pickupID) AND ps.box_id = \(box.boxID)
                FOR UPDATE OF ps, asg, b
                """)
            guard let row = rows.first else { throw AppError(.notFound, "pickup_not_found", "No such pickup.") }
            if try row.decode(Bool.self, at: 2) {
                throw AppError.conflict("pickup_expired", "This pickup has expired or was completed; start again with the mobile number and PIN.")
            }
            let assignmentID = try row.decode(UUID.self, at: 0)
            if let refused = try gate(c, box: box, blockedSeconds: try row.decode(Int?.self, at: 8), open: try row.decode(Bool?.self, at: 9) ?? false) {
                return refused
            }
            guard !(try row.decode(Bool.self, at: 3)), try row.decode(String.self, at: 4) == "loaded" else {
                try record(c, box: box, "factors_refused")
                return refusal
            }
            let required = try row.decode([String].self, at: 1)
            let storedBirth = try row.decode(String?.self, at: 5)
            var ok = true
            for factor in required {
                switch factor {
                case "pin_letter":
                    ok = ok && body.pinLetterConfirmed == true
                case "old_document_destroyed":
                    ok = ok && body.oldDocumentInserted == true
                case "date_of_birth":
                    let given = body.dateOfBirth.flatMap { try? DateOfBirth($0, today: ApplicationHandlers.today()) }
                    ok = ok && given != nil && given?.canonical == storedBirth
                case "can":
                    let stored = try row.decode([UInt8]?.self, at: 6) ?? []
                    let given = body.can ?? ""
                    let hash = Crypto.hmacSHA256(key: app.secretKey, Array("can:\(box.authorityID.uuidString.lowercased()):\(given)".utf8))
                    ok = constantTimeEquals(hash, stored) && ok
                default:
                    ok = false
                }
            }
            guard ok else {
                try countFailure(c, box: box, assignments: [assignmentID], outcome: "factors_refused", app: app)
                return refusal
            }
            try c.execute("""
                WITH verified AS (UPDATE pickup_session SET verified_at = now() WHERE authority_id = \(box.authorityID) AND id = \(pickupID))
                INSERT INTO pickup_attempt (authority_id, box_id, outcome) VALUES (\(box.authorityID), \(box.boxID), 'factors_accepted')
                """)
            let numbers = [try row.decode(Int.self, at: 7)]
            try Audit.record(c, authorityID: box.authorityID, actor: .box(box.boxID), action: "assignment.pickup_verified", entityType: "assignment",
                             entityID: assignmentID, requestID: request.requestID, clientAddress: app.auditAddress(request))
            return try .json(Open(assignmentId: assignmentID, compartmentNumbers: numbers))
        }
    }

    // MARK: - Limits and hours

    /// The gate's facts, as two columns of the caller's query (which joins `box b` and `site s`): seconds
    /// the box stays blocked, and whether the site is open now (weekly hours, or that day's exception) in
    /// its own time zone. Part of each step's one query, so the gate costs no round trip of its own.
    private static let gateColumns = """
        ceil(extract(epoch FROM b.pickups_blocked_until - now()))::int8,
        (SELECT CASE
             WHEN e.day IS NOT NULL THEN NOT e.closed AND l.t::time >= e.opens AND l.t::time < e.closes
             ELSE EXISTS (SELECT 1 FROM site_pickup_hours h WHERE h.authority_id = s.authority_id AND h.site_id = s.id
                          AND h.weekday = extract(isodow FROM l.t) AND l.t::time >= h.opens AND l.t::time < h.closes)
         END
         FROM (SELECT now() AT TIME ZONE s.time_zone AS t) l
         LEFT JOIN site_exception e ON e.authority_id = s.authority_id AND e.site_id = s.id AND e.day = l.t::date)
        """

    /// A refusal before anything is checked: the box is throttled, or the site is closed now.
    private static func gate(_ c: PostgresConnection, box: BoxPrincipal, blockedSeconds: Int?, open: Bool) throws -> Response? {
        if let wait = blockedSeconds, wait > 0 {
            try record(c, box: box, "throttled")
            var r = Response.error(.tooManyRequests, code: "box_throttled", message: "Too many failed attempts at this box; pickups resume later.")
            r.headers.set("Retry-After", String(wait))
            return r
        }
        guard open else {
            try record(c, box: box, "outside_hours")
            return .error(.conflict, code: "outside_pickup_hours", message: "Pickups are possible during the site's pickup hours only.")
        }
        return nil
    }

    /// Counts a failed attempt against the assignments (locking each at the limit) and the box
    /// (blocking it for a while past its limit, with an alert in the log).
    private static func countFailure(_ c: PostgresConnection, box: BoxPrincipal, assignments: [UUID], outcome: String, app: Application) throws {
        let limits = app.configuration.pickupLimits
        if !assignments.isEmpty {
            try c.execute("""
                UPDATE assignment SET failed_attempts = failed_attempts + 1, locked = failed_attempts + 1 >= \(limits.perAssignment)
                WHERE authority_id = \(box.authorityID) AND id = ANY(\(assignments)::uuid[]) AND NOT locked
                """)
        }
        try record(c, box: box, outcome)
        let recent = try c.query("""
            SELECT count(*)::int8 FROM pickup_attempt
            WHERE authority_id = \(box.authorityID) AND box_id = \(box.boxID) AND outcome IN ('refused', 'factors_refused')
              AND at > now() - make_interval(mins => \(limits.boxWindowMinutes))
            """).first?.decode(Int.self, at: 0) ?? 0
        if recent > limits.perBox {
            let blocked = try c.execute("""
                UPDATE box SET pickups_blocked_until = now() + make_interval(mins => \(limits.boxBlockMinutes))
                WHERE authority_id = \(box.authorityID) AND id = \(box.boxID) AND (pickups_blocked_until IS NULL OR pickups_blocked_until < now())
                """)
            if blocked > 0 {
                app.logger.warning("box blocked after repeated failed pickups", metadata: ["box.id": "\(box.key)", "pickup.failures": "\(recent)"])
            }
        }
    }

    private static func record(_ c: PostgresConnection, box: BoxPrincipal, _ outcome: String) throws {
        try c.execute("INSERT INTO pickup_attempt (authority_id, box_id, outcome) VALUES (\(box.authorityID), \(box.boxID), \(outcome))")
    }
}
