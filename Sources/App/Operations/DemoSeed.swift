import Crypto
import Domain
import Foundation
import Logging
import Postgres

/// The demo of `make run`: an authority, a site open around the clock (so a demo pickup works at any
/// hour), one box with 456 compartments (19 rows × 24 columns, the lowest rows accessible) and its
/// token, a supervisor and a caseworker, and about 50 applications in various states — the delivered
/// ones with their documents, and the assigned ones in the box's feed, ready to be loaded at once.
/// Runs once: an existing demo is left alone.
public enum DemoSeed {
    public static let authoritySlug = "demo"

    public struct Credentials: Sendable {
        public let username: String
        public let role: String
        public let password: String
    }

    /// What a new demo prints once: the logins and the box's token exist only here.
    public struct Created: Sendable {
        public let credentials: [Credentials]
        public let boxName: String
        public let boxToken: String
    }

    public static let boxName = "Ausgabebox Foyer"

    /// Seeds the demo if it is not there; returns the new logins and box token.
    public static func run(connectionString: String, logger: Logger) throws -> Created? {
        let pool = PostgresPool(configuration: PostgresConfiguration(connectionString: connectionString, poolSize: 1), logger: logger)
        defer { pool.shutdown() }
        return try pool.transaction { c -> Created? in
            // Two processes seeding at once: the second waits here and then finds the demo.
            try c.execute("SELECT pg_advisory_xact_lock(4242001)")
            guard try c.query("SELECT 1 FROM authority WHERE slug = \(authoritySlug)").isEmpty else { return nil }
            let authority = Crypto.uuid(), site = Crypto.uuid(), box = Crypto.uuid()
            try c.execute("INSERT INTO authority (id, slug, name) VALUES (\(authority), \(authoritySlug), 'Ausländerbehörde Musterstadt (Demo)')")
            try c.execute("""
                INSERT INTO site (authority_id, id, name, address, land)
                VALUES (\(authority), \(site), 'Bürgeramt Mitte', 'Marktplatz 1, 44135 Musterstadt', 'NW')
                """)
            // Open around the clock: the README's walk-through works at any hour (a real site sets its own hours).
            try c.execute("""
                INSERT INTO site_pickup_hours (authority_id, site_id, weekday, opens, closes)
                SELECT \(authority)::uuid, \(site)::uuid, d, time '00:00', time '24:00' FROM generate_series(1, 7) d
                """)
            let token = Crypto.token()
            try c.execute("""
                INSERT INTO box (authority_id, id, site_id, name, token_hash, token_created_at)
                VALUES (\(authority), \(box), \(site), \(boxName), \(Crypto.sha256(Array(token.utf8))), now())
                """)
            try seedCompartments(c, authority: authority, box: box)
            let credentials = try seedUsers(c, authority: authority)
            let supervisor = try c.query("SELECT id FROM app_user WHERE authority_id = \(authority) AND username = 'chef'").first?.decode(UUID.self, column: "id")
            try seedApplications(c, authority: authority, site: site, box: box, receivedBy: supervisor ?? Crypto.uuid())
            try Audit.record(c, authorityID: authority, actor: .system, action: "demo.seeded", entityType: "authority", entityID: authority, requestID: nil, clientAddress: nil)
            return Created(credentials: credentials, boxName: boxName, boxToken: token)
        }
    }

    /// 19 rows of 24 compartments of one size.
    private static func seedCompartments(_ c: PostgresConnection, authority: UUID, box: UUID) throws {
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
    }

    /// A supervisor and a caseworker, each with a random password.
    private static func seedUsers(_ c: PostgresConnection, authority: UUID) throws -> [Credentials] {
        var credentials: [Credentials] = []
        for (username, name, role) in [("chef", "Dana Vorgesetzt", "supervisor"), ("sachbearbeitung", "Sam Sachbearbeitung", "caseworker")] {
            let password = Crypto.base64URL(Crypto.randomBytes(12))
            try c.execute("""
                INSERT INTO app_user (authority_id, id, username, display_name, role, password_hash)
                VALUES (\(authority), \(Crypto.uuid()), \(username), \(name), \(role), \(PasswordHasher.hash(password)))
                """)
            credentials.append(Credentials(username: username, role: role, password: password))
        }
        return credentials
    }

    static let families = ["Yılmaz", "Kowalski", "Nguyen", "Haddad", "Petrenko", "Okafor", "Rossi", "Popescu", "Ahmadi", "García"]
    static let givenNames = ["Ayşe", "Jan", "Linh", "Omar", "Olena", "Chidi", "Giulia", "Andrei", "Zahra", "Lucía"]

