@testable import App
import Domain
import Foundation
import HTTPTestSupport
import Postgres
import PostgresTestSupport
import Testing

/// Erasure on schedule (PRIVACY.md#erasure-on-schedule): real PostgreSQL, real HTTP. Time passes by handing the pass a
/// later `now` (its cutoffs), so nothing is backdated behind the server's back. Staff sessions expire
/// in that future too (the pass deletes them), so the tests log in again after a pass.
@Suite("Erasure on schedule")
struct ErasureTests {
    static let day: TimeInterval = 86_400

    static func later(days: Double) -> Date { Date().addingTimeInterval(days * day) }

    /// Applications erased by a pass for `authority`.
    static func applications(_ outcome: ErasurePass.Outcome?, _ authority: UUID) -> Int { outcome?.receipts[authority]?.applications ?? 0 }

    static func pass(_ app: Application, batchSize: Int = ErasurePass.maximumBatch, stopAfterBatches: Int? = nil) -> ErasurePass {
        var pass = ErasurePass(pool: app.pool, configuration: app.configuration, cipher: app.smsCipher, logger: AppFixture.logger)
        pass.batchSize = batchSize
        pass.stopAfterBatches = stopAfterBatches
        return pass
    }

    /// An application erased at the maximum age while still open (10 days after closing, 100 at most), and
    /// `document` delivered for it after that: the delivery matches it. `kept` counts the rows that still
    /// hold the number (the document and the delivery note's item: 2).
    struct LateDocument {
        let app: Application
        let town: AuthorityFixture
        let id: UUID
        let document: Int

        init(document: Int) throws {
            let policy = try RetentionPolicy(daysAfterClose: 10, maxAgeDays: 100, auditAddressDays: 90, truncateAuditAddresses: false)
            app = try AppFixture.make { $0.retention = policy }
            town = try AuthorityFixture.make(app)
            self.document = document
            let (registered, number) = try town.register(try town.login(app))
            id = try #require(UUID(uuidString: registered))
            #expect(ErasureTests.applications(try ErasureTests.pass(app).run(now: ErasureTests.later(days: 101)), town.authorityID) == 1)
            let (status, delivery) = try town.login(app).json("POST", "/api/v1/deliveries", json: [
                "deliveryNoteNumber": "LATE-\(document)", "items": [["documentNumber": documentNumber(document), "vorgangsnummer": number]]])
            #expect(status == 201)
            #expect((delivery["items"] as? [[String: Any]])?.first?["result"] as? String == "matched")
        }

        func kept() throws -> Int {
            try app.pool.query("""
                SELECT (SELECT count(*) FROM document WHERE document_number = \(documentNumber(document)))
                     + (SELECT count(*) FROM delivery_item WHERE document_number = \(documentNumber(document)))
                """).first?.decode(Int.self, at: 0) ?? -1
        }

        func preview(_ days: Double) throws -> ErasurePreview {
            try app.pool.withConnection { try ErasurePreview.load($0, pass: ErasureTests.pass(app), now: ErasureTests.later(days: days)) }
        }
    }

