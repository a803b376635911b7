#if canImport(Glibc)
import EmbeddedPostgres
import Glibc
#endif
import Foundation
import HTTPTestSupport
import Logging
import Postgres
import PostgresTestSupport
import Synchronization
import Testing

/// The package root, from this file's path.
let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// The fault suite runs real `pickupbox` processes for several minutes: `make test` runs it with
/// `PICKUPBOX_FAULTS=1`; a plain `swift test` lists it as skipped.
enum FaultSuite {
    static let enabled = ProcessInfo.processInfo.environment["PICKUPBOX_FAULTS"] == "1"
    static let executable = packageRoot + "/.build/debug/pickupbox"
    /// What a client must never wait while others flood the server; the latency goals themselves are
    /// figures the scenarios print, not assertions a busy machine could make fail.
    static let starvationBound = 1.0

    /// One line of figures per scenario, for the log of `make test`.
    static func report(_ scenario: String, _ figures: [(String, Any)]) {
        let text = figures.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
        print("[fault] \(scenario): \(text)")
    }

    static var logger: Logger {
        var logger = Logger(label: "fault")
        logger.logLevel = .warning
        return logger
    }

    /// A PostgreSQL cluster of the fault suite's own (restarted and killed here, so never the shared one).
    /// Durable settings: a crash of PostgreSQL must not lose acknowledged commits.
    static func cluster(_ name: String) throws -> EmbeddedPostgres {
        let embedded = EmbeddedPostgres(directory: TestPostgres.scratchDirectory("fault-" + name), logger: logger)
        try embedded.start()
        return embedded
    }

    /// A fresh database on `cluster`, migrated and seeded with the demo (logins and box token).
    static func demoDatabase(on cluster: EmbeddedPostgres) throws -> (connectionString: String, demo: Demo) {
        let name = "fault_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        try cluster.createDatabase(String(name))
        let connectionString = cluster.connectionString(database: String(name))
        return (connectionString, try Demo.seed(connectionString: connectionString))
    }
}

/// Waits for `condition`, polling every 20 ms.
func eventually(seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(20_000)
    }
    return try condition()
}

/// Seconds since an arbitrary start (monotonic).
func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// The demo of `pickupbox seed-demo`: authority `demo`, its logins and the box token.
struct Demo {
    let supervisorPassword: String
    let caseworkerPassword: String
    let boxToken: String

