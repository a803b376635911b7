@testable import App
import Domain
import Foundation
import HTTPTestSupport
import Postgres
import Testing

extension AuthorityFixture {
    func applicationBody(_ overrides: [String: Any] = [:]) -> [String: Any] {
        var body: [String: Any] = [
            "siteId": siteID.uuidString, "documentType": "eat", "issuance": "first", "familyName": "Yılmaz", "givenNames": "Ayşe",
            "dateOfBirth": "15.03.1990", "mobileNumber": "0171 1234567", "pickupMethod": "box", "feeSettled": true,
        ]
        for (k, v) in overrides { body[k] = v }
        return body
    }
}

@Suite("Applications API")
struct ApplicationTests {
    @Test func registersAnApplication_withGeneratedNumberFeeAndNormalisedPhone() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let client = try town.login(app)
        let reply = try #require(client.call("POST", "/api/v1/applications", json: town.applicationBody()))
        #expect(reply.status == 201)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any])
        let number = try #require(body["vorgangsnummer"] as? String)
        #expect(throws: Never.self) { try Vorgangsnummer(number) }
        #expect(body["mobileNumber"] as? String == "+491711234567")
        #expect(body["dateOfBirth"] as? String == "1990-03-15")
        #expect(body["state"] as? String == "registered")
        #expect((body["fee"] as? [String: Any])?["amountCents"] as? Int == 10_000)
        #expect(reply.header("Location") == "/api/v1/applications/\((body["id"] as? String ?? "").lowercased())")
        // The audit trail has the event, without personal data.
        let (_, fetched) = client.json("GET", "/api/v1/applications/\(body["id"] as? String ?? "")")
        #expect(fetched["vorgangsnummer"] as? String == number)
        let events = try #require(client.call("GET", "/api/v1/applications/\(body["id"] as? String ?? "")/events"))
        #expect(events.text.contains("application.registered"))
        #expect(!events.text.contains("Yılmaz"))
        #expect(!events.text.contains("1711234567"))
    }

    @Test func computesReducedFees_forMinorsRenewalsAndExemptions() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let client = try town.login(app)
        let cases: [([String: Any], Int)] = [
            (["dateOfBirth": "01.01.2015"], 5_000),
            (["issuance": "renewal"], 9_300),
            (["issuance": "renewal", "dateOfBirth": "00.00.2015"], 4_650),
            (["feeExemption": "asylblg"], 0),
        ]
        for (overrides, cents) in cases {
            let (status, body) = client.json("POST", "/api/v1/applications", json: town.applicationBody(overrides))
            #expect(status == 201, "\(overrides)")
            #expect((body["fee"] as? [String: Any])?["amountCents"] as? Int == cents, "\(overrides)")
        }
    }

    nonisolated(unsafe) static let invalid: [(String, [String: Any], String, String)] = [
        ("arabic-indic digits", ["mobileNumber": "٠١٧١١٢٣٤٥٦٧"], "non_ascii_digits", "mobileNumber"),
        ("full-width digits", ["mobileNumber": "０１７１１２３４５６７"], "non_ascii_digits", "mobileNumber"),
        ("landline for SMS", ["mobileNumber": "0231 123456"], "not_a_mobile_number", "mobileNumber"),
        ("box without mobile", ["mobileNumber": NSNull()], "missing_field", "mobileNumber"),
        ("impossible date", ["dateOfBirth": "31.02.1990"], "invalid_date_of_birth", "dateOfBirth"),
        ("unknown document type", ["documentType": "driving_licence"], "invalid_value", "documentType"),
        ("RTL override in name", ["familyName": "abc\u{202E}cba"], "invalid_characters", "familyName"),
        ("300-character name", ["familyName": String(repeating: "x", count: 300)], "too_long", "familyName"),
        ("empty name", ["familyName": "   "], "missing_field", "familyName"),
        ("CAN on first issuance", ["oldDocumentCan": "123456"], "not_applicable", "oldDocumentCan"),
        ("unknown field", ["isAdmin": true], "unknown_field", "isAdmin"),
        ("wrong JSON type", ["needsAccessibleCompartment": "yes"], "invalid_type", "needsAccessibleCompartment"),
        ("unknown site", ["siteId": UUID().uuidString], "unknown_site", "siteId"),
        ("SQL-like text", ["familyName": "x'); DROP TABLE application; --", "mobileNumber": "'; DELETE FROM session; --"], "invalid_phone_number", "mobileNumber"),
        ("bad external number", ["vorgangsnummer": "ab"], "invalid_vorgangsnummer", "vorgangsnummer"),
    ]

    @Test func refusesInvalidInput_withA400NamingTheField() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let client = try town.login(app)
        for (name, overrides, code, field) in Self.invalid {
            var body = town.applicationBody(overrides)
            if overrides["mobileNumber"] is NSNull { body.removeValue(forKey: "mobileNumber") }
            let (status, error) = client.json("POST", "/api/v1/applications", json: body)
            #expect(status == 400, "\(name)")
            #expect(error["error"] as? String == code, "\(name): \(error)")
            #expect(error["field"] as? String == field, "\(name)")
        }
        // Nothing was half-written.
        let count = try app.pool.query("SELECT count(*)::int8 FROM application WHERE authority_id = \(town.authorityID)").first?.decode(Int.self, at: 0)
        #expect(count == 0)
        let tables = try app.pool.query("SELECT count(*)::int8 FROM session").first?.decode(Int.self, at: 0) ?? 0
        #expect(tables >= 1)
    }

    @Test func refusesA64KiBBody_beforeReadingIt() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let client = try town.login(app)
        let (status, error) = client.json("POST", "/api/v1/applications", json: town.applicationBody(["familyName": String(repeating: "x", count: 65_536)]))
        #expect(status == 413)
        #expect(error["error"] as? String == "body_too_large")
    }

    @Test func refusesMalformedJSON() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let client = try town.login(app)
        let duplicate = #"{"siteId":"\#(town.siteID)","siteId":"\#(town.siteID)"}"#
        let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        let nul = #"{"familyName": "a\u0000b"}"#
        for text in [duplicate, deep, nul, "{", "null", #"{"familyName": 1e999}"#] {
            let reply = try #require(client.call("POST", "/api/v1/applications", body: text))
            #expect(reply.status == 400, "\(text.prefix(40))")
            #expect(reply.header("Content-Type") == "application/json")
        }
    }

    @Test func replaysIdempotentRequests_andRefusesAReusedKey() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let client = try town.login(app)
        let first = try #require(client.call("POST", "/api/v1/applications", json: town.applicationBody(), headers: ["Idempotency-Key: abc-1"]))
        let again = try #require(client.call("POST", "/api/v1/applications", json: town.applicationBody(), headers: ["Idempotency-Key: abc-1"]))
        #expect(first.status == 201)
        #expect(again.status == 201)
        #expect(again.text == first.text)
        #expect(again.header("Idempotent-Replayed") == "true")
        let other = try #require(client.call("POST", "/api/v1/applications", json: town.applicationBody(["givenNames": "Other"]), headers: ["Idempotency-Key: abc-1"]))
        #expect(other.status == 422)
        let count = try app.pool.query("SELECT count(*)::int8 FROM application WHERE authority_id = \(town.authorityID)").first?.decode(Int.self, at: 0)
        #expect(count == 1)
    }

    @Test func hidesOtherAuthorities_asNotFound() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let a = try AuthorityFixture.make(app)
        let b = try AuthorityFixture.make(app)
        let clientA = try a.login(app)
        let clientB = try b.login(app)
        let (_, created) = clientA.json("POST", "/api/v1/applications", json: a.applicationBody())
        let id = try #require(created["id"] as? String)
        #expect(clientB.call("GET", "/api/v1/applications/\(id)")?.status == 404)
        #expect(clientB.call("PATCH", "/api/v1/applications/\(id)", json: ["smsLanguage": "en"])?.status == 404)
        #expect(clientB.call("POST", "/api/v1/applications/\(id)/cancel", json: ["reason": "x"])?.status == 404)
        #expect(clientB.call("GET", "/api/v1/applications/\(id)/letter")?.status == 404)
        let (_, page) = clientB.json("GET", "/api/v1/applications")
        #expect(page["total"] as? Int == 0)
        // B cannot register into A's site either.
        #expect(clientB.json("POST", "/api/v1/applications", json: b.applicationBody(["siteId": a.siteID.uuidString])).0 == 400)
    }

    @Test func searchesByNamePrefixStateAndNumber_withPagination() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let client = try town.login(app)
        var numbers: [String] = []
        for name in ["Müller", "Muster", "Schmidt", "Mu%ller"] {
            let (_, body) = client.json("POST", "/api/v1/applications", json: town.applicationBody(["familyName": name]))
            numbers.append(body["vorgangsnummer"] as? String ?? "")
        }
        // "Müller" does not start with "mu": ü is its own letter.
        #expect(client.json("GET", "/api/v1/applications?name=mu").1["total"] as? Int == 2)
        #expect(client.json("GET", "/api/v1/applications?name=M%C3%BC").1["total"] as? Int == 1)
        #expect(client.json("GET", "/api/v1/applications?name=Mu%25").1["total"] as? Int == 1)
        #expect(client.json("GET", "/api/v1/applications?vorgangsnummer=\(numbers[2])").1["total"] as? Int == 1)
        #expect(client.json("GET", "/api/v1/applications?state=registered&limit=2").1["items"].map { ($0 as? [Any])?.count } == 2)
        #expect(client.json("GET", "/api/v1/applications?state=registered&limit=2&offset=2").1["total"] as? Int == 4)
        #expect(client.json("GET", "/api/v1/applications?state=flying").0 == 400)
        #expect(client.json("GET", "/api/v1/applications?limit=0").0 == 400)
        #expect(client.json("GET", "/api/v1/applications?limit=99999999999999999999").0 == 400)
        #expect(client.json("GET", "/api/v1/applications?createdFrom=2026-13-01").0 == 400)
    }

    @Test func updatesContactData_andCancelsOnce() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let client = try town.login(app)
        let (_, created) = client.json("POST", "/api/v1/applications", json: town.applicationBody())
        let id = try #require(created["id"] as? String)
        let (status, updated) = client.json("PATCH", "/api/v1/applications/\(id)", json: ["mobileNumber": "+43 664 1234567", "smsLanguage": "en"])
        #expect(status == 200)
        #expect(updated["mobileNumber"] as? String == "+436641234567")
        #expect(updated["smsLanguage"] as? String == "en")
        #expect(client.json("POST", "/api/v1/applications/\(id)/cancel", json: ["reason": "Antrag zurückgezogen"]).0 == 200)
        let (again, error) = client.json("POST", "/api/v1/applications/\(id)/cancel", json: ["reason": "again"])
        #expect(again == 409)
        #expect(error["error"] as? String == "illegal_transition")
        #expect(error["state"] as? String == "cancelled")
        #expect(client.json("PATCH", "/api/v1/applications/\(id)", json: ["smsLanguage": "de"]).0 == 409)
    }

    @Test func printsTheLetter_withTheStatusURL() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let client = try town.login(app)
        let (_, created) = client.json("POST", "/api/v1/applications", json: town.applicationBody())
        let (status, letter) = client.json("GET", "/api/v1/applications/\(created["id"] as? String ?? "")/letter")
        #expect(status == 200)
        let number = created["vorgangsnummer"] as? String ?? "?"
        #expect(letter["statusUrl"] as? String == "http://127.0.0.1:8080/status?vn=\(number)")
        #expect((letter["vorgangsnummerDisplay"] as? String)?.contains("-") == true)
        // Written in the applicant's language where the app has it; the number read back grouped.
        #expect(letter["smsLanguage"] as? String == "de")
        // An English-speaking applicant's letter (and its QR code) opens the English status page.
        let (_, english) = client.json("POST", "/api/v1/applications", json: town.applicationBody(["smsLanguage": "en"]))
        let englishLetter = client.json("GET", "/api/v1/applications/\(english["id"] as? String ?? "")/letter").1
        #expect(englishLetter["statusUrl"] as? String == "http://127.0.0.1:8080/status?vn=\(english["vorgangsnummer"] as? String ?? "?")&lang=en")
        #expect(client.json("GET", "/api/v1/applications/\(created["id"] as? String ?? "")").1["mobileNumberDisplay"] as? String == "+49 171 1234567")
    }
}

