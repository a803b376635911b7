@testable import App
import Domain
import Foundation
import HTTPTestSupport
import Postgres
import SMSGateway
import Testing

/// Delivery reports (docs/ARCHITECTURE.md#sms): genuine, forged, unknown reference — per provider scheme.
@Suite("SMS delivery reports")
struct SMSDeliveryReportTests {
    static func app(provider: SMSProviderName, token: String? = nil, secret: String? = SMSFixture.dlrSecret, callback: String? = nil,
                    sender: String? = nil) throws -> Application {
        try AppFixture.make { c in
            c.sms.gateway = SMSEnvironment(provider: provider,
                                           configuration: GatewayConfiguration(url: "http://127.0.0.1:1/sms", token: token ?? "token", sender: sender, callbackURL: callback),
                                           deliveryReportSecret: secret.map { Array($0.utf8) })
        }
    }

    /// A message as the dispatcher leaves it after sending.
    static func sentMessage(_ app: Application, kind: String = "ready_in_box", applicationID: UUID? = nil, authorityID: UUID = UUID(),
                            provider: String = "webhook", providerID: String? = nil) throws -> UUID {
        let id = UUID()
        try app.pool.execute("""
            INSERT INTO sms_message (authority_id, id, application_id, to_number, template, language, body, status, attempts, provider, provider_id, sent_at)
            VALUES (\(authorityID), \(id), \(applicationID), '+4915112345678', \(kind), 'de', NULL, 'sent', 1, \(provider), \(providerID), now())
            """)
        return id
    }

    static func status(_ app: Application, _ id: UUID) throws -> String? {
        try app.pool.query("SELECT status FROM sms_message WHERE id = \(id)").first?.decode(String.self, at: 0)
    }

    static func post(_ app: Application, _ provider: String, body: String, headers: [String]) -> TestClient.Reply? {
        guard let client = try? TestClient(port: app.port) else { return nil }
        return client.request("POST", "/api/v1/sms/delivery-reports/\(provider)", headers: headers, body: body)
    }

    @Test func webhook_genuineReportsUpdate_forgedAreRefused_unknownAreAcknowledged() throws {
        let app = try Self.app(provider: .webhook)
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let client = try town.login(app)
        let (applicationID, _) = try town.register(client)
        let delivered = try Self.sentMessage(app)
        let failed = try Self.sentMessage(app, applicationID: UUID(uuidString: applicationID), authorityID: town.authorityID)
        let now = Int(Date().timeIntervalSince1970)
        func sign(_ body: String, at timestamp: Int = now) -> [String] {
            ["X-Signature: " + DeliveryReports.webhookSignature(body: Array(body.utf8), timestamp: timestamp, secret: Array(SMSFixture.dlrSecret.utf8)),
             "X-Timestamp: \(timestamp)"]
        }

        let genuine = #"{"reference": "\#(delivered.uuidString.lowercased())", "status": "delivered"}"#
        let reply = Self.post(app, "webhook", body: genuine, headers: ["Content-Type: application/json"] + sign(genuine))
        #expect(reply?.status == 200)
        #expect(try Self.status(app, delivered) == "delivered")

        let forged = #"{"reference": "\#(failed.uuidString.lowercased())", "status": "failed"}"#
        #expect(Self.post(app, "webhook", body: forged, headers: ["Content-Type: application/json"] + sign(genuine))?.status == 401)
        #expect(Self.post(app, "webhook", body: forged, headers: ["Content-Type: application/json"])?.status == 401)
        #expect(try Self.status(app, failed) == "sent")

        let real = Self.post(app, "webhook", body: forged, headers: ["Content-Type: application/json"] + sign(forged))
        #expect(real?.status == 200)
        #expect(try Self.status(app, failed) == "failed")
        // A "ready" SMS that never arrived: the applicant has no PIN.
        #expect(client.json("GET", "/api/v1/applications/\(applicationID)").1["contactRequired"] as? Bool == true)

        let unknown = #"[{"reference": "\#(UUID().uuidString.lowercased())", "status": "delivered"}, {"reference": "not-ours", "status": "expired"}]"#
        let answer = Self.post(app, "webhook", body: unknown, headers: ["Content-Type: application/json"] + sign(unknown))
        #expect(answer?.status == 200)
        #expect(answer?.text.contains(#""unknown":2"#) == true)

        let garbage = "{\"nothing\": 1}"
        #expect(Self.post(app, "webhook", body: garbage, headers: ["Content-Type: application/json"] + sign(garbage))?.status == 400)
        // Only the configured provider has an endpoint.
        #expect(Self.post(app, "twilio", body: "", headers: [])?.status == 404)
        #expect(Self.post(app, "console", body: "", headers: [])?.status == 404)
    }

