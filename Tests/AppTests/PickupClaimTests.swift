@testable import App
import Crypto
import Domain
import Foundation
import HTTPServer
import HTTPTestSupport
import Postgres
import Testing

/// The pickup's first step in one round trip (`BoxAdmissions`, `pickup_start_claimed`, migration 0025):
/// what an earlier admission read is a claim the step's call checks under the box's lock; when it no
/// longer holds, nothing is written, the box is admitted from the database and the call is made again.
@Suite("Pickup at the box: the first step on a remembered admission")
struct PickupClaimTests {
    static let number = "0171 1234567"

    static func start(_ app: Application, token: String, pin: String) -> (Int, [String: Any]) {
        let (status, json, _) = boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": number, "pin": pin])
        return (status, json)
    }

    static func count(_ app: Application, _ query: PostgresQuery) throws -> Int {
        try #require(try app.pool.query(query).first).decode(Int.self, at: 0)
    }

    static func wrongPin(_ pin: String) -> String { pin == "000000" ? "000001" : "000000" }

    @Test func aSecondStart_usesWhatTheFirstAdmissionRead() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 501)
        #expect(Self.start(app, token: token, pin: Self.wrongPin(doc.pin)).0 == 403)
        let hash = Crypto.sha256(Array(token.utf8))
        let claim = try #require(app.boxAdmissions.claim(hash))
        #expect(claim.isClaim && claim.box.boxID == box && claim.box.authorityID == town.authorityID)
        let (status, session) = Self.start(app, token: token, pin: doc.pin)
        #expect(status == 201)
        #expect(session["factors"] as? [String] == ["pin_letter", "date_of_birth"])
        #expect(try Self.count(app, "SELECT count(*)::int8 FROM pickup_session") == 1)
    }

    @Test func aRotatedToken_isRefusedAtOnce_withNothingWritten() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 502)
        #expect(Self.start(app, token: token, pin: Self.wrongPin(doc.pin)).0 == 403)
        let failures = try Self.count(app, "SELECT count(*)::int8 FROM pickup_attempt")
        let hash = Crypto.sha256(Array(token.utf8))
        #expect(app.boxAdmissions.claim(hash) != nil)
        try app.pool.execute("UPDATE box SET token_hash = \(Crypto.sha256(Array("another token of this box".utf8))) WHERE id = \(box)")
        let (status, error) = Self.start(app, token: token, pin: doc.pin)
        #expect(status == 401)
        #expect(error["error"] as? String == "invalid_box_token")
        #expect(app.boxAdmissions.claim(hash) == nil, "the claim is forgotten")
        #expect(try Self.count(app, "SELECT count(*)::int8 FROM pickup_session") == 0)
        #expect(try Self.count(app, "SELECT count(*)::int8 FROM pickup_attempt") == failures)
        // A bad body is answered 401 too, claim or not: the token is checked first.
        try app.pool.execute("UPDATE box SET token_hash = \(hash) WHERE id = \(box)")
        #expect(Self.start(app, token: token, pin: Self.wrongPin(doc.pin)).0 == 403)
        #expect(app.boxAdmissions.claim(hash) != nil)
        try app.pool.execute("UPDATE box SET token_hash = NULL WHERE id = \(box)")
        #expect(Self.start(app, token: token, pin: "12").0 == 401)
        try app.pool.execute("UPDATE box SET token_hash = \(hash) WHERE id = \(box)")
        #expect(Self.start(app, token: token, pin: Self.wrongPin(doc.pin)).0 == 403)
        let (bad, invalid) = Self.start(app, token: token, pin: "12")
        #expect(bad == 400)
        #expect(invalid["error"] as? String == "invalid_pin")
    }

    @Test func changedSiteFactors_areAskedFor_atTheNextStart() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 503)
        #expect(Self.start(app, token: token, pin: Self.wrongPin(doc.pin)).0 == 403)
        let failures = try Self.count(app, "SELECT failed_attempts FROM assignment WHERE status = 'loaded'")
        try app.pool.execute("""
            UPDATE site SET pickup_requires_pin_letter = false, pickup_second_factor = 'none', pickup_requires_old_document = false
            WHERE id = \(town.siteID)
            """)
        let (status, session) = Self.start(app, token: token, pin: doc.pin)
        #expect(status == 201)
        #expect(session["factors"] as? [String] == [])
        #expect(try Self.count(app, "SELECT count(*)::int8 FROM pickup_session WHERE factors = '{}'") == 1)
        #expect(try Self.count(app, "SELECT failed_attempts FROM assignment WHERE status = 'loaded'") == failures, "the stale call counted nothing")
        #expect(app.boxAdmissions.claim(Crypto.sha256(Array(token.utf8)))?.policy.secondFactor == PickupSecondFactor.none)
    }

    /// The function itself: a claim that does not hold writes nothing; one that holds notes "seen".
    @Test func theCall_checksTheTokenAndTheFactors_andNotesSeen() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 504)
        let limits = app.configuration.pickupLimits
        let hash = Crypto.sha256(Array(token.utf8))
        let pinKey = Pin.key(doc.pin, authorityID: town.authorityID, key: app.secretKey)
        func call(_ token: [UInt8]?, _ factors: (Bool, String, Bool)?) throws -> String {
            try #require(try app.pool.query("""
                SELECT outcome FROM pickup_start_claimed(\(token), \(town.authorityID), \(box), \(factors?.0), \(factors?.1), \(factors?.2),
                    '+491711234567', \(pinKey), \(UUID()), \(["pin_letter"])::text[], \(["can"])::text[], \(["date_of_birth"])::text[],
                    now() + interval '2 minutes', \(limits.perAssignment), \(limits.perBox), \(limits.boxWindowMinutes), \(limits.boxBlockMinutes))
                """).first).decode(String.self, at: 0)
        }
        try app.pool.execute("UPDATE box SET last_seen_at = now() - interval '1 hour' WHERE id = \(box)")
        #expect(try call(Crypto.sha256(Array("not the token".utf8)), nil) == "no_box")
        #expect(try call(hash, (true, "none", true)) == "stale")
        #expect(try call(hash, (false, "date_of_birth_or_can", true)) == "stale")
        #expect(try Self.count(app, "SELECT count(*)::int8 FROM pickup_session") == 0)
        #expect(try Self.count(app, "SELECT count(*)::int8 FROM pickup_attempt") == 0)
        #expect(try Self.count(app, "SELECT count(*)::int8 FROM box WHERE id = \(box) AND last_seen_at < now() - interval '1 minute'") == 1,
                "a claim that does not hold notes nothing")
        #expect(try call(hash, (true, "date_of_birth_or_can", true)) == "accepted")
        #expect(try Self.count(app, "SELECT count(*)::int8 FROM box WHERE id = \(box) AND last_seen_at > now() - interval '1 minute'") == 1)
        #expect(try call(hash, nil) == "accepted", "the token alone, after an admission of the server's own")
        #expect(try Self.count(app, "SELECT count(*)::int8 FROM pickup_session") == 2)
    }

    /// With an `Idempotency-Key` the box is always admitted from the database: the key's stored answer is
    /// looked up before the step's call would check a claim.
    @Test func withAnIdempotencyKey_aRotatedToken_getsNoStoredAnswer() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 505)
        let key = ["Idempotency-Key: claim-test-1"]
        let (first, session, _) = boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": Self.number, "pin": doc.pin], headers: key)
        #expect(first == 201)
        #expect(session["pickupId"] != nil)
        try app.pool.execute("UPDATE box SET token_hash = NULL WHERE id = \(box)")
        let (again, error, _) = boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": Self.number, "pin": doc.pin], headers: key)
        #expect(again == 401)
        #expect(error["pickupId"] == nil)
    }
}
