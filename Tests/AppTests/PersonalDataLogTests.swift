@testable import App
import Foundation
import HTTPServer
import HTTPTestSupport
import Logging
import Postgres
import PostgresTestSupport
import Testing

/// The log of a whole flow — login, register, deliver, load, SMS sent, a wrong PIN, the pickup, the
/// status check — at debug level with the access log on, searched for the applicant's mobile number
/// (as typed and as stored), names, date of birth and PIN: none may appear, in either log format.
@Suite("No personal data in the log")
struct PersonalDataLogTests {
    static let family = "Kowalczyk", given = "Zofia-Marianna", dateOfBirth = "23.07.1987", mobile = "0176 98765432"

    @Test(arguments: LogFormat.allCases)
    func fullFlowLog_namesNoPhoneNameDateOfBirthOrPin(format: LogFormat) throws {
        let file = NSTemporaryDirectory() + "pickupbox-pii-\(format.rawValue)-\(UUID().uuidString.prefix(8)).log"
        #expect(FileManager.default.createFile(atPath: file, contents: nil))
        defer { if ProcessInfo.processInfo.environment["KEEP_PII_LOG"] == nil { try? FileManager.default.removeItem(atPath: file) } }
        let handle = try #require(FileHandle(forWritingAtPath: file))
        let sink = LogSink(fileDescriptor: handle.fileDescriptor)
        let gateway = try RecordingGateway()
        defer { gateway.shutdown() }
        var config = AppFixture.makeConfiguration { c in
            SMSFixture.configure(&c, gateway: gateway)
            c.accessLog = true
            c.logLevel = .debug
            c.logFormat = format
            c.logSink = sink
            c.instance = "pii-test"
        }
        config.logLevel = .debug
        let logger = Logger(label: "pickupbox") { label in
            var handler = SinkLogHandler(label: label, format: format, instance: "pii-test", sink: sink)
            handler.logLevel = .debug
            return handler
        }
        let db = try TestPostgres.makeDatabase()
        try MigrationRunner(directory: config.migrationsDirectory, logger: logger).migrate(connectionString: db)
        let app = try Application(configuration: config, connectionString: db, logger: logger)
        try app.start()
        let town = try AuthorityFixture.make(app)
        try town.openAllWeek(app)
        let box = try town.makeBox(app, rows: 2, columns: 2)
        let token = try town.boxToken(app, box: box)

        let client = try town.login(app)
        #expect(StaffClient(port: app.port).call("POST", "/api/v1/auth/login", json: ["authority": town.slug, "username": "anna", "password": "wrong " + Self.family])?.status == 401)
        let (id, number) = try town.register(client, ["familyName": Self.family, "givenNames": Self.given, "dateOfBirth": Self.dateOfBirth, "mobileNumber": Self.mobile])
        _ = client.call("GET", "/api/v1/applications?q=\(Self.family)")
        _ = client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "PII-1", "items": [["documentNumber": documentNumber(7777), "vorgangsnummer": number]]])
        let (_, instruction, _) = boxPost(app.port, token: token, "/api/v1/box/loading", json: ["documentNumber": documentNumber(7777)])
        let compartment = try #require(instruction["compartmentNumber"] as? Int)
        _ = boxPost(app.port, token: token, "/api/v1/box/events", json: ["eventId": "pii-load", "kind": "loaded", "compartmentNumber": compartment])
        #expect(SMSFixture.wait { gateway.accepted.contains { $0.to == "+4917698765432" } })
        let text = try #require(gateway.accepted.first { $0.to == "+4917698765432" }?.text)
        let pin = try #require(text.firstMatch(of: /PIN: ([0-9]{6})/).map { String($0.1) })
        let wrong = pin == "000000" ? "111111" : "000000"
        #expect(boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": Self.mobile, "pin": wrong]).0 != 201)
        let (started, session, _) = boxPost(app.port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": Self.mobile, "pin": pin])
        #expect(started == 201)
        let pickup = try #require(session["pickupId"] as? String)
        let (opened, _, _) = boxPost(app.port, token: token, "/api/v1/box/pickups/\(pickup)/factors", json: ["pinLetterConfirmed": true, "dateOfBirth": Self.dateOfBirth])
        #expect(opened == 200)
        _ = boxPost(app.port, token: token, "/api/v1/box/events", json: ["eventId": "pii-open", "kind": "opened", "compartmentNumber": compartment])
        _ = boxPost(app.port, token: token, "/api/v1/box/events", json: ["eventId": "pii-close", "kind": "closed", "compartmentNumber": compartment])
        _ = try TestClient(port: app.port).request("GET", "/api/v1/status/\(number)")
        _ = try TestClient(port: app.port).request("GET", "/status?vn=\(number)")
        _ = client.call("GET", "/api/v1/applications/\(id)")
        _ = client.call("GET", "/api/v1/applications/\(id)/letter")
        app.shutdown()
        sink.shutdown()

        let log = try String(contentsOfFile: file, encoding: .utf8)
        // The flow really was logged: requests of every step, and the SMS handed to the gateway.
        #expect(log.components(separatedBy: "\n").count > 20, "\(log)")
        for route in ["/api/v1/applications", "/api/v1/deliveries", "/api/v1/box/loading", "/api/v1/box/pickups/{id}/factors", "/api/v1/status/{vorgangsnummer}"] {
            #expect(log.contains(route), "no access-log line for \(route)")
        }
        let digits = Self.mobile.filter(\.isNumber)
        let forbidden = [Self.family, Self.given, "Zofia", "Marianna", Self.dateOfBirth, "1987-07-23", "23.07.", Self.mobile, digits, String(digits.dropFirst()),
                         "+49" + String(digits.dropFirst()), "98765432", "wrong " + Self.family]
        // "23.07." and not "23.07": a log line's time ("09:20:23.073Z") holds the latter.
        for value in forbidden {
            #expect(!log.contains(value), "the log contains \(value)")
        }
        // The PINs as a number of their own: not inside a longer run of digits (a time), nor inside an id (UUIDs,
        // request ids and hex digests are taken out first); next to a letter ("pin=123456abc") they still count.
        let withoutIDs = log.replacing(/[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}|[0-9a-fA-F]{9,}-[0-9a-fA-F]+|[0-9a-fA-F]{16,}/, with: "#")
        for value in [pin, wrong] {
            #expect(withoutIDs.firstMatch(of: try Regex("(^|[^0-9])\(value)([^0-9]|$)")) == nil, "the log contains the PIN \(value)")
        }
    }
}