    @Test func twilio_statusCallbacks_areVerifiedWithTheAuthToken() throws {
        let callback = "https://pickupbox.example.org/api/v1/sms/delivery-reports/twilio"
        let app = try Self.app(provider: .twilio, token: "AC0123456789:auth-token-secret", secret: nil, callback: callback, sender: "+4915100000000")
        defer { app.shutdown() }
        let id = try Self.sentMessage(app, kind: "reminder", provider: "twilio", providerID: "SM00000000000000000000000000000001")
        let parameters = [("MessageSid", "SM00000000000000000000000000000001"), ("MessageStatus", "undelivered"), ("ErrorCode", "30003")]
        let body = parameters.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        let good = DeliveryReports.twilioSignature(url: callback, formParameters: parameters, authToken: "auth-token-secret")
        let bad = DeliveryReports.twilioSignature(url: callback, formParameters: parameters, authToken: "wrong")
        #expect(Self.post(app, "twilio", body: body, headers: ["Content-Type: application/x-www-form-urlencoded", "X-Twilio-Signature: \(bad)"])?.status == 401)
        #expect(try Self.status(app, id) == "sent")
        #expect(Self.post(app, "twilio", body: body, headers: ["Content-Type: application/x-www-form-urlencoded", "X-Twilio-Signature: \(good)"])?.status == 200)
        #expect(try Self.status(app, id) == "failed")
        #expect(try app.pool.query("SELECT error FROM sms_message WHERE id = \(id)").first?.decode(String.self, at: 0).contains("30003") == true)
    }

    @Test func seven_signedWebhooks_areVerified_andStaleOnesRefused() throws {
        let callback = "https://pickupbox.example.org/api/v1/sms/delivery-reports/seven"
        let app = try Self.app(provider: .seven, callback: callback)
        defer { app.shutdown() }
        let id = try Self.sentMessage(app, kind: "reminder", provider: "seven", providerID: "77001")
        let body = #"{"webhook_event": "dlr", "data": {"msg_id": "77001", "status": "DELIVERED", "foreign_id": "\#(id.uuidString.lowercased())"}}"#
        func headers(timestamp: Int, secret: String) -> [String] {
            let signature = DeliveryReports.sevenSignature(method: "POST", url: callback, body: Array(body.utf8), timestamp: timestamp, nonce: "n0nce",
                                                           signingSecret: Array(secret.utf8))
            return ["Content-Type: application/json", "X-Timestamp: \(timestamp)", "X-Nonce: n0nce", "X-Signature: \(signature)"]
        }
        let now = Int(Date().timeIntervalSince1970)
        #expect(Self.post(app, "seven", body: body, headers: headers(timestamp: now, secret: "other"))?.status == 401)
        #expect(Self.post(app, "seven", body: body, headers: headers(timestamp: now - 3600, secret: SMSFixture.dlrSecret))?.status == 401)
        #expect(try Self.status(app, id) == "sent")
        #expect(Self.post(app, "seven", body: body, headers: headers(timestamp: now, secret: SMSFixture.dlrSecret))?.status == 200)
        #expect(try Self.status(app, id) == "delivered")
    }
}

