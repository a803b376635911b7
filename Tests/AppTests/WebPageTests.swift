@testable import App
import Domain
import Foundation
import HTTPTestSupport
import Postgres
import Testing

/// The pages and files a browser gets: headers, caching, the server-rendered status page.
@Suite("Web pages and their files")
struct WebPageTests {
    static func get(_ app: Application, _ path: String, headers: [String] = []) throws -> TestClient.Reply {
        try #require(try TestClient(port: app.port).request("GET", path, headers: headers))
    }

    @Test func appShell_hasAStrictPolicy_andLinksTheCurrentVersionOfItsFiles() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let page = try Self.get(app, "/")
        #expect(page.status == 200)
        #expect(page.header("Content-Type") == "text/html; charset=utf-8")
        let csp = try #require(page.header("Content-Security-Policy"))
        for directive in ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"] {
            #expect(csp.contains(directive))
        }
        #expect(!csp.contains("unsafe"))
        #expect(page.header("X-Content-Type-Options") == "nosniff")
        #expect(page.header("Referrer-Policy") == "same-origin")
        #expect(page.text.contains("/assets/\(app.web.version)/app.js"))
        #expect(!page.text.contains("{{v}}"))
        // No inline script and no inline style anywhere in the shipped HTML.
        #expect(!page.text.contains("<script>") && !page.text.contains("style="))
        let etag = try #require(page.header("ETag"))
        #expect(try Self.get(app, "/", headers: ["If-None-Match: \(etag)"]).status == 304)
    }

    @Test func filesOfTheCurrentVersion_areImmutable_othersAreRevalidated_andNothingOutsideIsServed() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let v = app.web.version
        let current = try Self.get(app, "/assets/\(v)/app.js")
        #expect(current.status == 200)
        #expect(current.header("Content-Type") == "text/javascript; charset=utf-8")
        #expect(current.header("Cache-Control") == "public, max-age=31536000, immutable")
        let old = try Self.get(app, "/assets/0123456789ab/app.js")
        #expect(old.status == 200)
        #expect(old.header("Cache-Control") == "no-cache")
        #expect(old.body == current.body)
        let etag = try #require(current.header("ETag"))
        #expect(try Self.get(app, "/assets/\(v)/app.js", headers: ["If-None-Match: \(etag)"]).status == 304)
        #expect(try Self.get(app, "/assets/\(v)/pages/login.js").status == 200)
        for path in ["/assets/\(v)/README.md", "/assets/\(v)/../App/Routes.swift", "/assets/\(v)/%2e%2e/Routes.swift", "/assets/\(v)/nope.js", "/assets/\(v)/pages"] {
            #expect(try Self.get(app, path).status == 404, "\(path)")
        }
        // A browser that takes gzip gets the file coded once at start.
        let coded = try Self.get(app, "/assets/\(v)/app.js", headers: ["Accept-Encoding: gzip, br"])
        #expect(coded.header("Content-Encoding") == "gzip" && coded.header("Vary") == "Accept-Encoding")
        #expect(coded.body.count < current.body.count / 2)
        // The version is a hash of every file: it changes when a file does.
        #expect(v.count == 12 && v.allSatisfy(\.isHexDigit))
    }

    @Test func filesAreFoundNextToTheExecutable_notInTheWorkingDirectory() throws {
        let candidates = WebAssets.defaultCandidates()
        #expect(candidates.contains { $0.hasSuffix("/\(WebAssets.bundleName)/Public") })
        let cwd = FileManager.default.currentDirectoryPath
        #expect(!candidates.contains { $0.hasPrefix(cwd + "/Sources") })
        let assets = try WebAssets.load(override: nil)
        #expect(!assets.live)
        #expect(assets.asset("index.html") != nil)
        // Development: a folder given by PICKUPBOX_WEB_DIR, read live; a folder without index.html is refused at start.
        #expect(throws: AppConfiguration.Invalid.self) { try WebAssets.load(override: NSTemporaryDirectory()) }
    }

    @Test func appShell_andEveryPageModule_stayWellUnderTheWeightBudget() throws {
        let assets = try WebAssets.load(override: nil)
        // The shell, the shared modules and the heaviest page together: far below 200 KB even before compression.
        let shared = ["index.html", "app.css", "app.js", "api.js", "dom.js", "i18n.js", "favicon.svg"].compactMap { assets.asset($0)?.body.count }.reduce(0, +)
        #expect(shared < 80_000)
        for status in ["status.css", "status.js"] { #expect((assets.asset(status)?.body.count ?? 0) < 25_000, "\(status)") }
    }
}

