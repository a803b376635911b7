import Domain
import Foundation
import Postgres

/// Free compartments claimed in the order the Domain rule gives (`CompartmentCandidate.ranked`): the
/// candidates are read, ranked in Swift, and locked best first with `FOR UPDATE SKIP LOCKED` — one
/// a concurrent delivery holds or has just taken is passed over for the next best, so parallel
/// deliveries never wait on each other and never book one compartment twice (the partial unique index on
/// live assignments guards that too). The SQL only filters; it never decides which one is better.
enum CompartmentClaims {
    /// Up to `count` compartments at the site, best first, locked for the caller's transaction.
    /// `excluding`: compartments this transaction already claimed (SKIP LOCKED does not skip rows a
    /// transaction locked itself). `compartmentID`/`boxID` narrow the choice for a manual assignment.
    static func claim(_ connection: PostgresConnection, authorityID: UUID, siteID: UUID, needsAccessible: Bool, count: Int,
                      excluding: [UUID] = [], compartmentID: UUID? = nil, boxID: UUID? = nil) throws -> [CompartmentCandidate] {
        guard count > 0 else { return [] }
        let candidates = try connection.query("""
            SELECT c.id, c.box_id, c.number, c.size_class, c.floor_height_cm, c.accessible FROM compartment c
            WHERE c.authority_id = \(authorityID) AND c.state = \(literal: CompartmentState.available)
              AND c.box_id = ANY (ARRAY(SELECT id FROM box WHERE authority_id = \(authorityID) AND site_id = \(siteID)))
              AND (NOT \(needsAccessible) OR c.accessible)
              AND (\(compartmentID)::uuid IS NULL OR c.id = \(compartmentID))
              AND (\(boxID)::uuid IS NULL OR c.box_id = \(boxID))
              AND c.id <> ALL(\(excluding)::uuid[])
            """).map { row in
            CompartmentCandidate(id: try row.decode(UUID.self, column: "id"), boxID: try row.decode(UUID.self, column: "box_id"),
                                 number: try row.decode(Int.self, column: "number"), sizeClass: try row.decode(Int.self, column: "size_class"),
                                 floorHeightCm: try row.decode(Int.self, column: "floor_height_cm"), accessible: try row.decode(Bool.self, column: "accessible"),
                                 state: .available)
        }
        let ranked = CompartmentCandidate.ranked(candidates, minimumSize: CompartmentCandidate.anyDocument, needsAccessible: needsAccessible)
        var claimed: [CompartmentCandidate] = []
        var next = 0
        while claimed.count < count, next < ranked.count {
            let batch = ranked[next..<min(ranked.count, next + count - claimed.count)]
            next += batch.count
            // Still available (a delivery that committed since the read took it) and not held by another.
            let locked = Set(try connection.query("""
                SELECT id FROM compartment
                WHERE authority_id = \(authorityID) AND id = ANY(\(batch.map(\.id))) AND state = \(CompartmentState.available.rawValue)
                FOR UPDATE SKIP LOCKED
                """).map { try $0.decode(UUID.self, column: "id") })
            claimed += batch.filter { locked.contains($0.id) }
        }
        return claimed
    }
}
