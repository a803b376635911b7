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

    /// The port a server started with port 0 bound, from its "serving" log line (text `url=http://127.0.0.1:<port>`
    /// or JSON `"url":"http://127.0.0.1:<port>"`; a notice, so LOG_LEVEL must be notice or lower). Reads `handle`
    /// (a pipe, or the log file it writes) until that line, the end of the process or `seconds`; returns the port
    /// (nil: none) and all it read: the output after it is left in `handle`.
    static func servingPort(of process: Process, reading handle: FileHandle, seconds: Double = 30) -> (port: Int?, output: String) {
        var output = ""
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            // On a pipe availableData blocks until the child writes: poll first, so the deadline holds.
            var descriptor = pollfd(fd: handle.fileDescriptor, events: Int16(POLLIN), revents: 0)
            let data = poll(&descriptor, 1, 20) > 0 ? handle.availableData : Data()
            if data.isEmpty {
                if !process.isRunning { break }
                usleep(20_000)
                continue
            }
            output += String(decoding: data, as: UTF8.self)
            if let range = output.range(of: #"url(=|":")http://127\.0\.0\.1:\d+(?=[ "])"#, options: .regularExpression),
               let port = Int(output[range].split(separator: ":").last ?? "") {
                return (port, output)
            }
        }
        return (nil, output)
    }

    @Test func servesFromAnyDirectory_andStopsGracefullyOnSIGTERM() throws {
        let db = try TestPostgres.makeDatabase()
        // Started in / without --migrations: migrations and web files are found next to the binary.
        let (process, pipe) = try Self.launch(["serve", "--port", "0"], environment: ["DATABASE_URL": db, "ACCESS_LOG": "off", "PATH": "/usr/bin:/bin"], directory: "/")
        // The bound port is in the "serving" log line.
        let handle = pipe.fileHandleForReading
        let (port, output) = Self.servingPort(of: process, reading: handle)
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
