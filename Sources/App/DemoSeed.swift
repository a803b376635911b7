import Domain
import Foundation
import Logging
import Postgres

/// The demo of `make run`: an authority, a site with pickup hours, one box with 456 compartments
/// (19 rows × 24 columns, the lowest rows accessible), a supervisor and a caseworker, and about 50
/// applications in various states. Runs once: an existing demo is left alone.
public enum DemoSeed {
    public static let authoritySlug = "demo"

    public struct Credentials: Sendable {
        public let username: String
        public let role: String
        public let password: String
    }

    /// Seeds the demo if it is not there; returns the new logins (their passwords exist only here).
    public static func run(connectionString: String, logger: Logger) throws -> [Credentials]? {
        let pool = PostgresPool(configuration: PostgresConfiguration(connectionString: connectionString, poolSize: 1), logger: logger)
        defer { pool.shutdown() }
        return try pool.transaction { c -> [Credentials]? in
            // Two processes seeding at once: the second waits here and then finds the demo.
            try c.execute("SELECT pg_advisory_xact_lock(4242001)")
            guard try c.query("SELECT 1 FROM authority WHERE slug = \(authoritySlug)").isEmpty else { return nil }
            let authority = UUID(), site = UUID(), box = UUID()
            try c.execute("INSERT INTO authority (id, slug, name) VALUES (\(authority), \(authoritySlug), 'Ausländerbehörde Musterstadt (Demo)')")
            try c.execute("""
                INSERT INTO site (authority_id, id, name, address, land)
                VALUES (\(authority), \(site), 'Bürgeramt Mitte', 'Marktplatz 1, 44135 Musterstadt', 'NW')
                """)
            try c.execute("""
                INSERT INTO site_pickup_hours (authority_id, site_id, weekday, opens, closes)
                SELECT \(authority)::uuid, \(site)::uuid, d, time '06:00', CASE WHEN d = 4 THEN time '20:00' ELSE time '17:00' END FROM generate_series(1, 5) d
                UNION ALL SELECT \(authority)::uuid, \(site)::uuid, 6, time '08:00', time '13:00'
                """)
            try c.execute("INSERT INTO box (authority_id, id, site_id, name) VALUES (\(authority), \(box), \(site), 'Ausgabebox Foyer')")
            let rows = 19, columns = 24
            var numbers: [Int] = [], rowIndexes: [Int] = [], columnIndexes: [Int] = [], heights: [Int] = [], accessible: [String] = []
            for row in 1...rows {
                // Row 1 is the top row (as in POST /boxes/{id}/compartments); the bottom row's floor is 40 cm above
                // the ground, 8 cm per row: the lowest nine rows (40–104 cm) are accessible.
                let height = 40 + (rows - row) * 8
                for column in 1...columns {
                    numbers.append((row - 1) * columns + column)
                    rowIndexes.append(row)
                    columnIndexes.append(column)
                    heights.append(height)
                    accessible.append(CompartmentCandidate.isAccessible(floorHeightCm: height) ? "t" : "f")
                }
            }
            try c.execute("""
                INSERT INTO compartment (authority_id, id, box_id, number, row_index, column_index, size_class, floor_height_cm, accessible)
                SELECT \(authority), gen_random_uuid(), \(box), n, r, col, 1, h, a::boolean
                FROM unnest(\(numbers)::int[], \(rowIndexes)::int[], \(columnIndexes)::int[], \(heights)::int[], \(accessible)::text[]) AS t(n, r, col, h, a)
                """)
            var credentials: [Credentials] = []
            for (username, name, role) in [("chef", "Dana Vorgesetzt", "supervisor"), ("sachbearbeitung", "Sam Sachbearbeitung", "caseworker")] {
                let password = Crypto.base64URL(Crypto.randomBytes(12))
                try c.execute("""
                    INSERT INTO app_user (authority_id, id, username, display_name, role, password_hash)
                    VALUES (\(authority), \(UUID()), \(username), \(name), \(role), \(PasswordHasher.hash(password)))
                    """)
                credentials.append(Credentials(username: username, role: role, password: password))
            }
            try seedApplications(c, authority: authority, site: site, box: box)
            try Audit.record(c, authorityID: authority, actor: .system, action: "demo.seeded", entityType: "authority", entityID: authority, requestID: nil, clientAddress: nil)
            return credentials
        }
    }

