import Domain
import Foundation

/// What earlier admissions of `POST /api/v1/box/pickups` read, per token hash: the box and its site's
/// factors. A claim, never a fact: the step's call checks the token and the factors under the box's lock
/// and answers `no_box` or `stale` (nothing written) when they no longer hold (Migrations/0025), and the
/// server then forgets the entry and admits the box from the database. So the step is one round trip
/// instead of two, and a rotated or revoked token is still refused at once.
///
/// Only hashes of tokens that were valid are kept. A city's boxes are a few hundred; past `capacity`
/// entries the map starts again empty rather than keeping the tokens of boxes long gone.
///
/// Likewise the sessions this server's first steps accepted, for the factors step: the box (with the
/// token's hash), the factors asked for and what they are checked against (the date of birth and the CAN
/// hash of the application matched). A session is kept until it is verified or expires (two minutes),
/// and only given out for the token that started it; the factors step's call checks the token and the
/// session under their locks (`pickup_verify_claimed`). The date of birth is held in memory only, as
/// during any request, and never logged.
final class BoxAdmissions: Sendable {
    static let capacity = 10_000

    private let entries = ReadMostly<[[UInt8]: BoxPickupStore.StartAdmission]>([:])

    private struct Session {
        let expires: Date
        let read: BoxPickupStore.FactorsRead
    }

    private let sessions = ReadMostly<[UUID: Session]>([:])

    /// The session a first step accepted, for its factors step.
    func rememberSession(_ pickupID: UUID, admission: BoxPickupStore.StartAdmission, session: BoxPickupStore.FactorsRead.Session, expires: Date) {
        let read = BoxPickupStore.FactorsRead(box: admission.box, pickupID: pickupID, session: session, tokenHash: admission.tokenHash, isClaim: true)
        sessions.write { sessions in
            if sessions.count >= Self.capacity {
                let now = Date()
                sessions = sessions.filter { $0.value.expires > now }
                if sessions.count >= Self.capacity { sessions.removeAll(keepingCapacity: true) }
            }
            sessions[pickupID] = Session(expires: expires, read: read)
        }
    }

    /// The remembered session of `pickupID`, when the same token started it and it has not expired.
    func claimSession(_ pickupID: UUID, tokenHash: [UInt8]) -> BoxPickupStore.FactorsRead? {
        guard let session = sessions.read({ $0[pickupID] }), session.read.tokenHash == tokenHash, session.expires > Date() else { return nil }
        return session.read
    }

    func forgetSession(_ pickupID: UUID) {
        _ = sessions.write { $0.removeValue(forKey: pickupID) }
    }

    var sessionCount: Int { sessions.read { $0.count } }

    /// The admission remembered for `tokenHash`, marked as a claim.
    func claim(_ tokenHash: [UInt8]) -> BoxPickupStore.StartAdmission? {
        entries.read { $0[tokenHash] }.map { $0.claimed }
    }

    func remember(_ admission: BoxPickupStore.StartAdmission) {
        entries.write { entries in
            if entries.count >= Self.capacity && entries[admission.tokenHash] == nil { entries.removeAll(keepingCapacity: true) }
            entries[admission.tokenHash] = admission
        }
    }

    func forget(_ tokenHash: [UInt8]) {
        _ = entries.write { $0.removeValue(forKey: tokenHash) }
    }

    var count: Int { entries.read { $0.count } }
}
