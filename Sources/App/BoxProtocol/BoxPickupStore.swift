import Domain
import Foundation
import HTTPServer
import Postgres

/// The pickup's SQL, rows decoded by column name. The first step is one round trip: one call that checks
/// the box's token and its site's factors the server remembered (`BoxAdmissions`), reads the number's
/// compartments, compares the PIN key and writes the outcome (Migrations/0025); two when nothing was
/// remembered (the admission reads the box and the factors first), three when it no longer held.
/// The second step is one after a first step this server accepted (it remembers the session: `BoxAdmissions`),
/// else two: the read in the admission (the token's box and its session, before the body is read),
/// then the write (`pickup_verify_claimed`). The writes pass the gate, count and record the
/// outcome under the box's lock. The decisions are the server's (`BoxPickup`, the Domain rules); a PIN
/// of the old form takes the first step's old path, three round trips (`readStart`, `startLegacy`).
enum BoxPickupStore {
    // MARK: - Writes, under the box's lock

    /// What the steps' functions answer.
    struct Written {
        enum Outcome: String, PostgresDecodable, CaseIterable {
            case noBox = "no_box", throttled, outsideHours = "outside_hours"
            case accepted, deadlinePassed = "deadline_passed", refused
            /// `pickup_start_claimed`: no match, and a PIN of the old form among the candidates.
            case legacy
            /// `pickup_start_claimed`: the site's factors are no longer the ones claimed (nothing written).
            case stale
            case notFound = "not_found", expired, factorsRefused = "factors_refused", verified
        }
        /// An outcome this build does not know is a decoding error (an opaque 500), a schema/server mismatch.
        let outcome: Outcome
        /// `throttled`: seconds until the box takes pickups again.
        let waitSeconds: Int?
        /// A refusal that blocked the box, and the failures counted at it.
        let boxBlocked: Bool
        let failures: Int?
        /// `verified`: the compartment to open.
        let opened: BoxPickup.Open?
        /// `accepted`: the factors the session asks for.
        var factors: [PickupFactor]?
        /// `accepted` by `pickup_start_claimed`: what the factors are checked against (the application
        /// matched's date of birth and CAN hash), for the second step's claim.
        var matched: FactorsRead.Session?
    }

    /// Step 1 in one call: the token checked (`no_box` when the admission's box no longer has it) and, for a
    /// claim, the site's factors (`stale`); then the number's compartments read under the box's lock, the
    /// PIN key compared, the outcome written; the session asks for the factors the admission's policy gives
    /// the application matched. A guess counts against every open assignment of this number at this box; a
    /// locked one stays locked.
    ///
    /// An accepted step commits without waiting for its WAL to reach the disk (`synchronous_commit` off for
    /// its transaction only, as the SMS dispatcher's bookkeeping does). It only opens a session, which a
    /// crash of PostgreSQL before the WAL writer's next flush (a fraction of a second) may lose: the factors
    /// step then finds no session (404) and the person starts again, as after the session's two minutes
    /// (with an `Idempotency-Key`, the stored answer goes with it and a retry runs the step again). Nothing
    /// happens at the box before the factors step, whose commit waits for the disk as every other step's
    /// does and flushes the session's WAL with its own. Refusals, throttles and a passed deadline keep the
    /// synchronous commit: what they count must survive a crash. A flushed commit cost PostgreSQL 70–150 µs
    /// of CPU on the benchmark machine (BENCHMARKS.md).
    static func start(_ c: any PickupQueries, _ admission: StartAdmission, mobile: String, pinKey: [UInt8], session: BoxPickup.Session,
                      limits: PickupLimits) throws -> Written? {
        let box = admission.box, choices = admission.choiceArrays
        let claim = admission.isClaim ? admission.policy : nil
        guard let row = try c.query("""
            SELECT s.outcome, s.wait_seconds, s.failures, s.box_blocked, s.factors, s.date_of_birth, s.old_can_hash,
                   CASE WHEN s.outcome = \(literal: Written.Outcome.accepted) THEN set_config('synchronous_commit', 'off', true) END AS commit_without_flush
            FROM pickup_start_claimed(
                \(admission.tokenHash), \(box.authorityID), \(box.boxID),
                \(claim?.requiresPinLetter), \(claim?.secondFactor.rawValue), \(claim?.requiresOldDocument),
                \(mobile), \(pinKey), \(session.pickupId),
                \(choices.first)::text[], \(choices.renewalWithCAN)::text[], \(choices.renewalWithoutCAN)::text[], \(session.expiresAt),
                \(limits.perAssignment), \(limits.perBox), \(limits.boxWindowMinutes), \(limits.boxBlockMinutes)) s
            """).first else { return nil }
        var result = try written(row)
        if result.outcome == .accepted, let factors = result.factors {
            result.matched = FactorsRead.Session(required: factors, done: false, dateOfBirth: try row.decode(String?.self, column: "date_of_birth"),
                                                 canHash: try row.decode([UInt8]?.self, column: "old_can_hash"))
        }
        return result
    }