    static let families = ["Yılmaz", "Kowalski", "Nguyen", "Haddad", "Petrenko", "Okafor", "Rossi", "Popescu", "Ahmadi", "García"]
    static let givenNames = ["Ayşe", "Jan", "Linh", "Omar", "Olena", "Chidi", "Giulia", "Andrei", "Zahra", "Lucía"]

    private static func seedApplications(_ c: PostgresConnection, authority: UUID, site: UUID, box: UUID) throws {
        let plan: [(state: String, count: Int)] = [
            ("registered", 10), ("in_production", 10), ("assigned", 10), ("ready_in_box", 5), ("ready_at_counter", 5), ("collected", 5), ("cancelled", 5),
        ]
        var rng = SystemRandomNumberGenerator()
        let freeCompartments = try c.query("""
            SELECT id FROM compartment WHERE authority_id = \(authority) AND box_id = \(box) AND NOT accessible ORDER BY number LIMIT 15
            """).map { try $0.decode(UUID.self, at: 0) }
        var compartmentIndex = 0
        var i = 0
        for (state, count) in plan {
            for _ in 0..<count {
                defer { i += 1 }
                let id = UUID()
                let boxPickup = state != "ready_at_counter" && i % 4 != 3
                let mobile = "+49151" + String(format: "%08d", 10_000 + i)   // fictitious
                try c.execute("""
                    INSERT INTO application (authority_id, id, vorgangsnummer, site_id, document_type, issuance, family_name, given_names, date_of_birth,
                        mobile_number, pickup_method, fee_cents, fee_settled, state, cancel_reason, created_at)
                    VALUES (\(authority), \(id), \(Vorgangsnummer.generate(using: &rng).value), \(site), \(i % 5 == 0 ? "travel_document" : "eat"),
                        \(i % 3 == 0 ? "renewal" : "first"), \(families[i % families.count]), \(givenNames[(i * 7) % givenNames.count]),
                        \(String(format: "%04d-%02d-%02d", 1960 + i % 45, 1 + i % 12, 1 + i % 28)), \(mobile), \(boxPickup ? "box" : "counter"),
                        \(i % 3 == 0 ? 9300 : 10000), true, \((state == "assigned" || state == "ready_in_box") && !boxPickup ? "ready_at_counter" : state),
                        \(state == "cancelled" ? "Antrag zurückgenommen" : nil), now() - make_interval(days => \(50 - i)))
                    """)
                if (state == "assigned" || state == "ready_in_box") && boxPickup && compartmentIndex < freeCompartments.count {
                    let assignment = UUID()
                    let compartment = freeCompartments[compartmentIndex]
                    compartmentIndex += 1
                    let status = state == "assigned" ? "assigned" : "loaded"
                    try c.execute("""
                        INSERT INTO assignment (authority_id, id, compartment_id, status, loaded_at)
                        VALUES (\(authority), \(assignment), \(compartment), \(status), \(status == "loaded" ? Date() : nil))
                        """)
                    try c.execute("UPDATE compartment SET state = 'occupied' WHERE authority_id = \(authority) AND id = \(compartment)")
                    try c.execute("""
                        UPDATE application SET assignment_id = \(assignment),
                            pickup_deadline = CASE WHEN \(status) = 'loaded' THEN current_date + 14 END
                        WHERE authority_id = \(authority) AND id = \(id)
                        """)
                } else if (state == "assigned" || state == "ready_in_box") && boxPickup {
                    try c.execute("UPDATE application SET state = 'delivered' WHERE authority_id = \(authority) AND id = \(id)")
                }
            }
        }
    }
}
