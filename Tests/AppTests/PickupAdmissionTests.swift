@testable import App
import Domain
import Foundation
import HTTPServer
import HTTPTestSupport
import Postgres
import Testing

/// The pickup's reads: the second step's in the box's admission (`BoxPickupStore`, migration 0023), the
/// first step's by mobile number after it.
@Suite("Pickup at the box: the read in the admission")
struct PickupAdmissionTests {
    static func failedAttempts(_ app: Application, application id: String) throws -> Int {
        let application = try #require(UUID(uuidString: id))
        return try #require(try app.pool.query("""
            SELECT asg.failed_attempts FROM assignment asg JOIN application a ON a.assignment_id = asg.id WHERE a.id = \(application)
            """).first).decode(Int.self, at: 0)
    }

    @Test func anotherNumbersDocumentAtTheBox_isNeitherOpenedNorCounted() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let mine = try LoadedDocument.make(app, town, box: box, token: token, document: 301)
        let theirs = try LoadedDocument.make(app, town, box: box, token: token, ["mobileNumber": "0171 7654321"], document: 302)
        // Their PIN with my number: refused, and counted against my document only.
        if theirs.pin != mine.pin {
            #expect(boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": theirs.pin]).0 == 403)
            #expect(try Self.failedAttempts(app, application: mine.applicationID) == 1)
            #expect(try Self.failedAttempts(app, application: theirs.applicationID) == 0)
        }
        let (status, session, _) = boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 7654321", "pin": theirs.pin])
        #expect(status == 201)
        #expect(session["factors"] as? [String] == ["pin_letter", "date_of_birth"])
    }

    @Test func candidatesOfANumber_inAssignmentOrder_firstApplicationOfAHousehold() throws {
        func candidate(_ id: UUID, _ application: UUID) -> BoxPickup.Candidate {
            BoxPickup.Candidate(id: id, stored: [], locked: false, applicationID: application, issuance: .first, hasCAN: false)
        }
        let ids = (0..<5).map { _ in UUID() }.sorted { $0.uuidString.lowercased() < $1.uuidString.lowercased() }
        let read = BoxPickupStore.StartRead(policy: PickupFactorPolicy(requiresPinLetter: true, secondFactor: .none, requiresOldDocument: false), rows: [
            candidate(ids[2], ids[4]), candidate(ids[0], ids[3]), candidate(ids[0], ids[1]), candidate(ids[1], ids[2]),
        ])
        #expect(read.candidates.map(\.id) == [ids[0], ids[1], ids[2]])
        #expect(read.candidates.map(\.applicationID) == [ids[1], ids[2], ids[4]], "of the household's assignment, its first application")
    }

    /// Without a body there is no admission (nothing to hold back): the handler reads with the token
    /// itself, so a stranger still gets 401 and a box the body's 400.
    @Test func aStepWithoutABody_isAuthenticatedByItsHandler() throws {
        let (app, _, _, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let stranger = String(repeating: "x", count: 43)
        for path in ["/api/v1/box/pickups", "/api/v1/box/pickups/\(UUID())/factors"] {
            #expect(boxRequest(app.port, token: stranger, "POST", path).0 == 401, "\(path)")
            let (status, body, _) = boxRequest(app.port, token: token, "POST", path)
            #expect(status == 400, "\(path): \(body)")
        }
    }

    @Test func thePickupSteps_noteTheBoxAsSeen() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 303)
        func seen() throws -> Bool { try #require(try app.pool.query("SELECT last_seen_at IS NOT NULL FROM box WHERE id = \(box)").first).decode(Bool.self, at: 0) }
        try app.pool.execute("UPDATE box SET last_seen_at = NULL WHERE id = \(box)")
        let (status, session, _) = boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": doc.pin])
        #expect(status == 201)
        #expect(try seen())
        try app.pool.execute("UPDATE box SET last_seen_at = NULL WHERE id = \(box)")
        let path = "/api/v1/box/pickups/\(try #require(session["pickupId"] as? String))/factors"
        #expect(boxPost(app.port, token: token, path, json: ["pinLetterConfirmed": true, "dateOfBirth": "15.03.1990"]).0 == 200)
        #expect(try seen())
    }
}
