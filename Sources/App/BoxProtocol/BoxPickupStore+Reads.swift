import Domain
import Foundation
import HTTPServer
import Postgres

/// The pickup steps' reads: the admissions (remembered, or from the database) and the first step's old read.
extension BoxPickupStore {
    /// What step 1 decides on: the box, and its site's factors, of the token whose hash this is.
    struct StartAdmission: Sendable {
        let tokenHash: [UInt8]
        let box: BoxPrincipal
        let policy: PickupFactorPolicy
        /// The policy's three factor choices as the step's call takes them (text arrays), encoded once per
        /// admission: a remembered admission serves every pickup at its box (the encoding had been 1.4 % of
        /// a pickup's server CPU).
        let choiceArrays: (first: String, renewalWithCAN: String, renewalWithoutCAN: String)
        /// Remembered from an earlier request (`BoxAdmissions`), not read for this one: the step's call
        /// checks it.
        var isClaim = false

        init(tokenHash: [UInt8], box: BoxPrincipal, policy: PickupFactorPolicy) {
            self.tokenHash = tokenHash
            self.box = box
            self.policy = policy
            let choices = policy.choices
            choiceArrays = (PickupFactor.postgresArrayText(choices.first), PickupFactor.postgresArrayText(choices.renewalWithCAN),
                            PickupFactor.postgresArrayText(choices.renewalWithoutCAN))
        }

        var claimed: StartAdmission {
            var claim = self
            claim.isClaim = true
            return claim
        }
    }

    /// The admission of `POST /api/v1/box/pickups`: what `BoxAdmissions` remembers for the token, as a claim
    /// the step's call checks; else read (nil when no box has the token) and remembered. With an
    /// `Idempotency-Key` always read: the key's stored answer is looked up before the step's call would
    /// check a claim.
    static func admitStart(_ app: Application, _ request: Request, tokenHash: [UInt8]) throws -> StartAdmission? {
        if request.headers[Idempotency.header] == nil, let claim = app.boxAdmissions.claim(tokenHash) { return claim }
        return try readStartAdmission(app, tokenHash: tokenHash)
    }

    /// The box and its site's factors read for the token ("seen" noted as by every box admission:
    /// `boxOfToken`), and remembered; nil when no box has the token.
    static func readStartAdmission(_ app: Application, tokenHash: [UInt8]) throws -> StartAdmission? {
        guard let row = try app.pool.query("""
            \(boxOfToken: tokenHash)
            SELECT b.authority_id, b.id AS box_id, b.site_id, s.pickup_requires_pin_letter AS requires_pin_letter,
                   s.pickup_second_factor AS second_factor, s.pickup_requires_old_document AS requires_old_document
            FROM b JOIN site s ON s.authority_id = b.authority_id AND s.id = b.site_id
            """).first else { return nil }
        let admission = StartAdmission(tokenHash: tokenHash, box: try box(row), policy: try policy(row))
        app.boxAdmissions.remember(admission)
        return admission
    }

    private static func policy(_ row: PostgresRow) throws -> PickupFactorPolicy {
        PickupFactorPolicy(
            requiresPinLetter: try row.decode(Bool.self, column: "requires_pin_letter"),
            secondFactor: try row.decode(PickupSecondFactor.self, column: "second_factor"),
            requiresOldDocument: try row.decode(Bool.self, column: "requires_old_document"))
    }

    /// What step 1 decides on: the site's factors, and the number's loaded compartments at the box with
    /// the application of each.
    struct StartRead {
        let policy: PickupFactorPolicy
        let rows: [BoxPickup.Candidate]

        /// In assignment order, and of a household (one assignment, several applications) the first
        /// application: uuid order in PostgreSQL is the order of the lowercase text.
        var candidates: [BoxPickup.Candidate] {
            let ordered = rows.sorted {
                ($0.id.uuidString.lowercased(), $0.applicationID.uuidString.lowercased()) < ($1.id.uuidString.lowercased(), $1.applicationID.uuidString.lowercased())
            }
            var candidates: [BoxPickup.Candidate] = []
            for candidate in ordered where candidates.last?.id != candidate.id { candidates.append(candidate) }
            return candidates
        }
    }

