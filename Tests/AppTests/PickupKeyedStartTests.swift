@testable import App
import Domain
import Crypto
import Foundation
import HTTPServer
import HTTPTestSupport
import Postgres
import Testing

/// The first pickup step in one call (`pickup_start_keyed`, migration 0024): the PIN's key compared by
/// the database with each candidate's digest, and PINs of the old form (sent before that migration)
/// still opening through the old path, counted once.
@Suite("Pickup at the box: the first step in one call")
struct PickupKeyedStartTests {
    static let number = "0171 1234567"

    static func outcomes(_ app: Application, box: UUID) throws -> [String] {
        try app.pool.query("SELECT outcome FROM pickup_attempt WHERE box_id = \(box) ORDER BY at, id").map { try $0.decode(String.self, at: 0) }
    }

    @Test func aPinSentBeforeTheUpgrade_stillOpens_andAWrongGuessCountsOnce() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 401)
        let assignment = try PickupRoundTripTests.legacy(app, pin: doc.pin)
        let wrong = doc.pin == "000000" ? "000001" : "000000"
        #expect(boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": Self.number, "pin": wrong]).0 == 403)
        #expect(try PickupRoundTripTests.failedAttempts(app, assignment.id) == 1)
        #expect(try Self.outcomes(app, box: box) == ["refused"])

        let (status, session, _) = boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": Self.number, "pin": doc.pin])
        #expect(status == 201)
        #expect(session["factors"] as? [String] == ["pin_letter", "date_of_birth"])
        let path = "/api/v1/box/pickups/\(try #require(session["pickupId"] as? String))/factors"
        let (opened, open, _) = boxPost(app.port, token: token, path, json: ["pinLetterConfirmed": true, "dateOfBirth": "15.03.1990"])
        #expect(opened == 200)
        #expect(open["compartmentNumbers"] as? [Int] == [doc.compartment])
        #expect(try Self.outcomes(app, box: box) == ["refused"], "successful steps are not recorded as attempts")
    }

    /// During a rolling upgrade a replica of the previous release may take the pickup: it reads with
    /// `pickup_candidates`, compares the old form in the server and reads the session with
    /// `pickup_admit_factors`. A PIN this release sent opens there too.
    @Test func aPinOfThisRelease_opensOnThePreviousReleasesPath() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 406)
        let principal = BoxPrincipal(authorityID: town.authorityID, boxID: box, siteID: town.siteID)
        let read = try #require(try BoxPickupStore.readStart(app.pool, box: principal, mobile: "+491711234567"))
        let matched = BoxPickup.match(doc.pin, among: read.candidates) { Pin.legacyHMAC($0, assignmentID: $1, key: app.secretKey) }.candidate
        #expect(matched?.applicationID.uuidString.lowercased() == doc.applicationID.lowercased())
        let (_, session, _) = boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": Self.number, "pin": doc.pin])
        let pickup = try #require(session["pickupId"] as? String)
        let hash = Crypto.sha256(Array(token.utf8))
        let row = try #require(try app.pool.query("SELECT factors FROM pickup_admit_factors(\(hash), \(UUID(uuidString: pickup)))").first)
        #expect(try row.decode([PickupFactor].self, column: "factors") == [.pinLetter, .dateOfBirth])
    }

    /// One number, two compartments at the box: one PIN of the old form, one of the new. Each opens its
    /// own compartment; a wrong guess counts against both, once.
    @Test func aNumberWithPinsOfBothForms_opensWithEither() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let old = try LoadedDocument.make(app, town, box: box, token: token, document: 402)
        let assignment = try PickupRoundTripTests.legacy(app, pin: old.pin)
        let new = try LoadedDocument.make(app, town, box: box, token: token, document: 403)
        let wrong = Set(["000000", "000001", "000002"]).subtracting([old.pin, new.pin]).sorted()[0]
        #expect(boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": Self.number, "pin": wrong]).0 == 403)
        let attempts = try app.pool.query("SELECT failed_attempts FROM assignment WHERE status = 'loaded' ORDER BY id").map { try $0.decode(Int.self, at: 0) }
        #expect(attempts == [1, 1])
        for doc in [new, old] {
            let (status, session, _) = boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": Self.number, "pin": doc.pin])
            #expect(status == 201)
            let pickupID = try #require(session["pickupId"] as? String)
            let pickup = try #require(UUID(uuidString: pickupID))
            let row = try #require(try app.pool.query("""
                SELECT a.id FROM pickup_session ps JOIN application a ON a.id = ps.application_id WHERE ps.id = \(pickup)
                """).first)
            #expect(try row.decode(UUID.self, at: 0).uuidString.lowercased() == doc.applicationID.lowercased())
        }
        #expect(try PickupRoundTripTests.failedAttempts(app, assignment.id) == 1)
    }

    @Test func theRightPinAfterTheDeadline_isAnswered409_andRecorded() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 404)
        try app.pool.execute("UPDATE assignment SET pin_expires_at = now() - interval '1 minute' WHERE status = 'loaded'")
        let (status, error, _) = boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": Self.number, "pin": doc.pin])
        #expect(status == 409)
        #expect(error["error"] as? String == "deadline_passed")
        #expect(try Self.outcomes(app, box: box) == ["deadline_passed"])
        #expect(try app.pool.query("SELECT count(*)::int8 FROM pickup_session").first?.decode(Int.self, at: 0) == 0)
    }

    /// The database compares what the server sends: the PIN's key, never the PIN.
    @Test func theFirstStepSendsThePinKey_neverThePin() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 405)
        let assignment = try PickupRoundTripTests.loaded(app)
        let limits = app.configuration.pickupLimits
        func call(_ pinKey: [UInt8]) throws -> String {
            try #require(try app.pool.query("""
                SELECT outcome FROM pickup_start_keyed(\(town.authorityID), \(box), '+491711234567', \(pinKey), \(UUID()),
                    \(["pin_letter"])::text[], \(["can"])::text[], \(["date_of_birth"])::text[], now() + interval '2 minutes',
                    \(limits.perAssignment), \(limits.perBox), \(limits.boxWindowMinutes), \(limits.boxBlockMinutes))
                """).first).decode(String.self, at: 0)
        }
        #expect(try call(Array(doc.pin.utf8)) == "refused")
        #expect(try call(Pin.key(doc.pin, authorityID: UUID(), key: app.secretKey)) == "refused", "another authority's key")
        #expect(try call(Pin.key(doc.pin, authorityID: town.authorityID, key: app.secretKey)) == "accepted")
        #expect(try PickupRoundTripTests.failedAttempts(app, assignment.id) == 2)
    }
}
