#if canImport(Glibc)
import DecimalParsing
import Glibc
#endif
import ArgumentParser
import Foundation
import Synchronization

/// `pickupbox box-sim`: plays a box controller in the terminal — long-polls for its work, loads
/// documents in service mode, and runs the panel's pickup dialogue (mobile number, PIN, factors).
struct BoxSimulator: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "box-sim",
        abstract: "Play a box controller in the terminal (long poll, loading, the pickup dialogue).",
        discussion: """
            Commands (one per line on standard input):
              load <document number>   service mode: open the named compartment, put the document in, close it
              pickup                   the panel: asks for the mobile number, the PIN and the factors
              feed                     show what the long poll has reported
              quit
            """
    )

    @Option(help: "The server, e.g. http://127.0.0.1:8080") var url: String = "http://127.0.0.1:8080"
    // A token is base64url, so one in 64 begins with '-': it is taken as the value whatever it looks like.
    @Option(parsing: .unconditional, help: "The box's bearer token (from `pickupbox box create` or POST /api/v1/boxes/{id}/token).")
    var token: String
    @Option(help: "Seconds each long poll may wait.") var wait: Int = 25
    @Option(help: "Where the box keeps its feed cursor, as a real box does (default: ~/.local/state/pickupbox/box-sim-<token hash>.cursor).")
    var cursorFile: String?
    @Flag(help: "Read the whole feed from the start instead of the stored cursor.") var fromStart = false

    func validate() throws {
        guard SimpleHTTPClient(url: url, token: token) != nil else { throw ValidationError("--url must look like http://host:port") }
        guard (0...60).contains(wait) else { throw ValidationError("--wait must be from 0 to 60") }
    }

    /// The cursor file: one per token, so two simulated boxes never share a cursor. The token itself
    /// is not in the name (FNV-1a of it is).
    var cursorPath: String {
        if let cursorFile { return cursorFile }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in token.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let home = ProcessInfo.processInfo.environment["HOME"] ?? "."
        let base = ProcessInfo.processInfo.environment["XDG_STATE_HOME"] ?? home + "/.local/state"
        return base + "/pickupbox/box-sim-" + String(hash, radix: 16) + ".cursor"
    }

    func run() throws {
        guard let client = SimpleHTTPClient(url: url, token: token) else { throw ValidationError("bad --url") }
        let feed = Mutex<[String]>([])
        let console = Console()
        let path = cursorPath
        let stored = fromStart ? nil : (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int64(decimal: $0.trimmingCharacters(in: .whitespacesAndNewlines), allowingSign: true) }
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let wait = self.wait
        let poller = Thread {
            var cursor: Int64 = stored ?? 0
            while true {
                guard let (status, body) = client.request("GET", "/api/v1/box/assignments?since=\(cursor)&wait=\(wait)", timeout: Double(wait + 10)) else {
                    sleep(2)
                    continue
                }
                guard status == 200, let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
                    console.feed("[poll] HTTP \(status)")
                    sleep(2)
                    continue
                }
                let next = (object["cursor"] as? NSNumber)?.int64Value ?? cursor
                for change in object["changes"] as? [[String: Any]] ?? [] {
                    let line = "#\(change["seq"] ?? "?") \(change["kind"] ?? "?") compartment \(change["compartmentNumber"] ?? "?")"
                        + ((change["documentNumbers"] as? [String]).map { " documents " + $0.joined(separator: ", ") } ?? "")
                    feed.withLock { $0.append(line) }
                    console.feed("[poll] " + line)
                }
                if next != cursor {
                    cursor = next
                    // Kept only once the changes were shown: a restart continues after what was seen.
                    try? String(cursor).write(toFile: path, atomically: true, encoding: .utf8)
                }
            }
        }
        poller.start()
        say(stored.map { "box simulator ready, continuing the feed after #\($0) (load <document> | pickup | feed | quit)" }
            ?? "box simulator ready (load <document> | pickup | feed | quit)")
        var events = 0
        func event(_ kind: String, _ compartment: Int) -> String? {
            events += 1
            let id = "sim-\(UUID().uuidString.prefix(8))-\(events)"
            let (status, reply) = client.json("POST", "/api/v1/box/events", ["eventId": id, "kind": kind, "compartmentNumber": compartment])
            guard status == 200 else { say("event \(kind): HTTP \(status) \(reply["error"] ?? "")"); return nil }
            return reply["state"] as? String
        }
        /// One question of a dialogue: poll output waits until the answer is in.
        func ask(_ question: String) -> String? {
            console.prompt(question)
            return readLine()
        }
        /// A refused step ends the dialogue: back to the command prompt, and on a terminal the answers
        /// typed ahead for the following questions are dropped instead of being read as commands.
        func refused(_ text: String) {
            say(text)
            if isatty(STDIN_FILENO) == 1 { tcflush(STDIN_FILENO, TCIFLUSH) }
        }
        console.idle()
        while let line = readLine() {
            console.busy()
            defer { console.idle() }
            let words = line.split(separator: " ").map(String.init)
            switch words.first ?? "" {
            case "load":
                guard words.count == 2 else { say("usage: load <document number>"); continue }
                let (status, reply) = client.json("POST", "/api/v1/box/loading", ["documentNumber": words[1]])
                guard status == 200, let number = reply["compartmentNumber"] as? Int else { refused("loading refused: HTTP \(status) \(reply["error"] ?? "")"); continue }
                say("opening compartment \(number); put in: \((reply["contents"] as? [String] ?? []).joined(separator: ", "))")
                say("closing compartment \(number): \(event("loaded", number) ?? "?")")
            case "pickup":
                guard let mobile = ask("mobile number:"), let pin = ask("PIN:") else { break }
                let (status, session) = client.json("POST", "/api/v1/box/pickups", ["mobileNumber": mobile, "pin": pin])
                guard status == 201, let id = session["pickupId"] as? String else {
                    refused("refused: HTTP \(status) \(session["error"] ?? "")")
                    continue
                }
                var factors: [String: Any] = [:]
                for factor in session["factors"] as? [String] ?? [] {
                    switch factor {
                    case "pin_letter":
                        factors["pinLetterConfirmed"] = ask("Did you receive the PIN letter? (y/n):")?.lowercased().hasPrefix("y") == true
                    case "date_of_birth":
                        factors["dateOfBirth"] = ask("date of birth (DD.MM.YYYY):") ?? ""
                    case "can":
                        factors["can"] = ask("CAN of the old card (6 digits):") ?? ""
                    case "old_document_destroyed":
                        factors["oldDocumentInserted"] = ask("Insert the old card into the destruction slot (y when done):")?.lowercased().hasPrefix("y") == true
                    default:
                        say("unknown factor \(factor)")
                    }
                }
                let (opened, open) = client.json("POST", "/api/v1/box/pickups/\(id)/factors", factors)
                guard opened == 200, let numbers = open["compartmentNumbers"] as? [Int] else {
                    refused("refused: HTTP \(opened) \(open["error"] ?? "")")
                    continue
                }
                for number in numbers {
                    say("compartment \(number) opens")
                    _ = event("opened", number)
                    _ = event("document_removed", number)
                    if factors["oldDocumentInserted"] != nil { _ = event("old_document_destroyed", number) }
                    say("door closed: \(event("closed", number) ?? "?")")
                }
            case "feed":
                for line in feed.withLock({ $0 }) { say(line) }
            case "quit":
                return
            case "":
                continue
            default:
                say("commands: load <document> | pickup | feed | quit")
            }
        }
    }
}