    static func seed(connectionString: String) throws -> Demo {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: FaultSuite.executable)
        process.arguments = ["seed-demo"]
        process.environment = Pickupbox.baseEnvironment(connectionString: connectionString)
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("seed-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        _ = eventually(seconds: 60) { !process.isRunning }
        try handle.close()
        let text = try String(contentsOf: output, encoding: .utf8)
        try? FileManager.default.removeItem(at: output)
        func find(_ pattern: String) throws -> String {
            let regex = try NSRegularExpression(pattern: pattern)
            guard let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
                  let range = Range(match.range(at: 1), in: text) else { throw FaultError("seed-demo printed no \(pattern): \(text)") }
            return String(text[range])
        }
        return Demo(supervisorPassword: try find(#"username chef\s+password (\S+)"#),
                    caseworkerPassword: try find(#"username sachbearbeitung\s+password (\S+)"#),
                    boxToken: try find(#"box "[^"]*"\s+box token (\S+)"#))
    }
}

struct FaultError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `pickupbox serve` as a child process on a fixed port; its output goes to a log file.
final class Pickupbox: @unchecked Sendable {
    // @unchecked: `process` is replaced only by `start()`, from the test's thread.
    let port: Int
    let environment: [String: String]
    let arguments: [String]
    let logPath: String
    private(set) var process = Process()

    static func baseEnvironment(connectionString: String?) -> [String: String] {
        var env: [String: String] = [
            "PATH": "/usr/bin:/bin", "PICKUPBOX_SECRET_KEY": String(repeating: "07", count: 32), "LOG_LEVEL": "warning",
            "ACCESS_LOG": "off", "PICKUPBOX_MIGRATIONS_DIR": packageRoot + "/Migrations", "STATUS_RATE_LIMIT": "100000000",
            "SMS_DISPATCHER": "off",
        ]
        if let connectionString { env["DATABASE_URL"] = connectionString }
        return env
    }

    init(connectionString: String?, environment extra: [String: String] = [:], arguments: [String] = ["serve"]) {
        port = LoopbackPort.unused()
        var env = Self.baseEnvironment(connectionString: connectionString)
        env["PICKUPBOX_PORT"] = String(port)
        for (k, v) in extra { env[k] = v }
        environment = env
        self.arguments = arguments
        logPath = FileManager.default.temporaryDirectory.appendingPathComponent("pickupbox-fault-\(UUID().uuidString.prefix(8)).log").path
    }

    /// Starts the process and waits until `/ready` answers 200.
    func start(readyWithin seconds: Double = 60) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: FaultSuite.executable)
        process.arguments = arguments
        process.environment = environment
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        guard eventually(seconds: seconds, { ready() }) else { throw FaultError("pickupbox not ready within \(seconds) s; log: \(logTail())") }
    }

    func ready() -> Bool {
        guard isRunning, let client = try? TestClient(port: port, timeout: 1) else { return false }
        client.send("GET /ready HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        return client.readResponse()?.status == 200
    }

    var pid: pid_t { process.processIdentifier }

    /// Alive and not a zombie (Foundation does not always reap a killed child).
    var isRunning: Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        return !stat.contains(") Z ")
    }

    /// Resident memory in MiB.
    var rssMiB: Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kb / 1024
    }

    func kill9() {
        kill(pid, SIGKILL)
        reap()
    }

    /// SIGTERM; returns the exit status (nil when it did not stop within 20 s, then it is killed).
    @discardableResult
    func stop() -> Int32? {
        guard isRunning else { return nil }
        kill(pid, SIGTERM)
        let status = reap()
        if status == nil { kill9() }
        return status
    }

    @discardableResult
    private func reap() -> Int32? {
        var result: Int32?
        _ = eventually(seconds: 20) {
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { result = WaitStatus.exitCode(status) }
            if reaped < 0 && !isRunning { result = result ?? -1 }
            return result != nil
        }
        return result
    }

    func logTail(_ lines: Int = 15) -> String {
        ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}

/// An HTTP exchange of the load clients: status (0: no answer), body, seconds it took.
struct Exchange {
    var status: Int
    var body: [UInt8]
    var seconds: Double
    var headers: [(String, String)] = []
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// One request on a new connection (the load clients do not depend on keep-alive surviving a fault).
func exchange(_ port: Int, _ method: String, _ path: String, headers: [String] = [], body: String? = nil, timeout: Double = 10, from: String? = nil) -> Exchange {
    let started = now()
    guard let client = try? TestClient(port: port, timeout: timeout, source: from) else { return Exchange(status: 0, body: [], seconds: now() - started) }
    var all = headers + ["Connection: close"]
    if body != nil { all.append("Content-Type: application/json") }
    guard let reply = client.request(method, path, headers: all, body: body) else { return Exchange(status: 0, body: [], seconds: now() - started) }
    return Exchange(status: reply.status, body: reply.body, seconds: now() - started, headers: reply.headers)
}

func jsonText(_ object: [String: Any]) -> String {
    String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
}

/// A staff login: the cookie and CSRF token for writes.
struct Staff {
    let port: Int
    let cookie: String
    let csrf: String

    static func login(port: Int, username: String, password: String) throws -> Staff {
        let reply = exchange(port, "POST", "/api/v1/auth/login", body: jsonText(["authority": "demo", "username": username, "password": password]))
        guard reply.status == 200, let setCookie = reply.headers.first(where: { $0.0.lowercased() == "set-cookie" })?.1,
              let pair = setCookie.split(separator: ";").first, let csrf = reply.json["csrfToken"] as? String else {
            throw FaultError("login failed: \(reply.status) \(reply.text)")
        }
        return Staff(port: port, cookie: String(pair), csrf: csrf)
    }

    func call(_ method: String, _ path: String, json: [String: Any]? = nil, headers: [String] = [], port: Int? = nil, timeout: Double = 10) -> Exchange {
        var all = headers + ["Cookie: \(cookie)"]
        if method != "GET" { all.append("X-CSRF-Token: \(csrf)") }
        return exchange(port ?? self.port, method, path, headers: all, body: json.map(jsonText), timeout: timeout)
    }

    /// The first site of the authority (the demo's "Bürgeramt Mitte").
    func siteID() throws -> String {
        let reply = call("GET", "/api/v1/sites")
        guard let sites = (try? JSONSerialization.jsonObject(with: Data(reply.body))) as? [[String: Any]], let id = sites.first?["id"] as? String else {
            throw FaultError("no site: \(reply.status) \(reply.text)")
        }
        return id
    }

    static func application(site: String, _ n: Int, method: String = "box") -> [String: Any] {
        ["siteId": site, "documentType": "eat", "issuance": "first", "familyName": "Fault\(n)", "givenNames": "Test",
         "dateOfBirth": "15.03.1990", "mobileNumber": "0171 \(String(format: "%07d", 1_000_000 + n % 8_999_999))", "pickupMethod": method, "feeSettled": true]
    }
}

/// Counts answers by status and keeps their durations (thread-safe).
final class Tally: Sendable {
    private let state = Mutex((statuses: [Int: Int](), seconds: [Double](), bodies500: [String]()))

    func record(_ exchange: Exchange) {
        state.withLock { s in
            s.statuses[exchange.status, default: 0] += 1
            s.seconds.append(exchange.seconds)
            if exchange.status >= 500 && exchange.status != 503 && s.bodies500.count < 5 { s.bodies500.append(exchange.text) }
        }
    }

    var statuses: [Int: Int] { state.withLock { $0.statuses } }
    var count: Int { state.withLock { $0.seconds.count } }
    var examplesOf500: [String] { state.withLock { $0.bodies500 } }
    var maxSeconds: Double { state.withLock { $0.seconds.max() ?? 0 } }

    func percentile(_ p: Double) -> Double {
        let sorted = state.withLock { $0.seconds }.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
    }

    func count(_ status: Int) -> Int { statuses[status] ?? 0 }
    func count(where predicate: (Int) -> Bool) -> Int { statuses.filter { predicate($0.key) }.map(\.value).reduce(0, +) }
}

/// Threads that run `body(index)` until `stop` is set; `join` waits for them.
final class Workers: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let running = Atomic<Int>(0)

    func start(_ count: Int, _ body: @escaping @Sendable (_ index: Int, _ workers: Workers) -> Void) {
        for i in 0..<count {
            running.wrappingAdd(1, ordering: .relaxed)
            Thread.detachNewThread { [self] in
                body(i, self)
                running.wrappingSubtract(1, ordering: .relaxed)
            }
        }
    }

    var isStopped: Bool { stopped.load(ordering: .relaxed) }

    func stop() { stopped.store(true, ordering: .relaxed) }

    func join(seconds: Double = 60) -> Bool {
        eventually(seconds: seconds) { running.load(ordering: .relaxed) == 0 }
    }
}

extension PostgresPool {
    static func forTest(_ connectionString: String) -> PostgresPool {
        PostgresPool(configuration: PostgresConfiguration(connectionString: connectionString, poolSize: 2), logger: FaultSuite.logger)
    }

    func count(_ query: PostgresQuery) throws -> Int {
        try self.query(query).first?.decode(Int.self, at: 0) ?? -1
    }
}

/// A document number of the Bundesdruckerei's alphabet (nine characters, no check digit).
func documentNumber(_ n: Int) -> String { "F" + String(format: "%08d", n % 100_000_000) }