    @Test func erasesThePersonalDataOfClosedApplications_afterThePeriod_andKeepsWhatNamesNobody() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        var anna = try town.login(app)
        // Collected at the counter by a proxy: document, delivery item, SMS "ready at the counter".
        let collected = try CounterHandoverAPITests.readyAtCounter(app, town, anna, document: 901)
        #expect(anna.json("POST", "/api/v1/applications/\(collected)/handover",
                          json: ["collectedBy": "proxy", "proxyName": "Eva Muster", "powerOfAttorneyChecked": true, "identityChecked": true]).0 == 200)
        let (cancelled, _) = try town.register(anna, ["householdGroup": UUID().uuidString, "feeExemption": "asylblg", "needsAccessibleCompartment": true])
        #expect(anna.json("POST", "/api/v1/applications/\(cancelled)/cancel", json: ["reason": "Umzug nach Köln zu Familie Yılmaz"]).0 == 200)
        let (open, _) = try town.register(anna)
        let number = try #require(anna.json("GET", "/api/v1/applications/\(collected)").1["vorgangsnummer"] as? String)

        // 29 days on: nothing is due yet.
        #expect(Self.applications(try Self.pass(app).run(now: Self.later(days: 29)), town.authorityID) == 0)
        anna = try town.login(app)
        #expect(anna.json("GET", "/api/v1/applications/\(collected)").1["familyName"] as? String == "Yılmaz")

        let outcome = try #require(try Self.pass(app).run(now: Self.later(days: 31)))
        anna = try town.login(app)
        let receipt = try #require(outcome.receipts[town.authorityID])
        #expect(receipt.applications == 2)
        #expect(receipt.counts[.application] == 2 && receipt.counts[.document] == 1 && receipt.counts[.deliveryItem] == 1 && receipt.counts[.smsMessage] == 1)

        let (_, erased) = anna.json("GET", "/api/v1/applications/\(collected)")
        #expect(erased["personalDataErasedAt"] != nil)
        for field in ["familyName", "givenNames", "dateOfBirth", "mobileNumber", "householdGroup", "cancelReason"] { #expect(erased[field] == nil, "\(field)") }
        #expect(erased["vorgangsnummer"] as? String == number)
        #expect(erased["state"] as? String == "collected" && erased["documentType"] as? String == "eat" && erased["collectedAt"] != nil)
        #expect(erased["handover"] as? [String: String] == ["recipient": "proxy"])
        let (_, gone) = anna.json("GET", "/api/v1/applications/\(cancelled)")
        #expect(gone["state"] as? String == "cancelled" && gone["cancelReason"] == nil && gone["personalDataErasedAt"] != nil)
        #expect((gone["fee"] as? [String: Any])?["exemption"] == nil && gone["needsAccessibleCompartment"] as? Bool == false)
        // Nobody to write to: no letter, no QR code for it; the open one still has its letter.
        for path in ["letter", "letter/qr.svg"] {
            let (status, body) = anna.json("GET", "/api/v1/applications/\(collected)/\(path)")
            #expect(status == 409 && body["error"] as? String == "personal_data_erased", "\(path)")
        }
        #expect(anna.json("GET", "/api/v1/applications/\(open)/letter").0 == 200)
        let (_, untouched) = anna.json("GET", "/api/v1/applications/\(open)")
        #expect(untouched["familyName"] as? String == "Yılmaz" && untouched["personalDataErasedAt"] == nil)

        // Nothing in the database names the applicants any more: not the documents, not the SMS.
        let leftovers = try app.pool.query("""
            SELECT (SELECT count(*) FROM document WHERE document_number = \(documentNumber(901)))::int8,
                   (SELECT count(*) FROM delivery_item WHERE document_number = \(documentNumber(901)))::int8,
                   (SELECT count(*) FROM sms_message WHERE to_number IS NOT NULL AND application_id = \(UUID(uuidString: collected)))::int8,
                   (SELECT count(*) FROM application WHERE family_name IS NOT NULL OR proxy_name IS NOT NULL OR cancel_reason IS NOT NULL)::int8
            """).first
        #expect(try leftovers?.decode(Int.self, at: 0) == 0 && leftovers?.decode(Int.self, at: 1) == 0 && leftovers?.decode(Int.self, at: 2) == 0)
        #expect(try leftovers?.decode(Int.self, at: 3) == 1)   // the open one
        // The timeline says so; the public status check still answers for the number.
        #expect(try #require(anna.call("GET", "/api/v1/applications/\(collected)/events")).text.contains("application.personal_data_erased"))
        let status = try #require(try TestClient(port: app.port).request("GET", "/api/v1/status/\(number)"))
        #expect(status.status == 200 && status.text.contains("\"collected\""))
    }

    @Test func holdsTheErasure_whileTheDocumentIsStillInTheBox_untilTheMaximumAge() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 902)
        #expect(try town.login(app).json("POST", "/api/v1/applications/\(doc.applicationID)/cancel", json: ["reason": "zurückgezogen"]).0 == 200)
        // Cancelled, but the card lies in compartment `doc.compartment` until staff take it out.
        #expect(Self.applications(try Self.pass(app).run(now: Self.later(days: 60)), town.authorityID) == 0)
        #expect(try town.login(app).json("GET", "/api/v1/applications/\(doc.applicationID)").1["familyName"] != nil)
        #expect(Self.applications(try Self.pass(app).run(now: Self.later(days: 401)), town.authorityID) == 1)
        #expect(try town.login(app).json("GET", "/api/v1/applications/\(doc.applicationID)").1["familyName"] == nil)
    }

    @Test func erasesApplicationsThatNeverClose_atTheMaximumAge() throws {
        let policy = try RetentionPolicy(daysAfterClose: 10, maxAgeDays: 100, auditAddressDays: 90, truncateAuditAddresses: false)
        let app = try AppFixture.make { $0.retention = policy }
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let anna = try town.login(app)
        let (id, _) = try town.register(anna)
        #expect(Self.applications(try Self.pass(app).run(now: Self.later(days: 99)), town.authorityID) == 0)
        #expect(Self.applications(try Self.pass(app).run(now: Self.later(days: 101)), town.authorityID) == 1)
        let (_, erased) = try town.login(app).json("GET", "/api/v1/applications/\(id)")
        #expect(erased["state"] as? String == "registered" && erased["mobileNumber"] == nil && erased["personalDataErasedAt"] != nil)
        let detail = try app.pool.query("""
            SELECT detail->>'reason' FROM audit_event WHERE entity_id = \(UUID(uuidString: id)) AND action = 'application.personal_data_erased'
            """).first?.decode(String.self, at: 0)
        #expect(detail == "max_age")
        // Still open, but no personal data can be entered again: the pass would never erase it.
        let caseworker = try town.login(app)
        let (patched, refusal) = caseworker.json("PATCH", "/api/v1/applications/\(id)", json: ["familyName": "Neu", "mobileNumber": "+491719876543"])
        #expect(patched == 409 && refusal["error"] as? String == "personal_data_erased")
        let (asked, refused) = caseworker.json("POST", "/api/v1/applications/\(id)/mobile-number-changes", json: ["mobileNumber": "+491719876543"])
        #expect(asked == 409 && refused["error"] as? String == "personal_data_erased")
        // A "ready" SMS that fails only now (a late delivery report) flags nobody to contact: no number is left.
        let applicationID = try #require(UUID(uuidString: id))
        try app.pool.withConnection { try SMSFailures.flag($0, authorityID: town.authorityID, applicationID: applicationID,
                                                          kind: SMSKind.readyInBox.rawValue, messageID: UUID()) }
        #expect(try app.pool.query("SELECT contact_required FROM application WHERE id = \(applicationID)").first?.decode(Bool.self, at: 0) == false)
        // What names nobody can still change: the applicant will come to the counter.
        let (moved, _) = caseworker.json("PATCH", "/api/v1/applications/\(id)", json: ["pickupMethod": "counter"])
        #expect(moved == 200)
        let (_, after) = caseworker.json("GET", "/api/v1/applications/\(id)")
        #expect(after["familyName"] == nil && after["mobileNumber"] == nil && after["pickupMethod"] as? String == "counter")
    }

    /// The document of a cancelled application arrives after its data was erased: the delivery answers
    /// `cancelled` but does not link the item to it, and the item's document number goes after the period
    /// of an item that names nobody.
    @Test func erasesTheDocumentNumberOfAnItemThatCameAfterItsApplicationWasErased() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        var anna = try town.login(app)
        let (cancelled, number) = try town.register(anna)
        #expect(anna.json("POST", "/api/v1/applications/\(cancelled)/cancel", json: ["reason": "zurückgenommen"]).0 == 200)
        #expect(Self.applications(try Self.pass(app).run(now: Self.later(days: 31)), town.authorityID) == 1)
        anna = try town.login(app)
        let (status, delivery) = anna.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "LATE-1", "items": [["documentNumber": documentNumber(950), "vorgangsnummer": number]]])
        #expect(status == 201)
        #expect((delivery["items"] as? [[String: Any]])?.first?["result"] as? String == "cancelled")
        func clear() throws -> Int {
            try app.pool.query("SELECT count(*)::int8 FROM delivery_item WHERE document_number = \(documentNumber(950)) AND application_id IS NULL")
                .first?.decode(Int.self, at: 0) ?? -1
        }
        #expect(try clear() == 1)
        // The dry run counts it and says how long it waits: a day, 31 days after the delivery.
        let preview = try app.pool.withConnection { try ErasurePreview.load($0, pass: Self.pass(app), now: Self.later(days: 31)) }
        #expect(preview.rows[.deliveryItem] == 1)
        #expect(abs(preview.oldestWaitingSeconds(at: Self.later(days: 31)) - Self.day) < 600)
        // 31 days after the delivery (the pass's clock, as above).
        _ = try Self.pass(app).run(now: Self.later(days: 31))
        #expect(try clear() == 0)
    }

    /// An application still open at the maximum age is erased; its document comes after and the delivery
    /// matches it (the counter can still hand it over by Vorgangsnummer). The number stays while it is open
    /// (up to the maximum age after the delivery: the next test) and goes, from the document and the
    /// delivery note's item, the period after it closes.
    @Test func erasesTheDocumentNumberMatchedAfterTheMaximumAge_thePeriodAfterItsApplicationCloses() throws {
        let late = try LateDocument(document: 951)
        let (app, town, id, kept) = (late.app, late.town, late.id.uuidString, late.kept)
        defer { app.shutdown() }
        #expect(try kept() == 2)
        // Open: kept (until the maximum age after the delivery: the test below).
        _ = try Self.pass(app).run(now: Self.later(days: 99))
        #expect(try kept() == 2)
        #expect(try town.login(app).json("POST", "/api/v1/applications/\(id)/cancel", json: ["reason": "zurückgenommen"]).0 == 200)
        // Cancelled without its reason: nothing would erase that text again.
        #expect(try app.pool.query("SELECT state, cancel_reason, cancelled_at IS NOT NULL FROM application WHERE id = \(UUID(uuidString: id))").first
            .map { [try $0.decode(String.self, at: 0), try $0.decode(String?.self, at: 1) ?? "none", String(try $0.decode(Bool.self, at: 2))] }
            == ["cancelled", "none", "true"])
        _ = try Self.pass(app).run(now: Self.later(days: 9))
        #expect(try kept() == 2)
        let preview = try app.pool.withConnection { try ErasurePreview.load($0, pass: Self.pass(app), now: Self.later(days: 11)) }
        #expect(preview.rows[.document] == 1 && preview.rows[.deliveryItem] == 1)
        // Due since ten days after the cancellation (now): waiting a day at day 11.
        #expect(abs(preview.oldestWaitingSeconds(at: Self.later(days: 11)) - Self.day) < 600)
        let outcome = try #require(try Self.pass(app).run(now: Self.later(days: 11)))
        #expect(outcome.receipts[town.authorityID]?.counts[.document] == 1 && outcome.receipts[town.authorityID]?.counts[.deliveryItem] == 1)
        #expect(try kept() == 0)
    }

    /// The same late document, its application never handed over or cancelled: the number goes the maximum
    /// age after the delivery, whatever the application's state (the same condition also ends the wait of
    /// a closed application whose document stays in a box).
    @Test func erasesALateDocumentNumber_theMaximumAgeAfterItsDelivery_whenItsApplicationNeverCloses() throws {
        let late = try LateDocument(document: 952)
        let (app, town, id, kept, preview) = (late.app, late.town, late.id, late.kept, late.preview)
        defer { app.shutdown() }
        #expect(try preview(99).rows[.document] == 0)
        _ = try Self.pass(app).run(now: Self.later(days: 99))
        #expect(try kept() == 2)
        let due = try preview(101)
        #expect(due.rows[.document] == 1 && due.rows[.deliveryItem] == 1)
        #expect(abs(due.oldestWaitingSeconds(at: Self.later(days: 101)) - Self.day) < 600)
        let outcome = try #require(try Self.pass(app).run(now: Self.later(days: 101)))
        #expect(outcome.receipts[town.authorityID]?.counts[.document] == 1 && outcome.receipts[town.authorityID]?.counts[.deliveryItem] == 1)
        #expect(try kept() == 0)
        let state = try app.pool.query("SELECT state FROM application WHERE id = \(id)").first?.decode(String.self, at: 0)
        #expect(state != nil && !RetentionPolicy.closingStates.map(\.rawValue).contains(state ?? ""), "still open")
    }

    /// The same late document, its application cancelled while the document lies in a box: the closed
    /// application's period does not start while the document is in the box, and the maximum age after the
    /// delivery ends the wait.
    @Test func erasesALateDocumentNumber_theMaximumAgeAfterItsDelivery_whenItStaysInABox() throws {
        let late = try LateDocument(document: 953)
        let (app, town, applicationID, kept) = (late.app, late.town, late.id, late.kept)
        defer { app.shutdown() }
        // In a box, cancelled meanwhile (the compartment waits for staff to take it out).
        let box = try town.makeBox(app, rows: 1, columns: 1)
        let assignment = UUID()
        try app.pool.transaction { c in
            try c.execute("""
                INSERT INTO assignment (authority_id, id, compartment_id, status, loaded_at)
                SELECT authority_id, \(assignment), id, 'retrieval_due', now() FROM compartment WHERE authority_id = \(town.authorityID) AND box_id = \(box)
                """)
            try c.execute("""
                UPDATE application SET assignment_id = \(assignment), state = 'cancelled', cancelled_at = now()
                WHERE authority_id = \(town.authorityID) AND id = \(applicationID)
                """)
        }
        _ = try Self.pass(app).run(now: Self.later(days: 11))
        #expect(try kept() == 2, "still in the box: the closed period has not started")
        #expect(try late.preview(11).rows[.document] == 0)
        let outcome = try #require(try Self.pass(app).run(now: Self.later(days: 101)))
        #expect(outcome.receipts[town.authorityID]?.counts[.document] == 1)
        #expect(try kept() == 0)
    }

    /// A four-eyes request names a mobile number: it goes with the application's (the request stays, and
    /// one still pending is superseded).
    @Test func erasesTheNumberOfAFourEyesRequest_withTheApplication() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        var anna = try town.login(app)
        let (cancelled, _) = try town.register(anna)
        let id = UUID(uuidString: cancelled) ?? UUID()
        try app.pool.execute("""
            INSERT INTO staff_approval (authority_id, id, application_id, kind, mobile_number, requested_by)
            SELECT \(town.authorityID), \(UUID()), \(id), 'mobile_number_change', '+491701234567', u.id FROM app_user u
            WHERE u.authority_id = \(town.authorityID) AND u.username = 'anna'
            """)
        #expect(anna.json("POST", "/api/v1/applications/\(cancelled)/cancel", json: ["reason": "zurückgenommen"]).0 == 200)
        func numbers() throws -> Int {
            try app.pool.query("SELECT count(mobile_number)::int8 FROM staff_approval WHERE application_id = \(id)").first?.decode(Int.self, at: 0) ?? -1
        }
        #expect(try numbers() == 1)
        let preview = try app.pool.withConnection { try ErasurePreview.load($0, pass: Self.pass(app), now: Self.later(days: 31)) }
        #expect(preview.rows[.staffApproval] == 1)
        let outcome = try #require(try Self.pass(app).run(now: Self.later(days: 31)))
        #expect(outcome.receipts[town.authorityID]?.counts[.staffApproval] == 1)
        #expect(try numbers() == 0)
        anna = try town.login(app)
        #expect(try app.pool.query("SELECT count(*)::int8 FROM staff_approval WHERE application_id = \(id)").first?.decode(Int.self, at: 0) == 1)
        // It was pending: now superseded (out of the supervisors' queue), audited as a newer request would be.
        let approval = try #require(try app.pool.query("SELECT id, state, decided_at IS NOT NULL AS decided FROM staff_approval WHERE application_id = \(id)").first)
        #expect(try approval.decode(String.self, column: "state") == "superseded" && approval.decode(Bool.self, column: "decided"))
        #expect(try app.pool.query("""
            SELECT count(*)::int8 FROM audit_event
            WHERE entity_id = \(id) AND action = 'application.approval_superseded' AND actor_kind = 'system'
              AND detail->>'approval' = \(try approval.decode(UUID.self, column: "id").uuidString.lowercased())
            """).first?.decode(Int.self, at: 0) == 1)
        let (_, queue) = try town.login(app, as: "chef").json("GET", "/api/v1/approvals?state=pending")
        #expect(queue["total"] as? Int == 0)
    }

    @Test func trimsTheSideTables_pastTheirWindows() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let anna = try town.login(app)
        #expect(anna.call("POST", "/api/v1/applications", json: town.applicationBody(), headers: ["Idempotency-Key: retry-1"])?.status == 201)
        #expect(StaffClient(port: app.port).json("POST", "/api/v1/auth/login", json: ["authority": town.slug, "username": "anna", "password": "wrong"]).0 == 401)
        let box = UUID()
        try app.pool.execute("INSERT INTO box (authority_id, id, site_id, name) VALUES (\(town.authorityID), \(box), \(town.siteID), 'Box T')")
        try app.pool.execute("INSERT INTO pickup_attempt (authority_id, box_id, outcome) VALUES (\(town.authorityID), \(box), 'refused')")
        func rows(_ table: String) throws -> Int { try app.pool.query("SELECT count(*)::int8 FROM \(unsafeSQL: table)").first?.decode(Int.self, at: 0) ?? -1 }
        func addresses() throws -> Int { try app.pool.query("SELECT count(*)::int8 FROM audit_event WHERE client_address IS NOT NULL").first?.decode(Int.self, at: 0) ?? -1 }
        #expect(try rows("idempotency_key") == 1 && rows("login_throttle") >= 1 && rows("pickup_attempt") == 1 && addresses() > 0)

        // A quarter of an hour on: the attempt (10-minute window) goes; the stored answer stays a day, and so
        // does the account's failure counter (`expires_at`: an account remembers failures for 24 hours).
        _ = try Self.pass(app).run(now: Date().addingTimeInterval(16 * 60))
        #expect(try rows("pickup_attempt") == 0 && rows("idempotency_key") == 1)
        _ = try Self.pass(app).run(now: Self.later(days: 1.1))
        #expect(try rows("idempotency_key") == 0 && rows("session") == 0 && rows("login_throttle") == 0)   // the session expired after 12 hours
        #expect(try addresses() > 0)
        let events = try rows("audit_event")
        let outcome = try #require(try Self.pass(app).run(now: Self.later(days: 91)))
        #expect(try addresses() == 0)
        #expect(outcome.receipts[town.authorityID]?.counts[.auditEvent] ?? 0 > 0)
        // The events themselves stay, and the log is still append-only for everything else.
        #expect(try rows("audit_event") > events)
        #expect(throws: PostgresError.self) { try app.pool.execute("UPDATE audit_event SET action = 'x.y' WHERE true") }
        #expect(throws: PostgresError.self) { try app.pool.execute("UPDATE audit_event SET client_address = '192.0.2.1' WHERE true") }
        #expect(throws: PostgresError.self) { try app.pool.execute("DELETE FROM audit_event WHERE true") }
    }

    @Test func runsInBatches_andGoesOnAfterAPassThatDied() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let anna = try town.login(app)
        for _ in 0..<5 {
            let (id, _) = try town.register(anna)
            #expect(anna.json("POST", "/api/v1/applications/\(id)/cancel", json: ["reason": "doppelt"]).0 == 200)
        }
        // A pass that dies after its first batch of two: the batch is committed, its receipt says so.
        let died = try #require(try Self.pass(app, batchSize: 2, stopAfterBatches: 1).run(now: Self.later(days: 31)))
        #expect(!died.finished)
        func erased() throws -> Int { try app.pool.query("SELECT count(*)::int8 FROM application WHERE personal_data_erased_at IS NOT NULL").first?.decode(Int.self, at: 0) ?? -1 }
        #expect(try erased() == 2)

        let next = try #require(try Self.pass(app, batchSize: 2).run(now: Self.later(days: 31)))
        #expect(next.interruptedEarlier == 1 && next.finished)
        #expect(next.receipts[town.authorityID]?.applications == 3)
        #expect(try erased() == 5)

        let (status, page) = try town.login(app, as: "chef").json("GET", "/api/v1/privacy/erasures")
        #expect(status == 200)
        let items = try #require(page["items"] as? [[String: Any]])
        #expect(items.map { $0["status"] as? String } == ["finished", "interrupted"])
        #expect(items.map { $0["applications"] as? Int } == [3, 2])
        let newest = try #require(items.first)
        #expect((newest["rows"] as? [String: Int])?["application"] == 3)
        #expect((newest["policy"] as? [String: Any])?["retentionDaysAfterClose"] as? Int == 30)
        let range = try #require(newest["auditEvents"] as? [String: Int])
        #expect(try #require(range["lastId"]) - #require(range["firstId"]) >= 2)
        let receiptEvent = try #require(newest["receiptEventId"] as? Int)
        let action = try app.pool.query("SELECT action FROM audit_event WHERE id = \(receiptEvent)").first?.decode(String.self, at: 0)
        #expect(action == "privacy.erasure_receipt")
    }

    @Test func receipts_areForSupervisors_andShowOnlyTheirAuthority() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app), other = try AuthorityFixture.make(app)
        let anna = try town.login(app)
        let (id, _) = try town.register(anna)
        #expect(anna.json("POST", "/api/v1/applications/\(id)/cancel", json: ["reason": "doppelt"]).0 == 200)
        _ = try Self.pass(app).run(now: Self.later(days: 31))
        #expect(try town.login(app).json("GET", "/api/v1/privacy/erasures").0 == 403)
        #expect(StaffClient(port: app.port).json("GET", "/api/v1/privacy/erasures").0 == 401)
        let (status, page) = try other.login(app, as: "chef").json("GET", "/api/v1/privacy/erasures")
        #expect(status == 200)
        let item = try #require((page["items"] as? [[String: Any]])?.first)
        #expect(item["applications"] as? Int == 0 && item["auditEvents"] == nil && (item["rows"] as? [String: Int]) == [:])
        #expect(try town.login(app, as: "chef").json("GET", "/api/v1/privacy/erasures?limit=0").0 == 400)
    }

    @Test func onePassAtATime_andNotAgainBeforeTheInterval() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        // Another process's pass: the lock held on another connection.
        try app.pool.withConnection { holder in
            try holder.query("SELECT pg_advisory_lock(\(ErasurePass.lockKey))")
            #expect(try Self.pass(app).run() == nil)
            try holder.query("SELECT pg_advisory_unlock(\(ErasurePass.lockKey))")
        }
        #expect(try Self.pass(app).run(minimumInterval: 3600) != nil)
        #expect(try Self.pass(app).run(minimumInterval: 3600) == nil)
        #expect(try Self.pass(app).run(now: Date().addingTimeInterval(3601), minimumInterval: 3600) != nil)
    }

    /// A message of no application is due the period after it was queued: the dry run counts it and says
    /// since when it waits, and the pass erases its number.
    @Test func aMessageOfNoApplication_waitsFromTheEndOfItsPeriod() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let id = UUID()
        try app.pool.execute("""
            INSERT INTO sms_message (authority_id, id, to_number, template, language, status, created_at)
            VALUES (\(town.authorityID), \(id), '+491701234567', 'ready_in_box', 'de', 'sent', now() - interval '40 days')
            """)
        let preview = try app.pool.withConnection { try ErasurePreview.load($0, pass: Self.pass(app)) }
        #expect(preview.rows[.smsMessage] == 1)
        // Queued 40 days ago, due 30 days after: waiting for 10 days.
        #expect(abs(preview.oldestWaitingSeconds(at: Date()) - 10 * Self.day) < 600)
        let outcome = try #require(try Self.pass(app).run())
        #expect(outcome.receipts[town.authorityID]?.counts[.smsMessage] == 1)
        #expect(try app.pool.query("SELECT count(to_number)::int8 FROM sms_message WHERE id = \(id)").first?.decode(Int.self, at: 0) == 0)
    }

    @Test func metricsShowWhatWaits_andWhenThePassRan() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let anna = try town.login(app)
        let (id, _) = try town.register(anna)
        #expect(anna.json("POST", "/api/v1/applications/\(id)/cancel", json: ["reason": "doppelt"]).0 == 200)
        try app.pool.execute("UPDATE application SET cancelled_at = now() - interval '40 days' WHERE id = \(UUID(uuidString: id))")
        func metrics() throws -> String { try #require(try TestClient(port: app.port).request("GET", "/metrics")).text }
        var text = try metrics()
        #expect(text.metric(#"erasure_waiting_rows{table="application"}"#) == 1)
        #expect((text.metric("erasure_oldest_waiting_seconds") ?? 0) > 9 * Self.day)
        #expect(text.metric("erasure_last_pass_timestamp_seconds") == 0)
        _ = try Self.pass(app).run()
        text = try metrics()
        #expect(text.metric(#"erasure_waiting_rows{table="application"}"#) == 0)
        #expect(text.metric("erasure_oldest_waiting_seconds") == 0)
        #expect((text.metric("erasure_last_pass_timestamp_seconds") ?? 0) > Date().timeIntervalSince1970 - 60)
    }

    @Test func storesOnlyTheNetworkOfClientAddresses_whenTruncationIsOn() throws {
        #expect(TrustedProxies.network(of: "192.0.2.17") == "192.0.2.0/24")
        #expect(TrustedProxies.network(of: "2001:db8:1:2::5") == "2001:db8:1::/48")
        #expect(TrustedProxies.network(of: "not an address") == "not an address")
        let policy = try RetentionPolicy(daysAfterClose: 30, maxAgeDays: 400, auditAddressDays: 90, truncateAuditAddresses: true)
        let app = try AppFixture.make { $0.retention = policy }
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        _ = try town.login(app)
        let stored = try app.pool.query("SELECT DISTINCT client_address FROM audit_event WHERE action = 'auth.login'").map { try $0.decode(String.self, at: 0) }
        #expect(stored == ["127.0.0.0/24"])
    }

    @Test func retentionSettings_areValidatedTogether() throws {
        #expect(throws: AppConfiguration.Invalid.self) { try AppConfiguration.load(from: ["RETENTION_DAYS_AFTER_CLOSE": "60", "RETENTION_DAYS_MAX": "30"]) }
        #expect(throws: AppConfiguration.Invalid.self) { try AppConfiguration.load(from: ["AUDIT_IP_DAYS": "0"]) }
        #expect(throws: AppConfiguration.Invalid.self) { try AppConfiguration.load(from: ["AUDIT_IP_TRUNCATE": "maybe"]) }
        let c = try AppConfiguration.load(from: ["RETENTION_DAYS_AFTER_CLOSE": "7", "RETENTION_DAYS_MAX": "200", "AUDIT_IP_DAYS": "14", "AUDIT_IP_TRUNCATE": "on"])
        #expect(c.retention == (try RetentionPolicy(daysAfterClose: 7, maxAgeDays: 200, auditAddressDays: 14, truncateAuditAddresses: true)))
        #expect(AppConfiguration.variables.contains { $0.name == "RETENTION_DAYS_AFTER_CLOSE" })
    }
}

@Suite("pickupbox erase")
struct EraseCommandTests {
    @Test func dryRunCountsWithoutChanging_thenThePassErases() throws {
        let db = try TestPostgres.makeDatabase()
        // The command's own database: migrate it through the command, then put one due application in.
        let migrate = try OperatorCommandTests.run(["migrate"], database: db)
        #expect(migrate.status == 0, "\(migrate.stderr)")
        let pool = PostgresPool(configuration: PostgresConfiguration(connectionString: db, poolSize: 1), logger: AppFixture.logger)
        defer { pool.shutdown() }
        let authority = UUID(), site = UUID()
        try pool.transaction { c in
            try c.execute("INSERT INTO authority (id, slug, name) VALUES (\(authority), 'erasetown', 'Stadt')")
            try c.execute("INSERT INTO site (authority_id, id, name, address, land) VALUES (\(authority), \(site), 'Amt', 'Markt 1', 'NW')")
            try c.execute("""
                INSERT INTO application (authority_id, id, vorgangsnummer, site_id, document_type, issuance, family_name, given_names, date_of_birth,
                    mobile_number, pickup_method, fee_cents, state, collected_at)
                VALUES (\(authority), \(UUID()), 'EXT-1', \(site), 'eat', 'first', 'Muster', 'Erika', '1984-08-12', '+4915123456789', 'box', 0,
                    'collected', now() - interval '3 days')
                """)
        }
        func stillNamed() throws -> Int { try pool.query("SELECT count(*)::int8 FROM application WHERE family_name IS NOT NULL").first?.decode(Int.self, at: 0) ?? -1 }

        let dry = try OperatorCommandTests.run(["erase", "--dry-run"], database: db, environment: ["RETENTION_DAYS_AFTER_CLOSE": "2"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("dry run"))
        #expect(dry.stdout.contains("application       1"))
        #expect(!dry.stdout.contains("Muster") && !dry.stderr.contains("Muster"))
        #expect(try stillNamed() == 1)

        let real = try OperatorCommandTests.run(["erase"], database: db, environment: ["RETENTION_DAYS_AFTER_CLOSE": "2"])
        #expect(real.status == 0, "\(real.stderr)")
        #expect(real.stdout.contains("finished"))
        #expect(real.stdout.contains("application       1"))
        #expect(try stillNamed() == 0)
    }
}
