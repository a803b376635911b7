import Crypto
import Domain
import Foundation

/// The first step's old path, for PINs sent before Migrations/0024: the server compares each candidate's
/// HMAC itself.
extension BoxPickup {
    /// The old path, for a number whose compartments here hold a PIN of the old form (sent before
    /// Migrations/0024): read, compare each candidate's HMAC here in constant time, write.
    static func startLegacy(_ app: Application, _ c: any PickupQueries, box: BoxPrincipal, mobile: String, pin: String,
                             session: Session) throws -> BoxPickupStore.Written {
        guard let read = try BoxPickupStore.readStart(c, box: box, mobile: mobile) else { throw BoxAuth.invalid }
        let candidates = read.candidates
        let matched = match(pin, among: candidates) { Pin.legacyHMAC($0, assignmentID: $1, key: app.secretKey) }.candidate
        var session = session
        session.factors = matched.map { read.policy.factors(issuance: $0.issuance, hasCAN: $0.hasCAN) } ?? []
        guard let written = try BoxPickupStore.startLegacy(c, box: box, candidates: candidates, matched: matched, session: session,
                                                           limits: app.configuration.pickupLimits) else { throw BoxAuth.invalid }
        return written
    }

    /// An open assignment of the mobile number at this box, as `pickup_candidates` reads it (the old path).
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
}
