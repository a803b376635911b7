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

    /// An accepted first step commits without waiting for the disk (it only opens a session); a refusal, which
    /// counts a failure, waits as before; and neither outlives its transaction. (The test cluster itself runs
    /// without flushes: the connection asks for them, as a production one has them.)
    @Test func anAcceptedFirstStep_commitsWithoutAFlush_aRefusalWithOne() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 506)
        let admission = try #require(try BoxPickupStore.readStartAdmission(app, tokenHash: Crypto.sha256(Array(token.utf8))))
        try app.pool.withConnection { c in
            func setting() throws -> String? { try c.query("SELECT current_setting('synchronous_commit')").first?.decode(String.self, at: 0) }
            func step(_ pin: String) throws -> (BoxPickupStore.Written.Outcome?, String?) {
                try c.transaction { c in
                    let session = BoxPickup.Session(pickupId: UUID(), factors: [], expiresAt: Date().addingTimeInterval(120))
                    let written = try BoxPickupStore.start(c, admission, mobile: "+491711234567",
                                                           pinKey: Pin.key(pin, authorityID: town.authorityID, key: app.secretKey),
                                                           session: session, limits: app.configuration.pickupLimits)
                    return (written?.outcome, try setting())
                }
            }
            try c.simpleQuery("SET synchronous_commit = on")
            defer { try? c.simpleQuery("RESET synchronous_commit") }
            let refused = try step(Self.wrongPin(doc.pin))
            #expect(refused.0 == .refused && refused.1 == "on")
            let accepted = try step(doc.pin)
            #expect(accepted.0 == .accepted && accepted.1 == "off")
            #expect(try setting() == "on", "only the accepted step's own transaction")
        }
        #expect(try Self.count(app, "SELECT count(*)::int8 FROM pickup_session") == 1)
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

    // MARK: - The factors step on the session the first step remembered

    static func factors(_ app: Application, token: String, _ pickup: String, _ json: [String: Any]) -> (Int, [String: Any]) {
        let (status, body, _) = boxPost(app.port, token: token, "/api/v1/box/pickups/\(pickup)/factors", json: json)
        return (status, body)
    }

    static var right: [String: Any] { ["pinLetterConfirmed": true, "dateOfBirth": "15.03.1990"] }

    @Test func theFactorsStep_usesTheRememberedSession_andForgetsItOnceVerified() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 511)
        let (status, session) = Self.start(app, token: token, pin: doc.pin)
        #expect(status == 201)
        let pickup = try #require(session["pickupId"] as? String)
        let pickupID = try #require(UUID(uuidString: pickup))
        let hash = Crypto.sha256(Array(token.utf8))
        let claim = try #require(app.boxAdmissions.claimSession(pickupID, tokenHash: hash))
        #expect(claim.isClaim && claim.session?.required == [.pinLetter, .dateOfBirth] && claim.session?.dateOfBirth == "1990-03-15")
        #expect(app.boxAdmissions.claimSession(pickupID, tokenHash: Crypto.sha256(Array("another box's token".utf8))) == nil,
                "given out only for the token that started it")
        // A wrong factor is refused and counted; the session stays remembered for the next try.
        #expect(Self.factors(app, token: token, pickup, ["pinLetterConfirmed": true, "dateOfBirth": "16.03.1990"]).0 == 403)
        #expect(try Self.count(app, "SELECT failed_attempts FROM assignment WHERE status = 'loaded'") == 1)
        #expect(app.boxAdmissions.claimSession(pickupID, tokenHash: hash) != nil)
        let (opened, open) = Self.factors(app, token: token, pickup, Self.right)
        #expect(opened == 200)
        #expect(open["compartmentNumbers"] as? [Int] == [doc.compartment])
        #expect(app.boxAdmissions.claimSession(pickupID, tokenHash: hash) == nil)
        #expect(try Self.count(app, "SELECT count(*)::int8 FROM audit_event WHERE action = 'assignment.pickup_verified'") == 1)
        // Verified once: the same factors again are answered from the database, as before.
        let (again, error) = Self.factors(app, token: token, pickup, Self.right)
        #expect(again == 409)
        #expect(error["error"] as? String == "pickup_expired")
    }

    @Test func aTokenRotatedBetweenTheSteps_isRefusedAtOnce_withNothingWritten() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 512)
        let pickup = try #require(Self.start(app, token: token, pin: doc.pin).1["pickupId"] as? String)
        let hash = Crypto.sha256(Array(token.utf8))
        try app.pool.execute("UPDATE box SET token_hash = NULL WHERE id = \(box)")
        #expect(Self.factors(app, token: token, pickup, ["pinLetterConfirmed": "yes"]).0 == 401, "a bad body: the token first")
        let pickupID = try #require(UUID(uuidString: pickup))
        #expect(app.boxAdmissions.claimSession(pickupID, tokenHash: hash) == nil)
        let (status, error) = Self.factors(app, token: token, pickup, Self.right)
        #expect(status == 401)
        #expect(error["error"] as? String == "invalid_box_token")
        #expect(try Self.count(app, "SELECT count(*)::int8 FROM pickup_session WHERE verified_at IS NOT NULL") == 0)
        #expect(try Self.count(app, "SELECT count(*)::int8 FROM audit_event WHERE action = 'assignment.pickup_verified'") == 0)
        #expect(try Self.count(app, "SELECT count(*)::int8 FROM pickup_attempt") == 0)
    }

    @Test func aRememberedSessionThatExpired_isAnswered409() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 513)
        let pickup = try #require(Self.start(app, token: token, pin: doc.pin).1["pickupId"] as? String)
        try app.pool.execute("UPDATE pickup_session SET expires_at = now() - interval '1 second'")
        let (status, error) = Self.factors(app, token: token, pickup, Self.right)
        #expect(status == 409)
        #expect(error["error"] as? String == "pickup_expired")
        #expect(try Self.count(app, "SELECT count(*)::int8 FROM audit_event WHERE action = 'assignment.pickup_verified'") == 0)
    }

    /// The function itself: a session of the box, asked for with a token the box no longer has.
    @Test func theVerifyCall_checksTheToken() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 514)
        let text = try #require(Self.start(app, token: token, pin: doc.pin).1["pickupId"] as? String)
        let pickup = try #require(UUID(uuidString: text))
        let limits = app.configuration.pickupLimits
        func call(_ token: [UInt8]?) throws -> String {
            try #require(try app.pool.query("""
                SELECT outcome FROM pickup_verify_claimed(\(token), \(town.authorityID), \(box), \(pickup), true, 'test', '127.0.0.1',
                    \(limits.perAssignment), \(limits.perBox), \(limits.boxWindowMinutes), \(limits.boxBlockMinutes))
                """).first).decode(String.self, at: 0)
        }
        #expect(try call(Crypto.sha256(Array("not the token".utf8))) == "no_box")
        #expect(try Self.count(app, "SELECT count(*)::int8 FROM pickup_session WHERE verified_at IS NOT NULL") == 0)
        #expect(try call(Crypto.sha256(Array(token.utf8))) == "verified")
        #expect(try call(nil) == "expired", "without a claim, as pickup_verify")
        // The previous release's call is still there, for a rolling upgrade, on the server's own role.
        let previous = try #require(try app.pool.query("""
            SELECT outcome FROM pickup_verify(\(town.authorityID), \(box), \(pickup), true, 'test', '127.0.0.1',
                \(limits.perAssignment), \(limits.perBox), \(limits.boxWindowMinutes), \(limits.boxBlockMinutes))
            """).first).decode(String.self, at: 0)
        #expect(previous == "expired")
    }

    @Test func rememberedSessions_areNotGivenOutExpired_andAreDropped() {
        let memory = BoxAdmissions()
        let admission = BoxPickupStore.StartAdmission(
            tokenHash: [1], box: BoxPrincipal(authorityID: UUID(), boxID: UUID(), siteID: UUID()),
            policy: PickupFactorPolicy(requiresPinLetter: true, secondFactor: .none, requiresOldDocument: false))
        let session = BoxPickupStore.FactorsRead.Session(required: [.pinLetter], done: false, dateOfBirth: "1990-03-15", canHash: nil)
        let old = UUID(), fresh = UUID()
        memory.rememberSession(old, admission: admission, session: session, expires: Date(timeIntervalSinceNow: -1))
        #expect(memory.claimSession(old, tokenHash: [1]) == nil)
        #expect(memory.sessionCount == 0, "an expired session asked for is dropped")
        memory.rememberSession(old, admission: admission, session: session, expires: Date(timeIntervalSinceNow: -1))
        memory.rememberSession(fresh, admission: admission, session: session, expires: Date(timeIntervalSinceNow: 120))
        #expect(memory.sessionCount == 1, "remembering drops the expired ones")
        #expect(memory.claimSession(fresh, tokenHash: [2]) == nil)
        #expect(memory.claimSession(fresh, tokenHash: [1])?.session?.dateOfBirth == "1990-03-15")
        memory.forgetSession(fresh)
        #expect(memory.sessionCount == 0)
    }
}
