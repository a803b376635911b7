@testable import App
import Domain
import Foundation
import HTTPTestSupport
import Postgres
import Testing

/// One rule for which compartment a document gets (`CompartmentCandidate`, Domain): on random box
/// layouts — sizes, accessible rows, heights, blocked and occupied compartments, one or two boxes — what
/// the database assigns through `POST /deliveries` is what the Domain rule chooses on the same rows.
@Suite("Compartment choice: the database assigns what Domain chooses")
struct CompartmentChoiceTests {
    /// A reproducible generator (SplitMix64), so a failing layout can be replayed from its seed.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Random compartments in one or two boxes at the town's site; some blocked.
    static func randomLayout(_ app: Application, _ town: AuthorityFixture, _ random: inout Seeded) throws {
        let heights = [0, 20, 40, 41, 60, 85, 85, 100, 110, 111, 140, 170, 200]
        for b in 0..<Int.random(in: 1...2, using: &random) {
            let boxID = UUID()
            try app.pool.execute("INSERT INTO box (authority_id, id, site_id, name) VALUES (\(town.authorityID), \(boxID), \(town.siteID), \("Box \(b)"))")
            for number in 1...Int.random(in: 3...10, using: &random) {
                let height = heights.randomElement(using: &random) ?? 85
                let blocked = Int.random(in: 0..<6, using: &random) == 0
                try app.pool.execute("""
                    INSERT INTO compartment (authority_id, id, box_id, number, row_index, column_index, size_class, floor_height_cm, accessible, state, block_reason)
                    VALUES (\(town.authorityID), \(UUID()), \(boxID), \(number), \(number), 1, \(Int.random(in: 1...3, using: &random)), \(height),
                            \(CompartmentCandidate.isAccessible(floorHeightCm: height)), \(blocked ? "blocked" : "available"), \(blocked ? "defect" : nil as String?))
                    """)
            }
        }
    }

    /// The site's compartments as the Domain rule sees them.
    static func candidates(_ app: Application, _ town: AuthorityFixture) throws -> [CompartmentCandidate] {
        try app.pool.query("""
            SELECT c.id, c.box_id, c.number, c.size_class, c.floor_height_cm, c.accessible, c.state FROM compartment c
            JOIN box b ON b.authority_id = c.authority_id AND b.id = c.box_id
            WHERE c.authority_id = \(town.authorityID) AND b.site_id = \(town.siteID)
            """).map { row in
            CompartmentCandidate(id: try row.decode(UUID.self, at: 0), boxID: try row.decode(UUID.self, at: 1), number: try row.decode(Int.self, at: 2),
                                 sizeClass: try row.decode(Int.self, at: 3), floorHeightCm: try row.decode(Int.self, at: 4),
                                 accessible: try row.decode(Bool.self, at: 5), state: try #require(CompartmentState(rawValue: try row.decode(String.self, at: 6))))
        }
    }

    static func compartment(of application: String, _ app: Application, _ town: AuthorityFixture) throws -> UUID? {
        try app.pool.query("""
            SELECT asg.compartment_id FROM application a JOIN assignment asg ON asg.authority_id = a.authority_id AND asg.id = a.assignment_id
            WHERE a.authority_id = \(town.authorityID) AND a.id = \(UUID(uuidString: application) ?? UUID())
            """).first?.decode(UUID.self, at: 0)
    }

    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6, 7, 8])
    func randomLayout_deliveredOneByOneAndInBatches_getsWhatDomainChooses(seed: UInt64) throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        var random = Seeded(state: seed)
        try Self.randomLayout(app, town, &random)
        let client = try town.login(app)
        var document = Int(seed) * 1000
        var rounds = 0
        while rounds < 12 {
            rounds += 1
            let before = try Self.candidates(app, town)
            let needsAccessible = Bool.random(using: &random)
            // One by one, or a batch of up to three of one kind (which take the best ones in order).
            let batch = Int.random(in: 1...3, using: &random)
            let ranked = CompartmentCandidate.ranked(before, minimumSize: CompartmentCandidate.anyDocument, needsAccessible: needsAccessible)
            var registered: [(id: String, number: String)] = []
            for _ in 0..<batch {
                let (id, number) = try town.register(client, ["needsAccessibleCompartment": needsAccessible])
                registered.append((id, number))
            }
            let items: [[String: Any]] = registered.map { r in
                document += 1
                return ["documentNumber": documentNumber(document), "vorgangsnummer": r.number]
            }
            let (status, body) = client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "P-\(seed)-\(rounds)", "items": items])
            #expect(status == 201, "\(body)")
            for (i, r) in registered.enumerated() {
                let expected = i < ranked.count ? ranked[i].id : nil
                #expect(try Self.compartment(of: r.id, app, town) == expected,
                        "seed \(seed), round \(rounds), document \(i) of \(batch), needsAccessible \(needsAccessible): layout \(before)")
            }
            // The first of each round is exactly `choose`.
            #expect(ranked.first == CompartmentCandidate.choose(from: before, minimumSize: CompartmentCandidate.anyDocument, needsAccessible: needsAccessible))
            if ranked.isEmpty { break }
        }
    }
}
