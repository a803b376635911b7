#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HTTPTestSupport
import PostgresTestSupport
import Testing

/// Runs the real `pickupbox` executable built next to the tests.
@Suite("pickupbox command line")
struct CommandLineTests {
    static var executable: String { packageRoot + "/.build/debug/pickupbox" }

    static func launch(_ arguments: [String], environment: [String: String], directory: String? = nil) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.environment = environment
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        try process.run()
        return (process, pipe)
    }

    @Test func servesFromAnyDirectory_andStopsGracefullyOnSIGTERM() throws {
        let db = try TestPostgres.makeDatabase()
        // Started in / without --migrations: migrations and web files are found next to the binary.
        let (process, pipe) = try Self.launch(["serve", "--port", "0"], environment: ["DATABASE_URL": db, "ACCESS_LOG": "off", "PATH": "/usr/bin:/bin"], directory: "/")
        // The bound port is in the "serving" log line.
        var output = ""
        var port: Int?
        let deadline = Date().addingTimeInterval(30)
        let handle = pipe.fileHandleForReading
        while port == nil && Date() < deadline && process.isRunning {
            let data = handle.availableData
            if data.isEmpty { usleep(20_000); continue }
            output += String(decoding: data, as: UTF8.self)
            if let range = output.range(of: #"url=http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                port = Int(output[range].split(separator: ":").last ?? "")
            }
        }
        let bound = try #require(port, "no serving line in: \(output)")
        let client = try TestClient(port: bound)
        #expect(client.request("GET", "/ready")?.status == 200)
        #expect(try TestClient(port: bound).request("GET", "/")?.text.contains("/app.js") == true)
        kill(process.processIdentifier, SIGTERM)
        let stopDeadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < stopDeadline { usleep(20_000) }
        #expect(!process.isRunning, "still running 10 s after SIGTERM")
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let rest = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        #expect((output + rest).contains("shutting down"))
    }

    @Test func refusesBadConfiguration_listingEveryProblem() throws {
        let (process, pipe) = try Self.launch(["serve"], environment: ["PICKUPBOX_ENV": "production", "PICKUPBOX_PORT": "99999", "PATH": "/usr/bin:/bin"])
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus != 0)
        #expect(output.contains("PICKUPBOX_PORT"))
        #expect(output.contains("DATABASE_URL is required in production"))
        #expect(output.contains("METRICS_TOKEN (or METRICS_TOKEN_FILE) is required in production"))
    }

    @Test func printsHelpForEveryCommand() throws {
        for args in [["--help"], ["serve", "--help"], ["migrate", "--help"], ["env"]] {
            let (process, pipe) = try Self.launch(args, environment: ["PATH": "/usr/bin:/bin"])
            process.waitUntilExit()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(process.terminationStatus == 0, "\(args)")
            #expect(!output.isEmpty)
        }
    }
}
