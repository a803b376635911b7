@testable import App
import Crypto
import Foundation
import HTTPTestSupport
import Postgres
import SMSGateway
import Testing

/// Shared pieces of the SMS tests: a configuration that sends to a `RecordingGateway`, bulk outbox
/// rows, and waiting without sleeping longer than needed.
enum SMSFixture {
    static let dlrSecret = "dlr-secret-for-tests"

    /// Dispatcher on, `provider` (default webhook) at `gateway`, fast retries, no caps in the way.
    /// `viaPort`: reach the gateway through another port (a `FaultProxy` in front of it).
    static func configure(_ c: inout AppConfiguration, gateway: RecordingGateway, timeout: Duration = .seconds(2), provider: SMSProviderName = .webhook,
                          viaPort: Int? = nil) {
        let port = { (url: String) in viaPort.map { url.replacingOccurrences(of: ":\(gateway.port)", with: ":\($0)") } ?? url }
        let configuration: GatewayConfiguration = switch provider {
        case .seven: GatewayConfiguration(url: port(gateway.sevenURL), token: gateway.token, sender: "Stadt", connectTimeout: .seconds(1), totalTimeout: timeout)
        case .twilio: GatewayConfiguration(url: port(gateway.twilioBaseURL), token: RecordingGateway.twilioAccount + ":" + gateway.token, sender: "+4915100000000",
                                           connectTimeout: .seconds(1), totalTimeout: timeout)
        default: GatewayConfiguration(url: port(gateway.url), token: gateway.token, connectTimeout: .seconds(1), totalTimeout: timeout)
        }
        c.sms.gateway = SMSEnvironment(provider: provider, configuration: configuration, deliveryReportSecret: Array(dlrSecret.utf8))
        c.sms.dispatcherEnabled = true
        c.sms.retryBaseMilliseconds = 20
        c.sms.retryMaxMilliseconds = 200
        c.sms.claimLeaseSeconds = 10
        c.sms.ratePerSecond = 100_000
        c.sms.hourlyCap = 1_000_000
        c.sms.quietHours = nil
    }

    /// The cipher of the tests' secret key (`AppFixture` and `ServerProcess` both use 32 bytes of 7).
    static let cipher = TextCipher(secret: Array(repeating: 7, count: 32), previous: nil, label: SMSOutbox.cipherLabel)

    /// `count` queued messages of `kind` ("Testnachricht 1" …), sealed as the server seals them and
    /// inserted in one statement; returns their ids.
    @discardableResult
    static func queue(_ pool: PostgresPool, count: Int, authorityID: UUID = UUID(), kind: String = "reminder", applicationID: UUID? = nil) throws -> [UUID] {
        let ids = (0..<count).map { _ in UUID() }
        let sealed = ids.enumerated().map { index, id in
            cipher.seal(Array("Testnachricht \(index + 1)".utf8), context: SMSOutbox.context(authorityID: authorityID, messageID: id))
        }
        try pool.execute("""
            INSERT INTO sms_message (authority_id, id, application_id, to_number, template, language, body_sealed, body_key_id, encoding, segments)
            SELECT \(authorityID)::uuid, i, \(applicationID)::uuid, '+4915112345678', \(kind), 'de', decode(s, 'hex'), \(cipher.current.id), 'gsm7', 1
            FROM unnest(\(ids)::uuid[], \(sealed.map { Crypto.hex($0.sealed) })::text[]) AS t(i, s)
            """)
        try pool.execute("SELECT pg_notify('sms_outbox', '')")
        return ids
    }

    /// The texts of the outbox rows `filter` selects (constant SQL), oldest first, opened with the
    /// application's key — as only the dispatcher does in the server.
    static func texts(_ app: Application, where filter: String = "true") throws -> [String] {
        try app.pool.query("""
            SELECT authority_id, id, body_sealed, body_key_id, body FROM sms_message WHERE \(unsafeSQL: filter) ORDER BY created_at, id
            """).map { row in
            try SMSOutbox.open(sealed: try row.decode([UInt8]?.self, at: 2), keyID: try row.decode(String?.self, at: 3), clear: try row.decode(String?.self, at: 4),
                               cipher: app.smsCipher, authorityID: try row.decode(UUID.self, at: 0), messageID: try row.decode(UUID.self, at: 1))
        }
    }

