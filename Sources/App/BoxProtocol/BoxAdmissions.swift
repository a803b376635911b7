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
/// hash of the application matched). A session is kept until it is verified or expires (two minutes;
/// the expired ones are dropped whenever another is remembered), and only given out for the token that
/// started it; the factors step's call checks the token and the
/// session under their locks (`pickup_verify_claimed`). The date of birth is held in memory only, as
/// during any request, and never logged.
final class BoxAdmissions: Sendable {
    static let capacity = 10_000

    private let entries = ReadMostly<[[UInt8]: BoxPickupStore.StartAdmission]>([:])

    private struct Session {
        let expires: Date
        let read: BoxPickupStore.FactorsRead
    }

    /// The sessions, and their ids in the order they were remembered (so by expiry, give or take the
    /// threads' order): each remembering first drops the expired ones from the front.
    private struct Sessions {
        var byID: [UUID: Session] = [:]
        var order: [(expires: Date, id: UUID)] = []
        var head = 0

        mutating func dropExpired(now: Date) {
            while head < order.count, order[head].expires <= now {
                byID.removeValue(forKey: order[head].id)
                head += 1
            }
            if head > 1_024 && head * 2 > order.count {
                order.removeFirst(head)
                head = 0
            }
        }
    }

    private let sessions = ReadMostly(Sessions())

    /// The session a first step accepted, for its factors step.
    func rememberSession(_ pickupID: UUID, admission: BoxPickupStore.StartAdmission, session: BoxPickupStore.FactorsRead.Session, expires: Date) {
        let read = BoxPickupStore.FactorsRead(box: admission.box, pickupID: pickupID, session: session, tokenHash: admission.tokenHash, isClaim: true)
        sessions.write { sessions in
            sessions.dropExpired(now: Date())
            if sessions.byID.count >= Self.capacity { sessions = Sessions() }
            sessions.byID[pickupID] = Session(expires: expires, read: read)
            sessions.order.append((expires, pickupID))
        }
    }

    /// The remembered session of `pickupID`, when the same token started it and it has not expired (an
    /// expired one is dropped).
    func claimSession(_ pickupID: UUID, tokenHash: [UInt8]) -> BoxPickupStore.FactorsRead? {
        guard let session = sessions.read({ $0.byID[pickupID] }) else { return nil }
        guard session.expires > Date() else {
            forgetSession(pickupID)
            return nil
        }
        return session.read.tokenHash == tokenHash ? session.read : nil
    }

    func forgetSession(_ pickupID: UUID) {
        _ = sessions.write { $0.byID.removeValue(forKey: pickupID) }
    }

    /// Sessions remembered and not yet dropped (for tests).
    var sessionCount: Int { sessions.read { $0.byID.count } }

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
}
