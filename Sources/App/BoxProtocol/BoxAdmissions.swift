import Domain

/// What earlier admissions of `POST /api/v1/box/pickups` read, per token hash: the box and its site's
/// factors. A claim, never a fact: the step's call checks the token and the factors under the box's lock
/// and answers `no_box` or `stale` (nothing written) when they no longer hold (Migrations/0025), and the
/// server then forgets the entry and admits the box from the database. So the step is one round trip
/// instead of two, and a rotated or revoked token is still refused at once.
///
/// Only hashes of tokens that were valid are kept. A city's boxes are a few hundred; past `capacity`
/// entries the map starts again empty rather than keeping the tokens of boxes long gone.
final class BoxAdmissions: Sendable {
    static let capacity = 10_000

    private let entries = ReadMostly<[[UInt8]: BoxPickupStore.StartAdmission]>([:])

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
