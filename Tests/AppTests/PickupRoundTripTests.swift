@testable import App
import Domain
import Foundation
import HTTPServer
import HTTPTestSupport
import Postgres
import Synchronization
import Testing

/// The pickup steps write through `pickup_start_keyed` (migration 0024), or for a PIN of the old form
/// read without a lock and write through `pickup_start` (migration 0021), and `pickup_verify`, under the
/// box's lock: what changed between the read and the write decides as if it had been read under the lock.
@Suite("Pickup at the box: read, then write under the lock")
struct PickupRoundTripTests {
    /// The loaded assignment.
    static func loaded(_ app: Application) throws -> (id: UUID, application: UUID) {
        let row = try #require(try app.pool.query("""
            SELECT asg.id, a.id AS application_id FROM assignment asg JOIN application a ON a.assignment_id = asg.id WHERE asg.status = 'loaded'
            """).first)
        return (try row.decode(UUID.self, column: "id"), try row.decode(UUID.self, column: "application_id"))
    }

    /// The loaded assignment, its PIN stored again in the form of before migration 0024 (as a PIN sent
    /// before the upgrade is), and that HMAC.
    static func legacy(_ app: Application, pin: String) throws -> (id: UUID, hmac: [UInt8], application: UUID) {
        let assignment = try loaded(app)
        let hmac = Pin.legacyHMAC(pin, assignmentID: assignment.id, key: app.secretKey)
        try app.pool.execute("UPDATE assignment SET pin_hmac = \(hmac), pin_digest = NULL WHERE id = \(assignment.id)")
        return (assignment.id, hmac, assignment.application)
    }

    /// `pickup_start` as the server calls it after its old read, on the server's own database role.
    static func start(_ app: Application, _ town: AuthorityFixture, box: UUID, matched: UUID?, hmac: [UInt8]?, application: UUID?, candidates: [UUID]) throws -> String {
        let limits = app.configuration.pickupLimits
        let row = try #require(try app.pool.query("""
            SELECT outcome FROM pickup_start(\(town.authorityID), \(box), \(candidates)::uuid[], \(matched), \(hmac), \(UUID()), \(application), \(["pin_letter"])::text[],
                now() + interval '2 minutes', \(limits.perAssignment), \(limits.perBox), \(limits.boxWindowMinutes), \(limits.boxBlockMinutes))
            """).first)
        return try row.decode(String.self, at: 0)
    }

    static func failedAttempts(_ app: Application, _ id: UUID) throws -> Int {
        try #require(try app.pool.query("SELECT failed_attempts FROM assignment WHERE id = \(id)").first).decode(Int.self, at: 0)
    }

    @Test func aMatchWhosePinWasReissuedMeanwhile_isRefusedAndCounted() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 201)
        let assignment = try Self.legacy(app, pin: doc.pin)
        // The server compared against the HMAC it read; a new PIN was stored before its write.
        let before = Array(repeating: UInt8(7), count: 32)
        #expect(try Self.start(app, town, box: box, matched: assignment.id, hmac: before, application: assignment.application, candidates: [assignment.id]) == "refused")
        #expect(try Self.failedAttempts(app, assignment.id) == 1)
        #expect(try app.pool.query("SELECT count(*)::int8 FROM pickup_session WHERE assignment_id = \(assignment.id)").first?.decode(Int.self, at: 0) == 0)
        // Read and write agreeing: a session.
        #expect(try Self.start(app, town, box: box, matched: assignment.id, hmac: assignment.hmac, application: assignment.application, candidates: [assignment.id]) == "accepted")
        #expect(try app.pool.query("SELECT count(*)::int8 FROM pickup_session WHERE assignment_id = \(assignment.id)").first?.decode(Int.self, at: 0) == 1)
    }

    @Test func aMatchLockedMeanwhile_isRefused_andNotCountedAgain() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 202)
        let assignment = try Self.legacy(app, pin: doc.pin)
        try app.pool.execute("UPDATE assignment SET failed_attempts = 5, locked = true WHERE id = \(assignment.id)")
        #expect(try Self.start(app, town, box: box, matched: assignment.id, hmac: assignment.hmac, application: assignment.application, candidates: [assignment.id]) == "refused")
        #expect(try Self.failedAttempts(app, assignment.id) == 5)
        let outcomes = try app.pool.query("SELECT outcome FROM pickup_attempt WHERE box_id = \(box)").map { try $0.decode(String.self, at: 0) }
        #expect(outcomes == ["refused"])
    }

    @Test func theSameFactorsSentTwiceAtOnce_verifyOnce_withOneAuditEvent() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 203)
        let (_, session, _) = boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": doc.pin])
        let path = "/api/v1/box/pickups/\(try #require(session["pickupId"] as? String))/factors"
        let port = app.port
        let verified = Mutex64()
        let expired = Mutex64()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let (status, body, _) = boxPost(port, token: token, path, json: ["pinLetterConfirmed": true, "dateOfBirth": "15.03.1990"])
            if status == 200 { verified.add() }
            if status == 409 && body["error"] as? String == "pickup_expired" { expired.add() }
        }
        #expect(verified.value == 1)
        #expect(expired.value == 7)
        let events = try app.pool.query("SELECT count(*)::int8 FROM audit_event WHERE action = 'assignment.pickup_verified'").first?.decode(Int.self, at: 0)
        #expect(events == 1)
    }

    /// With an `Idempotency-Key` both statements of a step run in the key's transaction: a retry (also one
    /// racing the original) gets the stored answer, and no second attempt is made, recorded or counted.
    @Test func stepsRetriedWithTheirKey_areAnsweredFromTheStore_withoutASecondAttempt() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 205)
        let port = app.port
        let start = ["mobileNumber": "0171 1234567", "pin": doc.pin]
        let sessions = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let (status, body, _) = boxPost(port, token: token, "/api/v1/box/pickups", json: start, headers: ["Idempotency-Key: pickup-205"])
            if status == 201, let id = body["pickupId"] as? String { sessions.withLock { $0.append(id) } }
        }
        let ids = sessions.withLock { $0 }
        #expect(ids.count == 4)
        #expect(Set(ids).count == 1, "one session, answered four times")
        let path = "/api/v1/box/pickups/\(try #require(ids.first))/factors"
        let factors: [String: Any] = ["pinLetterConfirmed": true, "dateOfBirth": "15.03.1990"]
        #expect(boxPost(port, token: token, path, json: factors, headers: ["Idempotency-Key: open-205"]).0 == 200)
        let retry = boxPost(port, token: token, path, json: factors, headers: ["Idempotency-Key: open-205"])
        #expect(retry.0 == 200)
        #expect(retry.2?.header("Idempotent-Replayed") == "true")
        #expect(boxPost(port, token: token, path, json: ["pinLetterConfirmed": true, "dateOfBirth": "16.03.1990"],
                        headers: ["Idempotency-Key: open-205"]).1["error"] as? String == "idempotency_key_reused")
        let outcomes = try app.pool.query("SELECT outcome FROM pickup_attempt WHERE box_id = \(box) ORDER BY at").map { try $0.decode(String.self, at: 0) }
        #expect(outcomes.isEmpty, "successful steps are not recorded as attempts")
        #expect(try app.pool.query("SELECT count(*)::int8 FROM pickup_session WHERE box_id = \(box)").first?.decode(Int.self, at: 0) == 1)
        let events = try app.pool.query("SELECT count(*)::int8 FROM audit_event WHERE action = 'assignment.pickup_verified'").first?.decode(Int.self, at: 0)
        #expect(events == 1)
    }

    /// A refusal is not stored: the box's retry after a lost refusal is a new guess, counted as such.
    @Test func aRefusalWithAKey_isCountedAndNotStored() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 206)
        let wrong = ["mobileNumber": "0171 1234567", "pin": doc.pin == "000000" ? "000001" : "000000"]
        for _ in 0..<2 {
            let reply = boxPost(app.port, token: token, "/api/v1/box/pickups", json: wrong, headers: ["Idempotency-Key: wrong-206"])
            #expect(reply.0 == 403)
            #expect(reply.2?.header("Idempotent-Replayed") == nil)
        }
        #expect(try Self.failedAttempts(app, try Self.loaded(app).id) == 2)
    }

    @Test func anUnknownToken_isAnswered401_beforeBadInput() throws {
        let (app, _, _, _) = try PickupTests.setUp()
        defer { app.shutdown() }
        let stranger = String(repeating: "x", count: 43)
        #expect(boxPost(app.port, token: stranger, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": "12"]).0 == 401)
        #expect(boxPost(app.port, token: stranger, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": "123456"]).0 == 401)
        #expect(boxPost(app.port, token: stranger, "/api/v1/box/pickups/not-a-uuid/factors", json: [:]).0 == 401)
        #expect(boxPost(app.port, token: stranger, "/api/v1/box/pickups/\(UUID())/factors", json: ["pinLetterConfirmed": true]).0 == 401)
    }

    @Test func thePickupFunctions_runAsTheServersRole_andNoOneElseMayCallThem() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let role = try #require(try app.pool.query("SELECT current_user::text").first).decode(String.self, at: 0)
        #expect(role == DatabaseRoles.embeddedApplicationRole)
        for function in DatabaseRoles.invokerFunctions {
            let row = try #require(try app.pool.query("""
                SELECT has_function_privilege(current_user, \(function)::regprocedure, 'EXECUTE'),
                       EXISTS (SELECT 1 FROM pg_proc p, aclexplode(p.proacl) a WHERE p.oid = \(function)::regprocedure AND a.grantee = 0),
                       (SELECT prosecdef FROM pg_proc WHERE oid = \(function)::regprocedure)
                """).first)
            #expect(try row.decode(Bool.self, at: 0), "\(function)")
            #expect(try row.decode(Bool.self, at: 1) == false, "PUBLIC may call \(function)")
            #expect(try row.decode(Bool.self, at: 2) == false, "\(function) is SECURITY DEFINER")
        }
    }

    @Test func bodiesOfAnotherShape_areAnsweredAsBefore() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 204)
        func error(_ path: String, _ json: [String: Any]) -> String? { boxPost(app.port, token: token, path, json: json).1["error"] as? String }
        #expect(error("/api/v1/box/pickups", ["mobileNumber": "0171 1234567", "pin": doc.pin, "extra": 1]) == "unknown_field")
        #expect(error("/api/v1/box/pickups", ["mobileNumber": 1711234567, "pin": doc.pin]) == "invalid_type")
        #expect(error("/api/v1/box/pickups", ["mobileNumber": "0171 1234567"]) == "missing_field")
        let (status, session, _) = boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0171 1234567", "pin": doc.pin, "note": NSNull()])
        #expect(status == 201)
        let path = "/api/v1/box/pickups/\(try #require(session["pickupId"] as? String))/factors"
        #expect(error(path, ["pinLetterConfirmed": "yes"]) == "invalid_type")
        #expect(error(path, ["pinLetterConfirmed": true, "shoeSize": 44]) == "unknown_field")
        #expect(boxPost(app.port, token: token, path, json: ["pinLetterConfirmed": true, "dateOfBirth": "15.03.1990", "can": NSNull()]).0 == 200)
    }
}
