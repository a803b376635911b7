@testable import App
import Foundation
import HTTPTestSupport
import Postgres
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

        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLineTests.executable)
        process.arguments = ["box-sim", "--url", "http://127.0.0.1:\(app.port)", "--token", token, "--wait", "2"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // Read on a thread of its own: availableData blocks, and a test must never hang.
        let collected = Transcript()
        let reader = output.fileHandleForReading
        Thread.detachNewThread {
            while true {
                let data = reader.availableData
                if data.isEmpty { return }
                collected.append(String(decoding: data, as: UTF8.self))
            }
        }
        var transcript: String { collected.text }
        func waitFor(_ text: String, seconds: Double = 15) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while !transcript.contains(text) && Date() < deadline { usleep(20_000) }
            return transcript.contains(text)
        }
        // write(contentsOf:) throws when the simulator has gone, where write(_:) would trap the test process.
        func say(_ line: String) { try? input.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8)) }

        try #require(waitFor("box simulator ready"), "exit status \(process.isRunning ? "running" : String(process.terminationStatus)): \(transcript)")
        try #require(waitFor("to_load compartment"), "\(transcript)")
        say("load \(documentNumber(401))")
        #expect(waitFor("closing compartment"))
        #expect(transcript.contains("ready_in_box"))
        let sms = try #require(try app.pool.query("SELECT body FROM sms_message").first?.decode(String.self, at: 0))
        let pin = try #require(sms.range(of: #"[0-9]{6}"#, options: .regularExpression).map { String(sms[$0]) })
        say("pickup")
        say("0171 1234567")
        say(pin)
        say("y")
        say("15.03.1990")
        #expect(waitFor("door closed: collected"), "\(transcript)")
        say("quit")
        #expect(client.json("GET", "/api/v1/applications/\(id)").1["state"] as? String == "collected")
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(20_000) }
    }
}

final class Transcript: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer = ""
    func append(_ s: String) { lock.lock(); buffer += s; lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return buffer }
}