    /// Step 1's old read (PINs of the old form), without a lock; nil when the box is gone.
    static func readStart(_ c: any PickupQueries, box: BoxPrincipal, mobile: String) throws -> StartRead? {
        let rows = try c.query("""
            SELECT requires_pin_letter, second_factor, requires_old_document, assignment_id, pin_hmac, locked, application_id, issuance, has_can
            FROM pickup_candidates(\(box.authorityID), \(box.boxID), \(mobile))
            """)
        guard let head = rows.first else { return nil }
        let policy = try policy(head)
        let candidates = try rows.compactMap { row -> BoxPickup.Candidate? in
            guard let id = try row.decode(UUID?.self, column: "assignment_id") else { return nil }
            return BoxPickup.Candidate(
                id: id, stored: try row.decode([UInt8]?.self, column: "pin_hmac") ?? [], locked: try row.decode(Bool.self, column: "locked"),
                applicationID: try row.decode(UUID.self, column: "application_id"), issuance: try row.decode(Issuance.self, column: "issuance"),
                hasCAN: try row.decode(Bool.self, column: "has_can"))
        }
        return StartRead(policy: policy, rows: candidates)
    }

    /// What step 2 decides on: the box, and its session of the path's pickup id (nil when it has none).
    struct FactorsRead: Sendable {
        struct Session: Sendable {
            /// The factors step 1 asked for.
            let required: [PickupFactor]
            /// Expired, or verified already.
            let done: Bool
            let dateOfBirth: String?
            let canHash: [UInt8]?
        }
        let box: BoxPrincipal
        let pickupID: UUID?
        let session: Session?
        let tokenHash: [UInt8]
        /// Remembered from the first step this server answered (`BoxAdmissions`), not read for this
        /// request: the step's call checks the token.
        var isClaim = false
    }

    /// The admission of `POST /api/v1/box/pickups/{id}/factors`: the session the first step remembered for
    /// the token, as a claim the step's call checks; else read (nil when no box has the token). With an
    /// `Idempotency-Key` always read, as for the first step.
    static func readFactors(_ app: Application, _ request: Request, tokenHash: [UInt8]) throws -> FactorsRead? {
        let pickupID = UUID(uuidString: request.parameter("id"))
        if request.headers[Idempotency.header] == nil, let pickupID, let claim = app.boxAdmissions.claimSession(pickupID, tokenHash: tokenHash) {
            return claim
        }
        return try readFactorsFromDatabase(app, pickupID: pickupID, tokenHash: tokenHash)
    }

    /// The factors step's read from the database; nil when no box has the token. One
    /// statement (the box and "seen" by `boxOfToken`): it costs PostgreSQL half of what the function of
    /// Migrations/0023 did (49 against 103–126 µs a call, BENCHMARKS.md), which stays for the previous
    /// release. A factor the server does not know (never written by step 1) is a decoding error: an
    /// opaque 500, never a factor silently dropped.
    static func readFactorsFromDatabase(_ app: Application, pickupID: UUID?, tokenHash: [UInt8]) throws -> FactorsRead? {
        guard let row = try app.pool.query("""
            \(boxOfToken: tokenHash)
            SELECT b.authority_id, b.id AS box_id, b.site_id, ps.factors, ps.expires_at < now() OR ps.verified_at IS NOT NULL AS done,
                   a.date_of_birth, a.old_can_hash
            FROM b
            LEFT JOIN pickup_session ps ON ps.authority_id = b.authority_id AND ps.id = \(pickupID) AND ps.box_id = b.id
            LEFT JOIN application a ON a.authority_id = ps.authority_id AND a.id = ps.application_id
            """).first else { return nil }
        var session: FactorsRead.Session?
        if let required = try row.decode([PickupFactor]?.self, column: "factors") {
            session = .init(required: required, done: try row.decode(Bool.self, column: "done"),
                            dateOfBirth: try row.decode(String?.self, column: "date_of_birth"), canHash: try row.decode([UInt8]?.self, column: "old_can_hash"))
        }
        return FactorsRead(box: try box(row), pickupID: pickupID, session: session, tokenHash: tokenHash)
    }

    private static func box(_ row: PostgresRow) throws -> BoxPrincipal {
        BoxPrincipal(authorityID: try row.decode(UUID.self, column: "authority_id"), boxID: try row.decode(UUID.self, column: "box_id"),
                     siteID: try row.decode(UUID.self, column: "site_id"))
    }
}