/// The terminal, shared by the poller and the dialogue: poll output never lands inside a question.
/// While a command runs, it waits and is shown when the command prompt comes back.
final class Console: Sendable {
    private struct State {
        var busy = true
        var pending: [String] = []
    }

    private let state = Mutex(State())

    /// A line from the poller: at once at the command prompt (which is shown again), else after the command.
    func feed(_ line: String) {
        let shown = state.withLock { s -> Bool in
            if s.busy { s.pending.append(line); return false }
            return true
        }
        if shown {
            say("\r" + line)
            say("> ", terminator: "")
        }
    }

    /// A command runs: poll output waits.
    func busy() { state.withLock { $0.busy = true } }

    /// Back at the command prompt: what the poller said meanwhile, then the prompt.
    func idle() {
        let lines = state.withLock { s -> [String] in
            s.busy = false
            defer { s.pending.removeAll() }
            return s.pending
        }
        for line in lines { say(line) }
        say("> ", terminator: "")
    }

    /// A question inside a command.
    func prompt(_ question: String) {
        say(question, terminator: " ")
    }
}

/// Writes at once: the poller thread and the dialogue share the terminal (or a pipe). Straight to
/// the file descriptor, past stdio: flushing stdio (`fflush(NULL)`) also takes standard input's lock,
/// which the dialogue holds while it waits in `readLine()`, so the poller would hang until the next
/// line was typed.
func say(_ text: String, terminator: String = "\n") {
    try? FileHandle.standardOutput.write(contentsOf: Data((text + terminator).utf8))
}

