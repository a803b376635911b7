@testable import App
import Domain
import Foundation
import HTTPServer
import HTTPTestSupport
import Logging
import Postgres
import Testing

/// `ApplicationTransitions`, the one writer of `application.state`, against real PostgreSQL.
@Suite("Application transitions")
struct ApplicationTransitionsTests {
    func state(_ app: Application, _ id: UUID) throws -> String? {
        try app.pool.query("SELECT state FROM application WHERE id = \(id)").first?.decode(String.self, at: 0)
    }

    @Test func apply_writesTheLifecycleTarget_whenTheRowIsStillInTheStateRead() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let id = try #require(UUID(uuidString: try town.register(try town.login(app)).0))
        let to = try app.pool.transaction { c in
            try ApplicationTransitions.apply(.sentToProduction, to: id, from: .registered, c, authorityID: town.authorityID)
        }
        #expect(to == .inProduction)
        #expect(try state(app, id) == "in_production")
    }

    @Test func apply_reportsALostRace_withTheStateTheRowIsInNow_andWritesNothing() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let id = try #require(UUID(uuidString: try town.register(try town.login(app)).0))
        // Read as `registered`, but sent to production by someone else in the meantime.
        try app.pool.execute("UPDATE application SET state = \(ApplicationState.inProduction.rawValue) WHERE id = \(id)")
        #expect(throws: IllegalTransition(state: .inProduction, event: .sentToProduction)) {
            try app.pool.transaction { c in
                try ApplicationTransitions.apply(.sentToProduction, to: id, from: .registered, c, authorityID: town.authorityID)
            }
        }
        #expect(try state(app, id) == "in_production")
    }

    @Test func apply_refusesAnEventTheLifecycleForbids_beforeWriting() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let id = try #require(UUID(uuidString: try town.register(try town.login(app)).0))
        #expect(throws: IllegalTransition(state: .registered, event: .pickedUp)) {
            try app.pool.transaction { c in
                try ApplicationTransitions.apply(.pickedUp, to: id, from: .registered, c, authorityID: town.authorityID)
            }
        }
        #expect(try state(app, id) == "registered")
    }

    @Test func batchApply_movesAllOrNone() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let client = try town.login(app)
        let first = try #require(UUID(uuidString: try town.register(client).0))
        let second = try #require(UUID(uuidString: try town.register(client).0))
        try app.pool.execute("UPDATE application SET state = \(ApplicationState.inProduction.rawValue) WHERE id = \(second)")
        // The second was read as `registered` but is `in_production`: nothing moves.
        #expect(throws: IllegalTransition(state: .inProduction, event: .deliveryRecorded(pickup: .counter))) {
            try app.pool.transaction { c in
                try ApplicationTransitions.apply([
                    .init(id: first, from: .registered, event: .deliveryRecorded(pickup: .counter)),
                    .init(id: second, from: .registered, event: .deliveryRecorded(pickup: .counter)),
                ], c, authorityID: town.authorityID)
            }
        }
        #expect(try state(app, first) == "registered")
        try app.pool.transaction { c in
            try ApplicationTransitions.apply([
                .init(id: first, from: .registered, event: .deliveryRecorded(pickup: .counter)),
                .init(id: second, from: .inProduction, event: .deliveryRecorded(pickup: .box)),
            ], c, authorityID: town.authorityID)
        }
        #expect(try state(app, first) == "ready_at_counter")
        #expect(try state(app, second) == "delivered")
    }

    @Test func illegalTransition_answers409_withTheCurrentState() throws {
        let response = try #require(ErrorMapping.response(for: IllegalTransition(state: .collected, event: .cancelled),
                                                          request: Request(method: .POST, target: "/"), logger: Logger(label: "test")))
        #expect(response.status == .conflict)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
        #expect(body["error"] as? String == "illegal_transition")
        #expect(body["state"] as? String == "collected")
    }

    /// The box reports `retrieved` for a compartment due for retrieval; a document of it still `ready_in_box`
    /// goes to the counter by the lifecycle's `ready_in_box ─retrievedByStaff─▶ ready_at_counter`.
    @Test func boxRetrieval_movesADocumentStillReadyInTheBox_toTheCounter() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 301)
        try app.pool.execute("UPDATE assignment SET status = 'retrieval_due' WHERE status = 'loaded'")
        let (status, result, _) = boxPost(app.port, token: token, "/api/v1/box/events", json: ["eventId": "r1", "kind": "retrieved", "compartmentNumber": doc.compartment])
        #expect(status == 200)
        #expect(result["state"] as? String == "ready_at_counter")
        let id = try #require(UUID(uuidString: doc.applicationID))
        #expect(try state(app, id) == "ready_at_counter")
        #expect(try app.pool.query("SELECT assignment_id FROM application WHERE id = \(id)").first?.decode(UUID?.self, at: 0) == nil)
    }

    /// The pickup functions (migrations 0021–0025) write attempts, sessions, the box's block and the
    /// assignment's lock, never an application's state: the lifecycle stays the only writer of it.
    @Test func pickupFunctions_writeNoApplicationState() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let bodies = try app.pool.query("SELECT proname, prosrc FROM pg_proc WHERE proname LIKE 'pickup\\_%'")
            .map { (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1).lowercased()) }
        #expect(Set(bodies.map(\.0)).isSuperset(of: ["pickup_start", "pickup_start_keyed", "pickup_start_claimed", "pickup_verify", "pickup_count_failure"]))
        for (name, body) in bodies {
            #expect(!body.contains("update application"), "\(name) updates application")
        }
    }

    /// Issue 13's "done when": no state literal in App's SQL; application states are written only by
    /// `ApplicationTransitions`.
    @Test func sources_writeApplicationStateOnlyThroughTheTransitionStore() throws {
        let root = packageRoot + "/Sources/App"
        let files = try #require(FileManager.default.enumerator(atPath: root)).compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        #expect(files.count > 50)
        for file in files where !file.hasSuffix("ApplicationTransitions.swift") {
            let text = try String(contentsOfFile: root + "/" + file, encoding: .utf8)
            #expect(!text.contains("state = '"), "\(file) writes or compares a state literal")
            let statements = text.components(separatedBy: "UPDATE application").dropFirst()
            for statement in statements {
                let setList = statement.prefix { $0 != "\"" }.components(separatedBy: "WHERE").first ?? ""
                #expect(!setList.contains("state ="), "\(file) sets application.state outside ApplicationTransitions")
            }
        }
    }
}