    private static func seedApplications(_ c: PostgresConnection, authority: UUID, site: UUID, box: UUID, receivedBy: UUID) throws {
        // One delivery note for every document the demo has received already.
        let delivery = Crypto.uuid()
        try c.execute("""
            INSERT INTO delivery (authority_id, id, delivery_note_number, received_at, received_by)
            VALUES (\(authority), \(delivery), 'DEMO-LS-1', now() - interval '1 day', \(receivedBy))
            """)
        var position = 0
        var toLoad: [(compartment: UUID, assignment: UUID)] = []
        let plan: [(state: ApplicationState, count: Int)] = [
            (.registered, 10), (.inProduction, 10), (.assigned, 10), (.readyInBox, 5), (.readyAtCounter, 5), (.collected, 5), (.cancelled, 5),
        ]
        var rng = SystemRandomNumberGenerator()
        let freeCompartments = try c.query("""
            SELECT id FROM compartment WHERE authority_id = \(authority) AND box_id = \(box) AND NOT accessible ORDER BY number LIMIT 15
            """).map { try $0.decode(UUID.self, column: "id") }
        var compartmentIndex = 0
        var i = 0
        for (state, count) in plan {
            for _ in 0..<count {
                defer { i += 1 }
                let id = Crypto.uuid()
                let boxPickup = state != .readyAtCounter && i % 4 != 3
                let inBox = state == .assigned || state == .readyInBox
                // Fixtures are inserted in their final state: a box document without a free compartment is
                // `delivered`, a counter one `ready_at_counter`.
                let compartment = inBox && boxPickup && compartmentIndex < freeCompartments.count ? freeCompartments[compartmentIndex] : nil
                let seeded: ApplicationState = !inBox || compartment != nil ? state : boxPickup ? .delivered : .readyAtCounter
                try seedApplication(c, authority: authority, site: site, id: id, index: i, state: state, seeded: seeded, boxPickup: boxPickup, rng: &rng)
                if let compartment {
                    compartmentIndex += 1
                    let assignment = try seedAssignment(c, authority: authority, application: id, compartment: compartment, loaded: state != .assigned)
                    if state == .assigned { toLoad.append((compartment, assignment)) }
                }
                if [.assigned, .readyInBox, .readyAtCounter, .collected].contains(state) {
                    position += 1
                    try seedDocument(c, authority: authority, application: id, delivery: delivery, position: position, index: i, collected: state == .collected)
                }
            }
        }
        // The box's feed names the compartments to load, as a delivery would have.
        try BoxChanges.recordAll(c, authorityID: authority, compartmentIDs: toLoad.map(\.compartment), kind: .toLoad, assignmentIDs: toLoad.map(\.assignment))
    }

    /// Application number `i` of the plan (`state`), stored as `seeded`: names, dates and numbers are fictitious.
    private static func seedApplication(_ c: PostgresConnection, authority: UUID, site: UUID, id: UUID, index i: Int, state: ApplicationState,
                                        seeded: ApplicationState, boxPickup: Bool, rng: inout SystemRandomNumberGenerator) throws {
        let mobile = "+49151" + String(format: "%08d", 10_000 + i)   // fictitious
        try c.execute("""
            INSERT INTO application (authority_id, id, vorgangsnummer, site_id, document_type, issuance, family_name, given_names, date_of_birth,
                mobile_number, pickup_method, fee_cents, fee_settled, state, cancel_reason, cancelled_at, created_at)
            VALUES (\(authority), \(id), \(Vorgangsnummer.generate(using: &rng).value), \(site), \(i % 5 == 0 ? "travel_document" : "eat"),
                \(i % 3 == 0 ? "renewal" : "first"), \(families[i % families.count]), \(givenNames[(i * 7) % givenNames.count]),
                \(String(format: "%04d-%02d-%02d", 1960 + i % 45, 1 + i % 12, 1 + i % 28)), \(mobile), \(boxPickup ? "box" : "counter"),
                \(i % 3 == 0 ? 9300 : 10000), true, \(seeded.rawValue),
                \(state == .cancelled ? "Antrag zurückgenommen" : nil),
                \(state == .cancelled ? Date().addingTimeInterval(-86_400 * Double(49 - i)) : nil), now() - make_interval(days => \(50 - i)))
            """)
    }

    /// The application's compartment, assigned or already loaded (with a pickup deadline in 14 days).
    private static func seedAssignment(_ c: PostgresConnection, authority: UUID, application id: UUID, compartment: UUID, loaded: Bool) throws -> UUID {
        let assignment = Crypto.uuid()
        let status: AssignmentStatus = loaded ? .loaded : .assigned
        try c.execute("""
            INSERT INTO assignment (authority_id, id, compartment_id, status, loaded_at)
            VALUES (\(authority), \(assignment), \(compartment), \(status), \(loaded ? Date() : nil))
            """)
        try c.execute("UPDATE compartment SET state = \(CompartmentState.occupied.rawValue) WHERE authority_id = \(authority) AND id = \(compartment)")
        try c.execute("""
            UPDATE application SET assignment_id = \(assignment),
                pickup_deadline = CASE WHEN \(loaded) THEN current_date + 14 END
            WHERE authority_id = \(authority) AND id = \(id)
            """)
        return assignment
    }

    /// The application's document, received with the demo's delivery note (and collected, for `collected`).
    private static func seedDocument(_ c: PostgresConnection, authority: UUID, application id: UUID, delivery: UUID, position: Int, index i: Int,
                                     collected: Bool) throws {
        // Demo document numbers: T + 8 digits (valid ICAO document numbers, fictitious).
        let document = "T" + String(format: "%08d", 90_000 + i)
        try c.execute("""
            INSERT INTO delivery_item (authority_id, delivery_id, position, document_number, vorgangsnummer, result, application_id)
            SELECT \(authority), \(delivery), \(position), \(document), vorgangsnummer, \(DeliveryResult.matched), id FROM application
            WHERE authority_id = \(authority) AND id = \(id)
            """)
        try c.execute("""
            INSERT INTO document (authority_id, document_number, delivery_id, application_id) VALUES (\(authority), \(document), \(delivery), \(id))
            """)
        if collected {
            try c.execute("UPDATE application SET collected_at = now() - make_interval(days => \(i % 7)) WHERE authority_id = \(authority) AND id = \(id)")
        }
    }
}
