@testable import App
import Domain
import Foundation
import HTTPTestSupport
import Postgres
import Testing

extension AuthorityFixture {
    /// A box at the fixture's site: `rows` × `columns` compartments, row 1 at 30 cm (accessible rows
    /// follow the Domain rule), numbered row-major.
    @discardableResult
    func makeBox(_ app: Application, rows: Int, columns: Int, name: String = "Box \(UUID().uuidString.prefix(4))") throws -> UUID {
        let boxID = UUID()
        try app.pool.transaction { c in
            try c.execute("INSERT INTO box (authority_id, id, site_id, name) VALUES (\(authorityID), \(boxID), \(siteID), \(name))")
            for row in 1...rows {
                let height = 30 + (row - 1) * min(35, 250 / rows)
                try c.execute("""
                    INSERT INTO compartment (authority_id, id, box_id, number, row_index, column_index, size_class, floor_height_cm, accessible)
                    SELECT \(authorityID), gen_random_uuid(), \(boxID), (\(row) - 1) * \(columns) + col, \(row), col, 1, \(height), \(CompartmentCandidate.isAccessible(floorHeightCm: height))
                    FROM generate_series(1, \(columns)) col
                    """)
            }
        }
        return boxID
    }

    /// Registers an application over HTTP and returns (id, vorgangsnummer).
    func register(_ client: StaffClient, _ overrides: [String: Any] = [:]) throws -> (String, String) {
        let (status, body) = client.json("POST", "/api/v1/applications", json: applicationBody(overrides))
        #expect(status == 201, "\(body)")
        return (try #require(body["id"] as? String), try #require(body["vorgangsnummer"] as? String))
    }
}

func documentNumber(_ n: Int) -> String { "L" + String(format: "%08d", n) }

@Suite("Deliveries and compartment assignment")
struct DeliveryTests {
    @Test func reportsEveryItem_andAssignsOrRoutesMatchedOnes() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        try town.makeBox(app, rows: 3, columns: 4)
        let client = try town.login(app)
        let (boxApp, boxNumber) = try town.register(client)
        let (unpaidApp, unpaidNumber) = try town.register(client, ["feeSettled": false])
        let (counterApp, counterNumber) = try town.register(client, ["pickupMethod": "counter"])
        let items: [[String: Any]] = [
            ["documentNumber": documentNumber(1), "vorgangsnummer": boxNumber],
            ["documentNumber": documentNumber(2), "vorgangsnummer": unpaidNumber],
            ["documentNumber": documentNumber(3), "vorgangsnummer": counterNumber],
            ["documentNumber": documentNumber(4), "vorgangsnummer": "K7M4XQ9TR2"],
            ["documentNumber": documentNumber(5)],
            ["documentNumber": "O0000000I"],
            ["documentNumber": documentNumber(1), "vorgangsnummer": boxNumber],
        ]
        let (status, delivery) = client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "LS-2026-0001", "items": items])
        #expect(status == 201, "\(delivery)")
        let results = (delivery["items"] as? [[String: Any]] ?? []).map { $0["result"] as? String ?? "?" }
        #expect(results == ["matched", "matched", "matched", "unknown", "unknown", "invalid", "duplicate"])
        let summary = delivery["summary"] as? [String: Int] ?? [:]
        #expect(summary["assigned"] == 1)
        #expect(summary["waitingForCompartment"] == 1)
        #expect(summary["readyAtCounter"] == 1)
        #expect(client.json("GET", "/api/v1/applications/\(boxApp)").1["state"] as? String == "assigned")
        #expect(client.json("GET", "/api/v1/applications/\(unpaidApp)").1["state"] as? String == "delivered")
        #expect(client.json("GET", "/api/v1/applications/\(counterApp)").1["state"] as? String == "ready_at_counter")
        // The same document again, and the same note again.
        let (_, second) = client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "LS-2026-0002", "items": [["documentNumber": documentNumber(9), "vorgangsnummer": boxNumber]]])
        #expect((second["items"] as? [[String: Any]])?.first?["result"] as? String == "already_delivered")
        #expect(client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "LS-2026-0001", "items": items]).0 == 409)
        // Stored as reported.
        let id = try #require(delivery["id"] as? String)
        #expect(client.json("GET", "/api/v1/deliveries/\(id)").1["summary"] as? [String: Int] == summary)
    }

    @Test func givesAccessibleCompartmentsOnlyToThoseWhoNeedThem() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        try town.makeBox(app, rows: 6, columns: 2)
        let client = try town.login(app)
        let (wheelchair, n1) = try town.register(client, ["needsAccessibleCompartment": true])
        let (standing, n2) = try town.register(client)
        _ = client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "A1", "items": [
            ["documentNumber": documentNumber(11), "vorgangsnummer": n1], ["documentNumber": documentNumber(12), "vorgangsnummer": n2],
        ]])
        func height(_ id: String) throws -> Int {
            try app.pool.query("""
                SELECT c.floor_height_cm FROM application a JOIN assignment s ON s.authority_id = a.authority_id AND s.id = a.assignment_id
                JOIN compartment c ON c.authority_id = s.authority_id AND c.id = s.compartment_id WHERE a.id = \(UUID(uuidString: id)!)
                """).first?.decode(Int.self, at: 0) ?? -1
        }
        #expect(CompartmentCandidate.isAccessible(floorHeightCm: try height(wheelchair)))
        #expect(!CompartmentCandidate.isAccessible(floorHeightCm: try height(standing)))
    }

    @Test func sharesOneCompartment_withinAHousehold() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        try town.makeBox(app, rows: 2, columns: 2)
        let client = try town.login(app)
        let family = UUID().uuidString
        let (a, na) = try town.register(client, ["householdGroup": family])
        let (b, nb) = try town.register(client, ["householdGroup": family, "givenNames": "Kind", "dateOfBirth": "2015-05-05"])
        _ = client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "H1", "items": [
            ["documentNumber": documentNumber(21), "vorgangsnummer": na], ["documentNumber": documentNumber(22), "vorgangsnummer": nb],
        ]])
        let ca = client.json("GET", "/api/v1/applications/\(a)").1["assignment"] as? [String: Any]
        let cb = client.json("GET", "/api/v1/applications/\(b)").1["assignment"] as? [String: Any]
        #expect(ca?["compartmentNumber"] as? Int != nil)
        #expect(ca?["id"] as? String == cb?["id"] as? String)
    }

    @Test func leavesApplicationsWaiting_whenTheBoxIsFull_andAssignsByHandLater() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        try town.makeBox(app, rows: 1, columns: 1)
        let client = try town.login(app)
        let (first, n1) = try town.register(client)
        let (second, n2) = try town.register(client)
        let (_, delivery) = client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "F1", "items": [
            ["documentNumber": documentNumber(31), "vorgangsnummer": n1], ["documentNumber": documentNumber(32), "vorgangsnummer": n2],
        ]])
        #expect((delivery["summary"] as? [String: Int])?["waitingForCompartment"] == 1)
        #expect(client.json("POST", "/api/v1/applications/\(second)/assignment").0 == 409)
        #expect(client.json("DELETE", "/api/v1/applications/\(first)/assignment").1["state"] as? String == "delivered")
        let (status, assigned) = client.json("POST", "/api/v1/applications/\(second)/assignment")
        #expect(status == 200)
        #expect(assigned["state"] as? String == "assigned")
        #expect(client.json("DELETE", "/api/v1/applications/\(first)/assignment").0 == 409)
    }

    @Test func importsTheDeliveryNoteAsCSV() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        try town.makeBox(app, rows: 2, columns: 2)
        let client = try town.login(app)
        let (_, n1) = try town.register(client)
        let csv = "\u{FEFF}Vorgangsnummer;document_number\r\n\(n1);\(documentNumber(41))\r\n\"\";\"\(documentNumber(42))\"\r\n"
        let reply = try #require(client.call("POST", "/api/v1/deliveries/import?deliveryNoteNumber=CSV-1", body: csv, headers: ["Content-Type: text/csv"]))
        #expect(reply.status == 201, "\(reply.text)")
        #expect(reply.text.contains(#""result":"matched""#))
        #expect(reply.text.contains(#""result":"unknown""#))
        #expect(client.call("POST", "/api/v1/deliveries/import?deliveryNoteNumber=CSV-2", body: "a,b\n1,2\n", headers: ["Content-Type: text/csv"])?.status == 400)
        #expect(client.call("POST", "/api/v1/deliveries/import?deliveryNoteNumber=CSV-3", body: "document_number\n\"open", headers: ["Content-Type: text/csv"])?.status == 400)
    }

    @Test func neverDoubleBooks_when64ClientsDeliver400DocumentsInto456Compartments() throws {
        let app = try AppFixture.make { c in
            c.workerThreads = 32
            c.databasePoolSize = 16
        }
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        try town.makeBox(app, rows: 19, columns: 24)
        // 400 settled box applications, registered directly (the HTTP path is tested elsewhere).
        let numbers: [String] = try app.pool.transaction { c in
            var rng = SystemRandomNumberGenerator()
            return try (0..<400).map { i in
                let number = Vorgangsnummer.generate(using: &rng).value
                try c.execute("""
                    INSERT INTO application (authority_id, id, vorgangsnummer, site_id, document_type, issuance, family_name, given_names, date_of_birth,
                        mobile_number, pickup_method, needs_accessible, fee_cents, fee_settled, state)
                    VALUES (\(town.authorityID), gen_random_uuid(), \(number), \(town.siteID), 'eat', 'first', 'N', 'V', '1990-01-01', '+491711234567', 'box',
                        \(i % 10 == 0), 10000, true, 'registered')
                    """)
                return number
            }
        }
        let groups = stride(from: 0, to: 400, by: 7).map { Array(numbers[$0..<min($0 + 7, 400)]) }
        let failures = Mutex64()
        DispatchQueue.concurrentPerform(iterations: 64) { worker in
            guard let client = try? town.login(app) else { failures.add(); return }
            for (g, group) in groups.enumerated() where g % 64 == worker {
                let items = group.enumerated().map { ["documentNumber": documentNumber(1000 + g * 10 + $0.offset), "vorgangsnummer": $0.element] }
                let status = client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "P-\(g)", "items": items]).0
                if status != 201 { failures.add() }
            }
        }
        #expect(failures.value == 0)
        let live = try app.pool.query("""
            SELECT count(*)::int8, count(DISTINCT compartment_id)::int8 FROM assignment WHERE authority_id = \(town.authorityID) AND status = 'assigned'
            """)
        #expect(try live.first?.decode(Int.self, at: 0) == 400)
        #expect(try live.first?.decode(Int.self, at: 1) == 400)
        let waiting = try app.pool.query("SELECT count(*)::int8 FROM application WHERE authority_id = \(town.authorityID) AND state = 'delivered'")
        #expect(try waiting.first?.decode(Int.self, at: 0) == 0)
        let occupied = try app.pool.query("SELECT count(*)::int8 FROM compartment c JOIN box b ON b.id = c.box_id WHERE b.authority_id = \(town.authorityID) AND c.state = 'occupied'")
        #expect(try occupied.first?.decode(Int.self, at: 0) == 400)
    }
}

/// One string set by another thread.
final class SharedText: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    func set(_ value: String) { lock.lock(); text = value; lock.unlock() }
    var value: String { lock.lock(); defer { lock.unlock() }; return text }
}

/// A thread-safe counter for tests.
final class Mutex64: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add(by n: Int = 1) { lock.lock(); count += n; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
