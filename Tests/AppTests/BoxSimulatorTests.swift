@testable import App
import Foundation
import HTTPServer
import HTTPTestSupport
import Logging
import Postgres
import Synchronization
import Testing

@Suite("pickupbox box-sim")
struct BoxSimulatorTests {
    @Test func loadsADocument_andRunsAPickupDialogue_endToEnd() throws {
        let (app, town, box, token) = try PickupTests.setUp()
        defer { app.shutdown() }
        let client = try town.login(app)
        let (id, number) = try town.register(client)
        _ = client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "SIM-1", "items": [["documentNumber": documentNumber(401), "vorgangsnummer": number]]])
        _ = box

        let cursorFile = NSTemporaryDirectory() + "box-sim-\(UUID().uuidString).cursor"
        defer { try? FileManager.default.removeItem(atPath: cursorFile) }
        let sim = try Simulator(port: app.port, token: token, cursorFile: cursorFile)
        defer { sim.stop() }
        func waitFor(_ text: String, seconds: Double = 15) -> Bool { sim.waitFor(text, seconds: seconds) }
        func say(_ line: String) { sim.say(line) }
        var transcript: String { sim.transcript }

        try #require(waitFor("box simulator ready"), "\(sim.exitStatus): \(transcript)")
        try #require(waitFor("to_load compartment"), "\(transcript)")
        say("load \(documentNumber(401))")
        #expect(waitFor("closing compartment"))
        #expect(transcript.contains("ready_in_box"))
        let sms = try #require(try SMSFixture.texts(app).first)
        let pin = try #require(sms.range(of: #"[0-9]{6}"#, options: .regularExpression).map { String(sms[$0]) })
        say("pickup")
        say("0171 1234567")
        say(pin)
        say("y")
        say("15.03.1990")
        #expect(waitFor("door closed: collected"), "\(transcript)")
        // A wrong PIN is refused, and the simulator is back at its prompt: the next line is a command again.
        say("pickup")
        say("0171 1234567")
        say("000000")
        #expect(waitFor("refused: HTTP 403"), "\(transcript)")
        say("feed")
        #expect(waitFor("#1 to_load compartment"), "\(transcript)")
        say("quit")
        #expect(client.json("GET", "/api/v1/applications/\(id)").1["state"] as? String == "collected")
        #expect(sim.waitForExit())
        // Poll output never landed inside a question.
        #expect(!transcript.contains("PIN: [poll]") && !transcript.contains("mobile number: [poll]"))

        // Started again, the box continues after the cursor it stored instead of replaying its feed.
        let stored = try String(contentsOfFile: cursorFile, encoding: .utf8)
        #expect(Int(stored) ?? 0 >= 1)
        let again = try Simulator(port: app.port, token: token, cursorFile: cursorFile)
        defer { again.stop() }
        #expect(again.waitFor("continuing the feed after #\(stored)"), "\(again.transcript)")
        again.say("feed")
        again.say("quit")
        #expect(again.waitForExit())
        #expect(!again.transcript.contains("to_load compartment"))
    }
}

@Suite("pickupbox box-sim writes")
struct BoxSimulatorWriteTests {
    /// Every write carries an Idempotency-Key, and a 503 is answered by sending the same request with the
    /// same key again (the first attempt may have been committed) (docs/ARCHITECTURE.md#faults).
    @Test func sendsAnIdempotencyKey_andRetriesA503WithTheSameKey() throws {
        let keys = Mutex<[String]>([])
        let authorizations = Mutex<[String]>([])
        var logger = Logger(label: "stub-box-server")
        logger.logLevel = .critical
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.eventLoops = 1
        configuration.accessLog = false
        let server = HTTPServer(configuration: configuration, router: Router([
            Route(.GET, "/api/v1/box/assignments") { _ in .json(bytes: Array(#"{"cursor":0,"changes":[]}"#.utf8)) },
            Route(.POST, "/api/v1/box/loading") { request in
                let count = keys.withLock { k -> Int in
                    k.append(request.headers["Idempotency-Key"] ?? "")
                    authorizations.withLock { $0.append(request.headers["Authorization"] ?? "") }
                    return k.count
                }
                if count == 1 { return .error(.serviceUnavailable, code: "database_unavailable", message: "later") }
                return .json(bytes: Array(#"{"compartmentNumber":7,"contents":["document"]}"#.utf8))
            },
            Route(.POST, "/api/v1/box/events") { _ in .json(bytes: Array(#"{"state":"ready_in_box"}"#.utf8)) },
        ]), logger: logger)
        try server.start()
        defer { server.shutdown() }
        let cursorFile = NSTemporaryDirectory() + "box-sim-\(UUID().uuidString).cursor"
        defer { try? FileManager.default.removeItem(atPath: cursorFile) }
        // One token in 64 begins with '-' (base64url): it is still the option's value, not an option.
        let token = "-" + String(repeating: "t", count: 42)
        let sim = try Simulator(port: server.port, token: token, cursorFile: cursorFile)
        defer { sim.stop() }
        try #require(sim.waitFor("box simulator ready"), "\(sim.exitStatus): \(sim.transcript)")
        sim.say("load L01X00T47")
        #expect(sim.waitFor("opening compartment 7"), "\(sim.transcript)")
        sim.say("quit")
        let sent = keys.withLock { $0 }
        #expect(sent.count == 2)
        #expect(sent.first?.isEmpty == false)
        #expect(Set(sent).count == 1, "the retry carries the same key")
        #expect(authorizations.withLock { $0 } == ["Bearer \(token)", "Bearer \(token)"])
    }
}

/// `pickupbox box-sim` as a child process with its dialogue on pipes.
final class Simulator {
    let process = Process()
    let input = Pipe()
    private let collected = Transcript()

    init(port: Int, token: String, cursorFile: String) throws {
        process.executableURL = URL(fileURLWithPath: CommandLineTests.executable)
        process.arguments = ["box-sim", "--url", "http://127.0.0.1:\(port)", "--token", token, "--wait", "2", "--cursor-file", cursorFile]
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        // Read on a thread of its own: availableData blocks, and a test must never hang.
        let reader = output.fileHandleForReading
        let collected = self.collected
        Thread.detachNewThread {
            while true {
                let data = reader.availableData
                if data.isEmpty { return }
                collected.append(String(decoding: data, as: UTF8.self))
            }
        }
    }

    var transcript: String { collected.text }
    var exitStatus: String { process.isRunning ? "running" : "exit status \(process.terminationStatus)" }

    func waitFor(_ text: String, seconds: Double = 15) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !transcript.contains(text) && Date() < deadline { usleep(20_000) }
        return transcript.contains(text)
    }

    // write(contentsOf:) throws when the simulator has gone, where write(_:) would trap the test process.
    func say(_ line: String) { try? input.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8)) }

    func waitForExit(seconds: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return !process.isRunning
    }

    func stop() { if process.isRunning { process.terminate() } }
}

final class Transcript: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer = ""
    func append(_ s: String) { lock.lock(); buffer += s; lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return buffer }
}