    /// Step 1's old write, after `readStart` (PINs of the old form): a guess counts against every open
    /// assignment of this number at this box (`candidates`); a locked one stays locked.
    static func startLegacy(_ c: any PickupQueries, box: BoxPrincipal, candidates: [BoxPickup.Candidate], matched: BoxPickup.Candidate?,
                            session: BoxPickup.Session, limits: PickupLimits) throws -> Written? {
        try c.query("""
            SELECT outcome, wait_seconds, failures, box_blocked, \(session.factors)::text[] AS factors FROM pickup_start(
                \(box.authorityID), \(box.boxID), \(candidates.map(\.id))::uuid[], \(matched?.id), \(matched?.stored),
                \(session.pickupId), \(matched?.applicationID), \(session.factors)::text[], \(session.expiresAt),
                \(limits.perAssignment), \(limits.perBox), \(limits.boxWindowMinutes), \(limits.boxBlockMinutes))
            """).first.map(written)
    }

    /// Step 2's write: `satisfied` is whether every factor the session asks for was given and right. The
    /// token is checked too (`no_box` when the session's box no longer has it: nothing written).
    static func verify(_ c: any PickupQueries, _ read: FactorsRead, pickupID: UUID, satisfied: Bool, requestID: String, clientAddress: String,
                       limits: PickupLimits) throws -> Written? {
        try c.query("""
            SELECT outcome, wait_seconds, failures, box_blocked, assignment_id, compartment_number FROM pickup_verify_claimed(
                \(read.tokenHash), \(read.box.authorityID), \(read.box.boxID), \(pickupID), \(satisfied), \(requestID), \(clientAddress),
                \(limits.perAssignment), \(limits.perBox), \(limits.boxWindowMinutes), \(limits.boxBlockMinutes))
            """).first.map(written)
    }

    /// An outcome the call should not have answered here (a schema and server that disagree): an opaque 500.
    struct UnexpectedOutcome: Error {
        let outcome: Written.Outcome
    }

    private static func written(_ row: PostgresRow) throws -> Written {
        let outcome = try row.decode(Written.Outcome.self, column: "outcome")
        var opened: BoxPickup.Open?
        if outcome == .verified {
            opened = BoxPickup.Open(assignmentId: try row.decode(UUID.self, column: "assignment_id"),
                                    compartmentNumbers: [try row.decode(Int.self, column: "compartment_number")])
        }
        let factors = outcome == .accepted ? try row.decode([PickupFactor].self, column: "factors") : nil
        return Written(outcome: outcome, waitSeconds: try row.decode(Int?.self, column: "wait_seconds"),
                       boxBlocked: try row.decode(Bool?.self, column: "box_blocked") == true,
                       failures: try row.decode(Int?.self, column: "failures"), opened: opened, factors: factors)
    }
}

/// A pickup step's write runs on the pool (the function's call is its own transaction) or on one
/// connection inside the idempotency key's transaction.
protocol PickupQueries {
    func query(_ query: PostgresQuery) throws -> PostgresRows
}

extension PostgresPool: PickupQueries {}
extension PostgresConnection: PickupQueries {}