/// A small blocking HTTP/1.1 client for the simulator (one request per connection, JSON bodies).
struct SimpleHTTPClient: Sendable {
    let host: String
    let port: UInt16
    let token: String

    init?(url: String, token: String) {
        guard url.hasPrefix("http://") else { return nil }
        let rest = url.dropFirst(7).split(separator: "/").first.map(String.init) ?? ""
        let parts = rest.split(separator: ":")
        guard let host = parts.first, parts.count <= 2, let port = UInt16(decimal: parts.count == 2 ? parts[1] : "80", allowingSign: true) else { return nil }
        self.host = host == "localhost" ? "127.0.0.1" : String(host)
        self.port = port
        self.token = token
    }

    /// A write as a box makes it: with an `Idempotency-Key`, sent again with the same key when the answer is
    /// lost or is a 503 (its commit may have gone through), so the box gets the answer of the first attempt.
    func json(_ method: String, _ path: String, _ body: [String: Any], attempts: Int = 3) -> (Int, [String: Any]) {
        let data = (try? JSONSerialization.data(withJSONObject: body)) ?? Data()
        let key = UUID().uuidString.lowercased()
        var result: (Int, [UInt8])?
        for attempt in 1...max(1, attempts) {
            result = request(method, path, body: Array(data), headers: ["Idempotency-Key: \(key)"])
            if let status = result?.0, status != 503 { break }
            if attempt < attempts { Thread.sleep(forTimeInterval: Double(attempt)) }
        }
        guard let (status, reply) = result else { return (0, [:]) }
        return (status, (try? JSONSerialization.jsonObject(with: Data(reply)) as? [String: Any]) ?? [:])
    }

    func request(_ method: String, _ path: String, body: [UInt8]? = nil, headers: [String] = [], timeout: Double = 15) -> (Int, [UInt8])? {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else { return nil }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard connected == 0 else { return nil }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nAuthorization: Bearer \(token)\r\nConnection: close\r\n"
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        for header in headers { head += header + "\r\n" }
        let bytes = Array((head + "\r\n").utf8) + (body ?? [])
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return nil }
            sent += n
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { break }
            response += chunk[0..<n]
        }
        guard let split = (0..<max(0, response.count - 3)).first(where: { response[$0] == 13 && response[$0 + 1] == 10 && response[$0 + 2] == 13 && response[$0 + 3] == 10 }) else { return nil }
        let statusLine = String(decoding: response[0..<split], as: UTF8.self).split(separator: " ")
        guard statusLine.count >= 2, let status = Int(decimal: statusLine[1], allowingSign: true) else { return nil }
        return (status, Array(response[(split + 4)...]))
    }
}
