#if canImport(Glibc)
import Glibc
#endif
import App
import Foundation
import HTTPTestSupport
import PostgresTestSupport
import Testing

/// What an operator sees of the binary: `version`, `healthcheck`, the log lines and the instance name.
@Suite("pickupbox version, healthcheck, logs")
struct BinaryTests {
    struct Run {
        let status: Int32
        let output: String
    }

    /// Runs the executable in `/` (never the checkout) and returns its exit status and output.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLineTests.executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        process.environment = ["PATH": "/usr/bin:/bin"].merging(environment) { _, new in new }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    static func shell(_ command: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try? process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func temporaryFile(_ name: String) -> String {
        NSTemporaryDirectory() + "pickupbox-\(name)-\(UUID().uuidString.prefix(8)).log"
    }

    /// The log's lines, read after the process wrote them.
    static func lines(of file: String) -> [String] {
        ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test func version_namesTheCommitItWasBuiltFrom_andTheMigrationLevelItExpects() throws {
        let result = try Self.run(["version"])
        #expect(result.status == 0, "\(result.output)")
        // Built from this checkout: a commit of its history (HEAD when nothing was committed since the
        // build), with "-modified" when tracked files had uncommitted changes.
        let commit = try #require(result.output.firstMatch(of: /commit      ([0-9a-f]{40})(-modified)?\n/).map { String($0.1) }, "\(result.output)")
        #expect(Self.shell("git -C '\(packageRoot)' merge-base --is-ancestor \(commit) HEAD && echo ancestor") == "ancestor", "\(commit) is not in this checkout's history")
        let newest = try FileManager.default.contentsOfDirectory(atPath: packageRoot + "/Migrations")
            .filter { $0.hasSuffix(".sql") }.sorted().last.flatMap { Int($0.prefix(4)) }
        let level = try #require(newest)
        #expect(result.output.contains("migrations  \(level) "), "\(result.output)")
        #expect(result.output.contains("shipped     \(level) in "), "\(result.output)")
        #expect(result.output.hasPrefix("pickupbox "))
    }

    @Test func version_fails_whenTheMigrationsBesideItAreNotTheOnesItWasBuiltWith() throws {
        let directory = NSTemporaryDirectory() + "pickupbox-old-migrations-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.copyItem(atPath: packageRoot + "/Migrations/0001_create_authority.sql", toPath: directory + "/0001_create_authority.sql")
        let result = try Self.run(["version", "--migrations", directory])
        #expect(result.status != 0)
        #expect(result.output.contains("shipped     1 in \(directory)"))
        #expect(result.output.contains("not the ones it was built with"))
    }

    @Test func healthcheck_exitsZero_onlyWhileTheServerAnswers200() throws {
        let db = try TestPostgres.makeDatabase()
        let server = try ServerProcess(connectionString: db, environment: [:])
        defer { server.stop() }
        #expect(server.waitUntilReady())
        // As the image runs it: no arguments, the port from the environment.
        let healthy = try Self.run(["healthcheck"], environment: ["PICKUPBOX_PORT": String(server.port)])
        #expect(healthy.status == 0, "\(healthy.output)")
        #expect(try Self.run(["healthcheck", "--url", "http://127.0.0.1:\(server.port)/health"]).status == 0)
        #expect(try Self.run(["healthcheck", "--url", "http://localhost:\(server.port)/ready"]).status == 0)
        // Any other answer than 200 is unhealthy.
        let missing = try Self.run(["healthcheck", "--url", "http://127.0.0.1:\(server.port)/no-such-route"])
        #expect(missing.status == 1)
        #expect(missing.output.contains("answered 404"))
        server.stop()
        let stopped = try Self.run(["healthcheck", "--timeout", "1"], environment: ["PICKUPBOX_PORT": String(server.port)])
        #expect(stopped.status == 1)
        #expect(stopped.output.contains("unhealthy"))
        // Nothing that answers at all within the time-out.
        let silent = try TCPSilentListener()
        let started = Date()
        let hung = try Self.run(["healthcheck", "--timeout", "1", "--url", "http://127.0.0.1:\(silent.port)/health"])
        #expect(hung.status == 1)
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test func jsonLog_isOneObjectPerLine_withTimeLevelMessageInstanceAndTheRequest() throws {
        let db = try TestPostgres.makeDatabase()
        let log = Self.temporaryFile("json")
        defer { try? FileManager.default.removeItem(atPath: log) }
        let server = try ServerProcess(connectionString: db, environment: ["LOG_FORMAT": "json", "ACCESS_LOG": "on", "LOG_LEVEL": "info",
                                                                           "PICKUPBOX_INSTANCE": "replica-a"], logFile: log)
        #expect(server.waitUntilReady())
        let client = try TestClient(port: server.port)
        _ = client.request("GET", "/health", headers: ["X-Request-Id: probe-1"])
        _ = client.request("GET", "/api/v1/applications/5d1e5f2e-0000-4000-8000-000000000000?mobile=01711234567")
        server.stop()
        let lines = Self.lines(of: log)
        #expect(lines.count >= 4)
        var objects: [[String: Any]] = []
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object != nil, "not a JSON object: \(line)")
            if let object { objects.append(object) }
        }
        for object in objects {
            #expect(object["time"] is String && object["level"] is String && object["message"] is String)
            #expect(object["instance"] as? String == "replica-a")
        }
        let health = try #require(objects.first { $0["request.id"] as? String == "probe-1" })
        #expect(health["message"] as? String == "request")
        #expect(health["http.route"] as? String == "/health")
        #expect(health["http.method"] as? String == "GET")
        #expect(health["http.status"] as? Int == 200)
        #expect(health["http.duration_ms"] is Double || health["http.duration_ms"] is Int)
        #expect((health["time"] as? String)?.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression) != nil)
        // The route pattern, never the path or the query.
        #expect(objects.contains { $0["http.route"] as? String == "/api/v1/applications/{id}" && $0["http.status"] as? Int == 401 })
        #expect(!lines.joined().contains("01711234567") && !lines.joined().contains("5d1e5f2e"))
        #expect(objects.contains { $0["message"] as? String == "shutting down" })
    }

    @Test func twoReplicas_areToldApartByInstance_inLogsAndMetrics() throws {
        let db = try TestPostgres.makeDatabase()
        let logs = (Self.temporaryFile("a"), Self.temporaryFile("b"))
        defer { try? FileManager.default.removeItem(atPath: logs.0); try? FileManager.default.removeItem(atPath: logs.1) }
        // As under compose: one environment for both, the instance is the host name unless set.
        let a = try ServerProcess(connectionString: db, environment: ["ACCESS_LOG": "on", "LOG_LEVEL": "info", "PICKUPBOX_INSTANCE": "server-1"], logFile: logs.0)
        let b = try ServerProcess(connectionString: db, environment: ["ACCESS_LOG": "on", "LOG_LEVEL": "info", "PICKUPBOX_INSTANCE": "server-2"], logFile: logs.1)
        defer { a.stop(); b.stop() }
        #expect(a.waitUntilReady() && b.waitUntilReady())
        #expect(a.metrics().contains(#"instance_name="server-1""#))
        #expect(b.metrics().contains(#"instance_name="server-2""#))
        #expect(a.metrics().range(of: #"pickupbox_build_info\{[^}]*commit="[0-9a-f]{40}"#, options: .regularExpression) != nil)
        a.stop()
        b.stop()
        let linesA = Self.lines(of: logs.0), linesB = Self.lines(of: logs.1)
        #expect(!linesA.isEmpty && linesA.allSatisfy { $0.contains("instance=server-1") }, "\(linesA)")
        #expect(!linesB.isEmpty && linesB.allSatisfy { $0.contains("instance=server-2") }, "\(linesB)")
        #expect(linesA.contains { $0.contains("http.route=/ready") && $0.contains("http.status=200") })
        // Unset, the instance is the host name (a container's id: distinct per replica).
        let hostname = Self.shell("hostname")
        let c = try ServerProcess(connectionString: db, environment: [:])
        defer { c.stop() }
        #expect(c.waitUntilReady())
        #expect(c.metrics().contains(#"instance_name="\#(hostname)""#))
    }
}

/// A listener that accepts and never answers (a hung server).
final class TCPSilentListener {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        listen(fd, 8)
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}