@Suite("The applicant's status page")
struct StatusPageTests {
    static func page(_ app: Application, _ query: String, headers: [String] = []) throws -> TestClient.Reply {
        try WebPageTests.get(app, "/status" + query, headers: headers)
    }

    @Test func readyInTheBox_showsSiteDeadlineHoursAndWhatToBring_withoutAnythingPersonal() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 901)
        let number = try #require(try app.pool.query("SELECT vorgangsnummer FROM application WHERE id = \(UUID(uuidString: doc.applicationID) ?? UUID())").first?.decode(String.self, at: 0))
        let reply = try Self.page(app, "?vn=\(number.lowercased())")
        #expect(reply.status == 200)
        #expect(reply.header("Cache-Control") == "no-store")
        #expect(reply.header("Set-Cookie") == nil)
        #expect(reply.header("Content-Security-Policy")?.contains("frame-ancestors 'none'") == true)
        let html = reply.text
        #expect(html.contains("<html lang=\"de\">"))
        #expect(html.contains("Ihr Dokument liegt in der Abholbox."))
        #expect(html.contains("Bürgerhaus") && html.contains("Markt 1, 44135 Dortmund"))
        #expect(html.contains("Abholen bis"))
        #expect(html.contains("(heute)"))
        #expect(html.contains("rund um die Uhr"))
        #expect(html.contains("PIN-Brief") && html.contains("Geburtsdatum"))
        // Grouped for reading; nothing that names the person.
        let display = String(number.prefix(3)) + "-" + String(number.dropFirst(3).prefix(3)) + "-" + String(number.dropFirst(6).prefix(3)) + "-" + String(number.suffix(1))
        #expect(html.contains(display))
        for personal in ["Yılmaz", "Ayşe", "15.03.1990", "1990-03-15", "1711234567", doc.pin] { #expect(!html.contains(personal), "\(personal)") }
    }

    @Test func aBoxThatRefusesPickups_isNamedOnThePageAndInTheAPI_untilTheBlockEnds() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let doc = try LoadedDocument.make(app, town, box: box, token: token, document: 902)
        let number = try #require(try app.pool.query("SELECT vorgangsnummer FROM application WHERE id = \(UUID(uuidString: doc.applicationID) ?? UUID())").first?.decode(String.self, at: 0))
        #expect(!(try Self.page(app, "?vn=\(number)").text.contains("keine Abholungen")))
        // The box blocked itself after too many failed attempts (as PickupTests provoke it), until 14:30 Berlin time today or later.
        try app.pool.execute("UPDATE box SET pickups_blocked_until = now() + interval '20 minutes' WHERE id = \(box)")
        let html = try Self.page(app, "?vn=\(number)").text
        #expect(html.contains("Ihr Dokument liegt in der Abholbox."))
        #expect(html.contains("Die Abholbox nimmt bis ") && html.contains(" Uhr keine Abholungen an."), "\(html)")
        #expect(try Self.page(app, "?vn=\(number)&lang=en").text.contains("The pickup box accepts no pickups until "))
        let (status, api) = StaffClient(port: app.port).json("GET", "/api/v1/status/\(number)")
        #expect(status == 200)
        #expect(api["pickupsBlockedUntil"] is String)
        // Over: neither says it any more.
        try app.pool.execute("UPDATE box SET pickups_blocked_until = now() - interval '1 second' WHERE id = \(box)")
        #expect(!(try Self.page(app, "?vn=\(number)").text.contains("keine Abholungen")))
        #expect(StaffClient(port: app.port).json("GET", "/api/v1/status/\(number)").1["pickupsBlockedUntil"] == nil)
    }

    @Test func unknownAndMalformedNumbers_getTheSamePage_andTypedTextIsEscaped() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let unknown = try Self.page(app, "?vn=K7M4XQ9TRC").text
        let malformed = try Self.page(app, "?vn=hello").text
        #expect(unknown.contains("Zu dieser Nummer haben wir keine Auskunft."))
        func withoutInput(_ html: String) -> String { html.replacingOccurrences(of: #"value="[^"]*""#, with: "", options: .regularExpression).replacingOccurrences(of: #"vn=[^&"]*"#, with: "", options: .regularExpression) }
        #expect(withoutInput(unknown) == withoutInput(malformed))
        let hostile = try Self.page(app, "?vn=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E").text
        #expect(!hostile.contains("<script>alert"))
        #expect(hostile.contains("&quot;&gt;&lt;script&gt;"))
        // Without a number: the form only; a malformed query string is an empty one, not an error.
        let empty = try Self.page(app, "")
        #expect(empty.status == 200 && empty.text.contains("<label for=\"vn\">Vorgangsnummer</label>") && !empty.text.contains("result-"))
        #expect(try Self.page(app, "?vn=%FF%FE").status == 200)
    }

    @Test func language_comesFromTheQueryOrAcceptLanguage_inGermanEnglishAndLeichteSprache() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let english = try Self.page(app, "?vn=K7M4XQ9TRC", headers: ["Accept-Language: fr;q=1, en-GB;q=0.8, de;q=0.5"]).text
        #expect(english.contains("<html lang=\"en\">") && english.contains("We have no information on this number."))
        let simple = try Self.page(app, "?vn=K7M4XQ9TRC&lang=ls", headers: ["Accept-Language: en"]).text
        #expect(simple.contains("<html lang=\"de\">") && simple.contains("Wir finden diese Nummer nicht."))
        // The switcher keeps the number, and a chosen language stays with the next lookup.
        #expect(simple.contains("href=\"/status?vn=K7M4XQ9TRC&amp;lang=en\""))
        #expect(simple.contains("<input type=\"hidden\" name=\"lang\" value=\"ls\">"))
        #expect(try Self.page(app, "?lang=xx").text.contains("<html lang=\"de\">"))
        #expect(StatusLanguage.pick(query: nil, acceptLanguage: "en;q=0.1, de;q=0.9") == .de)
        #expect(StatusLanguage.pick(query: nil, acceptLanguage: "tr, en;q=0.5") == .en)
        #expect(StatusLanguage.pick(query: nil, acceptLanguage: nil) == .de)
    }

    @Test func tooManyLookups_getAFriendlyPage_with429AndRetryAfter() throws {
        let app = try AppFixture.make { $0.statusRateLimitPerMinute = 2 }
        defer { app.shutdown() }
        #expect(try Self.page(app, "?vn=K7M4XQ9TRC").status == 200)
        #expect(try Self.page(app, "?vn=K7M4XQ9TRC").status == 200)
        let limited = try Self.page(app, "?vn=K7M4XQ9TRC")
        #expect(limited.status == 429)
        #expect(Int(limited.header("Retry-After") ?? "") ?? 0 > 0)
        #expect(limited.header("Content-Type") == "text/html; charset=utf-8")
        #expect(limited.text.contains("Bitte warten Sie einen Moment."))
        // The form alone is not a lookup and is never limited.
        #expect(try Self.page(app, "").status == 200)
    }

    @Test func withoutTheDatabase_theApplicantGetsAPage_notJSON() throws {
        var config = AppFixture.makeConfiguration()
        config.databasePoolTimeout = .milliseconds(500)
        let app = try AppFixture.make(config, connectionString: "host=/nonexistent-pickupbox port=1 dbname=x connect_timeout=1")
        defer { app.shutdown() }
        let reply = try Self.page(app, "?vn=K7M4XQ9TRC&lang=en")
        #expect(reply.status == 503)
        #expect(reply.header("Content-Type") == "text/html; charset=utf-8")
        #expect(reply.header("Retry-After") == "30")
        #expect(reply.text.contains("The status check is not available right now."))
    }

    @Test func everyStateHasItsTextInEveryLanguage() {
        for language in StatusLanguage.allCases {
            let texts = StatusPageTexts.of(language)
            for status in PublicStatus.allCases {
                #expect(!(texts.headline[status] ?? "").isEmpty, "\(language) \(status)")
                #expect(!(texts.body[status] ?? []).isEmpty, "\(language) \(status)")
            }
            #expect(texts.weekdays.count == 7 && texts.months.count == 12)
        }
    }
}