/// Closed sets read from the database: a value this build does not know is an error, never a default.
@Suite("Stored values of closed sets")
struct StoredValueTests {
    /// A pickup session naming a factor the server does not know answers an opaque 500: the factor is
    /// neither dropped (fewer factors asked) nor counted as a wrong answer.
    @Test func unknownStoredPickupFactor_isAServerError_notADroppedFactor() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 401)
        let (status, session, _) = boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": doc.pin])
        #expect(status == 201)
        let id = try #require(session["pickupId"] as? String)
        let pickupID = try #require(UUID(uuidString: id))
        try app.pool.execute("UPDATE pickup_session SET factors = factors || '{fingerprint}'::text[] WHERE id = \(pickupID)")
        // As a session another server started: read from the database, not remembered (BoxAdmissions).
        app.boxAdmissions.forgetSession(pickupID)
        let (answer, body, _) = boxPost(app.port, token: token, "/api/v1/box/pickups/\(id)/factors", json: ["pinLetterConfirmed": true, "dateOfBirth": "15.03.1990"])
        #expect(answer == 500)
        #expect(body["error"] as? String == "internal_error")
        #expect(!String(describing: body).contains("fingerprint"))
    }

    @Test func applicationJSON_carriesTheColumnValues() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let client = try town.login(app)
        let id = try town.register(client).0
        let (_, body) = client.json("GET", "/api/v1/applications/\(id)")
        #expect(body["state"] as? String == "registered")
        #expect(body["pickupMethod"] as? String == "box")
        #expect(body["issuance"] as? String == "first")
        #expect(["eat", "travel_document", "passport", "id_card"].contains(body["documentType"] as? String ?? ""))
    }
}