@Suite("Public status check")
struct StatusTests {
    @Test func answersCoarseState_andTheSameShapeForUnknownAndMalformed() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let client = try town.login(app)
        let (_, created) = client.json("POST", "/api/v1/applications", json: town.applicationBody())
        let number = try #require(created["vorgangsnummer"] as? String)
        let anonymous = StaffClient(port: app.port)
        let known = try #require(anonymous.call("GET", "/api/v1/status/\(number.lowercased())"))
        #expect(known.status == 200)
        #expect(known.text.contains(#""status":"in_production""#))
        #expect(known.text.contains("Bürgerhaus"))
        #expect(!known.text.contains("Yılmaz"))
        #expect(!known.text.contains("1711234567"))
        let unknown = try #require(anonymous.call("GET", "/api/v1/status/K7M4XQ9TR2"))
        let malformed = try #require(anonymous.call("GET", "/api/v1/status/%27%20OR%201%3D1"))
        #expect(unknown.status == 200)
        #expect(unknown.text == #"{"status":"unknown"}"#)
        #expect(malformed.text == unknown.text)
    }

    @Test func rateLimitsPerClientAddress() throws {
        let app = try AppFixture.make { c in c.statusRateLimitPerMinute = 5 }
        defer { app.shutdown() }
        let client = StaffClient(port: app.port)
        for _ in 0..<5 { #expect(client.call("GET", "/api/v1/status/K7M4XQ9TR2")?.status == 200) }
        let limited = try #require(client.call("GET", "/api/v1/status/K7M4XQ9TR2"))
        #expect(limited.status == 429)
        #expect(Int(limited.header("Retry-After") ?? "") ?? 0 >= 1)
    }
}