    static func count(_ pool: PostgresPool, status: String) throws -> Int {
        try pool.query("SELECT count(*)::int8 FROM sms_message WHERE status = \(status)").first?.decode(Int.self, at: 0) ?? 0
    }

    /// Polls `condition` every 20 ms for up to `seconds`.
    static func wait(seconds: Double = 15, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(20_000)
        }
        return try condition()
    }
}

/// `pickupbox serve` as a child process on a database of the test (for "two server processes" and `kill -9`).
/// It binds port 0 and names the port in its "serving" log line: no other socket can take a port picked beforehand.
final class ServerProcess {
    let process = Process()
    /// The file standard output and error go to (nil: none could be created, output discarded).
    private let logPath: String?
    /// The log file made here when the caller gave none, removed with this object.
    private let temporaryLog: String?
    private var boundPort: Int?

    /// - Parameter logFile: where standard output and error go (nil: a temporary file, removed with this object).
    init(connectionString: String, environment: [String: String], logFile: String? = nil) throws {
        let path = logFile ?? "\(NSTemporaryDirectory())pickupbox-server-\(UUID().uuidString.prefix(8)).log"
        let handle = FileManager.default.createFile(atPath: path, contents: nil) ? FileHandle(forWritingAtPath: path) : nil
        logPath = handle == nil ? nil : path
        temporaryLog = logFile == nil ? path : nil
        process.executableURL = URL(fileURLWithPath: CommandLineTests.executable)
        process.arguments = ["serve"]
        var env = ProcessInfo.processInfo.environment
        // As in production: migrations and grants as the owner, the server as the application role.
        env["DATABASE_OWNER_URL"] = connectionString
        env["DATABASE_URL"] = PostgresConnectionString.replacing(["user": AppFixture.applicationRole, "password": AppFixture.applicationRole], in: connectionString)
        env["PICKUPBOX_PORT"] = "0"
        env["PICKUPBOX_MIGRATIONS_DIR"] = packageRoot + "/Migrations"
        env["PICKUPBOX_SECRET_KEY"] = String(repeating: "07", count: 32)
        env["LOG_LEVEL"] = "notice"  // the highest level that still writes the "serving" line, which names the port
        env["ACCESS_LOG"] = "off"
        env["DB_POOL_SIZE"] = "4"
        env["HTTP_WORKER_THREADS"] = "4"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        if let handle {
            process.standardOutput = handle
            process.standardError = handle
        } else {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
    }

    deinit {
        if let temporaryLog { try? FileManager.default.removeItem(atPath: temporaryLog) }
    }

    /// The port the server bound, from its "serving" log line: waits up to 30 s for that line on first use (0: it did not come).
    var port: Int { servingPort(seconds: 30) ?? 0 }

    /// The bound port once the "serving" line is in the log (nil: not within `seconds`, or the process ended without it).
    private func servingPort(seconds: Double) -> Int? {
        if let boundPort { return boundPort }
        guard let logPath, let log = FileHandle(forReadingAtPath: logPath) else { return nil }
        defer { try? log.close() }
        boundPort = CommandLineTests.servingPort(of: process, reading: log, seconds: seconds).port
        return boundPort
    }

    /// Waits until the server names its port (up to `seconds`), then until `/ready` answers 200 (up to `seconds` more).
    func waitUntilReady(seconds: Double = 30) -> Bool {
        guard let port = servingPort(seconds: seconds) else { return false }
        return SMSFixture.wait(seconds: seconds) {
            guard process.isRunning, let client = try? TestClient(port: port, timeout: 1) else { return false }
            client.send("GET /ready HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            return client.readResponse()?.status == 200
        }
    }

    /// `/metrics` text.
    func metrics() -> String {
        guard let client = try? TestClient(port: port, timeout: 2) else { return "" }
        client.send("GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        return client.readResponse()?.text ?? ""
    }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        _ = SMSFixture.wait(seconds: 5) { !process.isRunning }
    }

    func stop() {
        if process.isRunning { process.terminate() }
        _ = SMSFixture.wait(seconds: 15) { !process.isRunning }
        if process.isRunning { kill9() }
    }
}

extension String {
    /// The value of a Prometheus sample without labels, e.g. `sms_sent_total 12`.
    func metric(_ name: String) -> Double? {
        for line in split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1))
        }
        return nil
    }
}