/// Texts per kind and language (docs/ARCHITECTURE.md#sms).
@Suite("SMS templates")
struct SMSTemplateTests {
    @Test func builtInTexts_coverEveryKind_inGermanAndEnglish_withinTheBudget_andWithoutPersonalData() throws {
        for kind in SMSKind.allCases {
            for language in ["de", "en"] {
                let source = try #require(SMSTexts.builtIn(kind, language: language))
                let template = try SMSTemplate(source)
                #expect(kind.requiredPlaceholders.allSatisfy(template.placeholders.contains), "\(kind) \(language)")
                let worst = template.render(.worstCase(siteName: String(repeating: "S", count: 60)))
                #expect(SMSText.segments(of: worst).segments <= SMSSettings().segmentBudget, "\(kind) \(language)")
            }
        }
        #expect(throws: AppError.self) { try SMSTemplate("Hallo {name}, PIN {pin}") }
        #expect(throws: AppError.self) { try SMSTemplate("PIN {pin") }
        #expect(throws: AppError.self) { try SMSTemplate("PIN pin}") }
        #expect(try SMSTemplate("PIN {pin} bis {deadline}").render(SMSValues(pin: "012345", deadline: try CivilDate(year: 2026, month: 12, day: 4)))
                == "PIN 012345 bis 04.12.2026")
    }

    @Test func supervisorsEditTexts_perLanguage_validated_andTheyAreUsed() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let chef = try town.login(app, as: "chef")
        let anna = try town.login(app)

        let (listed, list) = anna.json("GET", "/api/v1/sms/templates")
        #expect(listed == 200)
        let items = list["items"] as? [[String: Any]] ?? []
        #expect(items.count == SMSKind.allCases.count * 2)
        #expect(items.allSatisfy { $0["source"] as? String == "default" })
        let ready = items.first { $0["kind"] as? String == "ready_in_box" && $0["language"] as? String == "de" }
        #expect(ready?["encoding"] as? String == "gsm7")
        #expect(ready?["requiredPlaceholders"] as? [String] == ["pin", "deadline"])

        let turkish = "Belgeniz {site} teslim kutusunda hazır. PIN: {pin}. Son gün {deadline}. PIN mektubunu getirin."
        #expect(anna.json("PUT", "/api/v1/sms/templates/ready_in_box/tr", json: ["body": turkish]).0 == 403)
        let (saved, template) = chef.json("PUT", "/api/v1/sms/templates/ready_in_box/tr", json: ["body": turkish])
        #expect(saved == 200, "\(template)")
        #expect(template["source"] as? String == "custom")
        #expect(template["encoding"] as? String == "ucs2")   // ı is not in GSM-7
        #expect(template["segments"] as? Int == 2)

        let (missing, missingBody) = chef.json("PUT", "/api/v1/sms/templates/ready_in_box/tr", json: ["body": "Belgeniz hazır. Son gün {deadline}."])
        #expect(missing == 400 && missingBody["error"] as? String == "missing_placeholder")
        let (personal, personalBody) = chef.json("PUT", "/api/v1/sms/templates/reminder/de", json: ["body": "Hallo {name}, bis {deadline}"])
        #expect(personal == 400 && personalBody["error"] as? String == "unknown_placeholder")
        let long = String(repeating: "Bitte beachten Sie unsere Hinweise zur Abholung. ", count: 12) + "{deadline}"
        let (over, overBody) = chef.json("PUT", "/api/v1/sms/templates/reminder/de", json: ["body": long])
        #expect(over == 400 && overBody["error"] as? String == "over_segment_budget")
        #expect(chef.json("PUT", "/api/v1/sms/templates/reminder/DE", json: ["body": "bis {deadline}"]).0 == 400)
        #expect(chef.json("PUT", "/api/v1/sms/templates/reminder/%D9%A0%D9%A1", json: ["body": "bis {deadline}"]).1["error"] as? String == "invalid_language")
        #expect(chef.json("PUT", "/api/v1/sms/templates/reminder/de", json: ["body": 42]).1["error"] as? String == "invalid_type")
        #expect(chef.json("PUT", "/api/v1/sms/templates/reminder/de", json: ["body": String(repeating: "x", count: 1001) + "{deadline}"]).1["error"] as? String == "too_long")
        #expect(anna.json("GET", "/api/v1/sms/messages?applicationId=%27%20OR%201%3D1").1["error"] as? String == "invalid_parameter")
        #expect(anna.json("GET", "/api/v1/sms/messages?limit=%D9%A1").1["error"] as? String == "invalid_parameter")
        #expect(chef.json("PUT", "/api/v1/sms/templates/birthday/de", json: ["body": "x"]).0 == 404)
        #expect(chef.json("PUT", "/api/v1/sms/templates/reminder/de", json: ["body": "bis {deadline}\u{7}"]).0 == 400)

        // The Turkish text is used for Turkish applicants; French ones get German and English.
        let rendered = try app.pool.transaction { c in
            (try SMSTexts.render(c, authorityID: town.authorityID, kind: .readyInBox, language: "tr", values: SMSValues(pin: "123456", site: "Bürgerhaus", deadline: nil)),
             try SMSTexts.render(c, authorityID: town.authorityID, kind: .readyInBox, language: "fr", values: SMSValues(pin: "123456", site: "Bürgerhaus", deadline: nil)))
        }
        #expect(rendered.0.hasPrefix("Belgeniz Bürgerhaus teslim kutusunda hazır. PIN: 123456."))
        #expect(rendered.1.hasPrefix("Ihr Dokument liegt") && rendered.1.contains(" / Your document is ready"))

        let (_, afterSave) = anna.json("GET", "/api/v1/sms/templates")
        #expect((afterSave["items"] as? [[String: Any]])?.count == SMSKind.allCases.count * 3)
        #expect(chef.call("DELETE", "/api/v1/sms/templates/ready_in_box/tr")?.status == 204)
        #expect(chef.call("DELETE", "/api/v1/sms/templates/ready_in_box/tr")?.status == 404)
        #expect(try app.pool.query("SELECT count(*)::int8 FROM audit_event WHERE action LIKE 'sms_template.%'").first?.decode(Int.self, at: 0) == 2)
    }
}

