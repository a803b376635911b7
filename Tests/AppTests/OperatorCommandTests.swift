@testable import App
import Crypto
import Foundation
import HTTPTestSupport
import Postgres
import PostgresTestSupport
import Testing

/// The operator commands of the real `pickupbox` executable, against a real database.
@Suite("pickupbox authority/site/user/box create")
struct OperatorCommandTests {
    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static func run(_ arguments: [String], database: String, stdin: String? = nil, environment: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLineTests.executable)
        // From an unrelated directory and without --migrations: the binary finds its migrations itself.
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: NSTemporaryDirectory())
        process.environment = ["DATABASE_URL": database, "PATH": "/usr/bin:/bin", "LOG_LEVEL": "warning"].merging(environment) { $1 }
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test func setsUpAnAuthority_siteUserAndBox_thatWorkOverHTTP() throws {
        let db = try TestPostgres.makeDatabase()
        let authority = try Self.run(["authority", "create", "--slug", "magdeburg", "--name", "Ausländerbehörde Magdeburg"], database: db)
        #expect(authority.status == 0, "\(authority.stderr)")
        let authorityID = try #require(UUID(uuidString: authority.stdout.trimmingCharacters(in: .newlines)))

        let site = try Self.run(["site", "create", "--authority", "magdeburg", "--name", "Bürgerbüro Mitte", "--address", "Breiter Weg 222, 39104 Magdeburg", "--land", "ST"], database: db)
        #expect(site.status == 0, "\(site.stderr)")
        #expect(UUID(uuidString: site.stdout.trimmingCharacters(in: .newlines)) != nil)

        let password = "Elbe-Ufer 2026 ist lang genug"
        let user = try Self.run(["user", "create", "--authority", "magdeburg", "--username", "leitung", "--display-name", "Leitung ABH",
                                 "--role", "supervisor", "--password-stdin"], database: db, stdin: password + "\n")
        #expect(user.status == 0, "\(user.stderr)")
        #expect(!user.stdout.contains(password) && !user.stderr.contains(password))

        let box = try Self.run(["box", "create", "--authority", "magdeburg", "--site", "Bürgerbüro Mitte", "--name", "Box 1"], database: db)
        #expect(box.status == 0, "\(box.stderr)")
        // Standard output is the token, once, alone on its line.
        let lines = box.stdout.split(separator: "\n")
        #expect(lines.count == 1)
        let token = String(lines.first ?? "")
        #expect(token.utf8.count == 43)
        #expect(box.stderr.contains("not shown again"))

        let app = try AppFixture.make(AppFixture.makeConfiguration(), connectionString: db)
        defer { app.shutdown() }
        let stored = try app.pool.query("SELECT token_hash FROM box WHERE authority_id = \(authorityID) AND name = 'Box 1'").first?.decode([UInt8].self, at: 0)
        #expect(stored == Crypto.sha256(Array(token.utf8)))
        // The supervisor logs in over HTTP with the password from standard input and sees the box.
        let client = StaffClient(port: app.port)
        let (status, session) = client.json("POST", "/api/v1/auth/login", json: ["authority": "magdeburg", "username": "leitung", "password": password])
        #expect(status == 200)
        #expect((session["user"] as? [String: Any])?["role"] as? String == "supervisor")
        let boxes = client.list("/api/v1/boxes")
        #expect(boxes.map { $0["name"] as? String } == ["Box 1"])
        #expect(boxes.first?["hasToken"] as? Bool == true)
        #expect(client.call("GET", "/api/v1/boxes")?.text.contains(token) == false)
        // Every command was audited as the system, never with the token or password.
        let audit = try app.pool.query("SELECT action, actor_kind, coalesce(detail::text, '') FROM audit_event WHERE authority_id = \(authorityID) ORDER BY id")
        #expect(try audit.map { try $0.decode(String.self, at: 0) } == ["authority.created", "site.created", "user.created", "box.created", "box.token_issued", "auth.login"])
        #expect(try audit.dropLast().allSatisfy { try $0.decode(String.self, at: 1) == "system" })
        #expect(try audit.allSatisfy { row in let d = try row.decode(String.self, at: 2); return !d.contains(token) && !d.contains(password) })

        // The site can also be named by id.
        let siteID = site.stdout.trimmingCharacters(in: .newlines)
        #expect(try Self.run(["box", "create", "--authority", "magdeburg", "--site", siteID, "--name", "Box 2"], database: db).status == 0)
    }

    @Test func refusesBadOperatorInput_withAClearMessage() throws {
        let db = try TestPostgres.makeDatabase()
        #expect(try Self.run(["authority", "create", "--slug", "halle", "--name", "Stadt Halle"], database: db).status == 0)

        let taken = try Self.run(["authority", "create", "--slug", "halle", "--name", "Noch einmal"], database: db)
        #expect(taken.status != 0)
        #expect(taken.stderr.contains("An authority with this slug exists."))
        let badSlug = try Self.run(["authority", "create", "--slug", "Halle (Saale)", "--name", "x"], database: db)
        #expect(badSlug.status != 0)
        #expect(badSlug.stderr.contains("(slug)"))

        let noAuthority = try Self.run(["site", "create", "--authority", "atlantis", "--name", "x", "--address", "y", "--land", "NW"], database: db)
        #expect(noAuthority.status != 0)
        #expect(noAuthority.stderr.contains("No such authority."))
        let badLand = try Self.run(["site", "create", "--authority", "halle", "--name", "x", "--address", "y", "--land", "XX"], database: db)
        #expect(badLand.status != 0)
        #expect(badLand.stderr.contains("(land)"))

        let noStdinFlag = try Self.run(["user", "create", "--authority", "halle", "--username", "u1", "--display-name", "U", "--role", "caseworker"], database: db, stdin: "long enough password\n")
        #expect(noStdinFlag.status != 0)
        #expect(noStdinFlag.stderr.contains("--password-stdin"))
        let onArgv = try Self.run(["user", "create", "--authority", "halle", "--username", "u1", "--display-name", "U", "--role", "caseworker", "--password", "long enough password"], database: db)
        #expect(onArgv.status != 0)
        let unknownAuthority = try Self.run(["user", "create", "--authority", "atlantis", "--username", "u1", "--display-name", "U", "--role", "caseworker", "--password-stdin"],
                                            database: db, stdin: "long enough password\n")
        #expect(unknownAuthority.status != 0)
        #expect(unknownAuthority.stderr.contains("No such authority."))
        let short = try Self.run(["user", "create", "--authority", "halle", "--username", "u1", "--display-name", "U", "--role", "caseworker", "--password-stdin"],
                                 database: db, stdin: "short\n")
        #expect(short.status != 0)
        #expect(short.stderr.contains("(password)"))
        let empty = try Self.run(["user", "create", "--authority", "halle", "--username", "u1", "--display-name", "U", "--role", "caseworker", "--password-stdin"], database: db)
        #expect(empty.status != 0)
        let badRole = try Self.run(["user", "create", "--authority", "halle", "--username", "u1", "--display-name", "U", "--role", "admin", "--password-stdin"], database: db)
        #expect(badRole.status != 0)
        #expect(badRole.stderr.contains("--role"))

        let noSite = try Self.run(["box", "create", "--authority", "halle", "--site", "Nirgendwo", "--name", "Box"], database: db)
        #expect(noSite.status != 0)
        #expect(noSite.stderr.contains("No such site."))
        #expect(noSite.stdout.isEmpty)

        let app = try AppFixture.make(AppFixture.makeConfiguration(), connectionString: db)
        defer { app.shutdown() }
        #expect(try app.pool.query("SELECT count(*)::int8 FROM app_user").first?.decode(Int.self, at: 0) == 0)
        #expect(try app.pool.query("SELECT count(*)::int8 FROM authority").first?.decode(Int.self, at: 0) == 1)
    }

    @Test func printsHelpForTheOperatorCommands() throws {
        for args in [["authority", "create", "--help"], ["site", "create", "--help"], ["user", "create", "--help"], ["box", "create", "--help"]] {
            let run = try Self.run(args, database: "")
            #expect(run.status == 0, "\(args)")
            #expect(run.stdout.contains("--authority") || run.stdout.contains("--slug"), "\(args)")
        }
    }
}