/// Reminders (docs/ARCHITECTURE.md#deadline).
@Suite("SMS reminders")
struct SMSReminderTests {
    static func loadedDocument() throws -> (Application, LoadedDocument) {
        let (app, town, box, token) = try PickupTests.setUp()
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 951)
        // Loaded two days ago, deadline tomorrow.
        try app.pool.execute("UPDATE assignment SET loaded_at = now() - interval '2 days'")
        try app.pool.execute("UPDATE application SET pickup_deadline = (now() AT TIME ZONE 'Europe/Berlin')::date + 1")
        return (app, doc)
    }

    @Test func aReminderGoesOutOnce_daysBeforeTheDeadline_evenWithTwoPassesAtOnce() throws {
        let (app, _) = try Self.loadedDocument()
        defer { app.shutdown() }
        var settings = SMSSettings()
        settings.reminderDaysBefore = 2
        settings.quietHours = nil
        let pass = settings
        let total = Mutex64()
        let group = DispatchGroup()
        for _ in 0..<4 {
            group.enter()
            Thread.detachNewThread {
                total.add(by: (try? SMSReminders.runOnce(pool: app.pool, settings: pass, cipher: app.smsCipher, logger: AppFixture.logger)) ?? 0)
                group.leave()
            }
        }
        group.wait()
        #expect(try SMSReminders.runOnce(pool: app.pool, settings: settings, cipher: app.smsCipher, logger: AppFixture.logger) == 0)
        let rows = try SMSFixture.texts(app, where: "template = 'reminder'")
        #expect(rows.count == 1)
        #expect(total.value == 1)
        let body = try #require(rows.first)
        #expect(body.hasPrefix("Erinnerung: Ihr Dokument liegt noch in der Ausgabebox Bürgerhaus."))
        #expect(body.range(of: #"[0-9]{6}"#, options: .regularExpression) == nil, "a reminder carries no PIN")
    }

    @Test func notYet_whenTheDeadlineIsFurtherAway_andNeverWhenSwitchedOff() throws {
        let (app, _) = try Self.loadedDocument()
        defer { app.shutdown() }
        try app.pool.execute("UPDATE application SET pickup_deadline = (now() AT TIME ZONE 'Europe/Berlin')::date + 5")
        var settings = SMSSettings()
        settings.quietHours = nil
        settings.reminderDaysBefore = 2
        #expect(try SMSReminders.runOnce(pool: app.pool, settings: settings, cipher: app.smsCipher, logger: AppFixture.logger) == 0)
        settings.reminderDaysBefore = nil
        try app.pool.execute("UPDATE application SET pickup_deadline = (now() AT TIME ZONE 'Europe/Berlin')::date + 1")
        #expect(try SMSReminders.runOnce(pool: app.pool, settings: settings, cipher: app.smsCipher, logger: AppFixture.logger) == 0)
    }

    @Test func inQuietHours_theReminderWaitsForTheirEnd() throws {
        let (app, _) = try Self.loadedDocument()
        defer { app.shutdown() }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "Europe/Berlin"))
        let now = Date()
        let parts = calendar.dateComponents([.hour, .minute], from: now)
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        var settings = SMSSettings()
        settings.reminderDaysBefore = 2
        settings.quietHours = QuietHours(startMinute: (minute + 24 * 60 - 60) % (24 * 60), endMinute: (minute + 120) % (24 * 60))
        #expect(try SMSReminders.runOnce(pool: app.pool, settings: settings, cipher: app.smsCipher, logger: AppFixture.logger, now: now) == 1)
        let wait = try #require(try app.pool.query("SELECT extract(epoch FROM next_attempt_at - now())::float8 FROM sms_message WHERE template = 'reminder'")
            .first?.decode(Double.self, at: 0))
        #expect(wait > 110 * 60 && wait <= 120 * 60 + 5, "\(wait)")
        #expect(QuietHours(startMinute: 21 * 60, endMinute: 8 * 60).contains(minute: 23 * 60))
        #expect(QuietHours(startMinute: 21 * 60, endMinute: 8 * 60).contains(minute: 7 * 60 + 59))
        #expect(!QuietHours(startMinute: 21 * 60, endMinute: 8 * 60).contains(minute: 8 * 60))
        #expect(QuietHours(parsing: "21:00-08:00") == QuietHours(startMinute: 21 * 60, endMinute: 8 * 60))
        #expect(QuietHours(parsing: "21:00") == nil && QuietHours(parsing: "25:00-08:00") == nil)
    }
}
