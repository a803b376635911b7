import Foundation
import HTTPServer
import Logging

/// All configuration, read from the environment (and flags) in one place and validated at start:
/// every problem is listed in one message. Secrets come from the environment or from files
/// (`NAME_FILE`), never from defaults in production.
public struct AppConfiguration: Sendable {
    public enum Environment: String, Sendable { case development, production }

    public var environment: Environment = .development
    public var host = "127.0.0.1"
    public var port = 8080
    /// libpq connection string or URL; nil → embedded PostgreSQL under `dataDirectory/postgres`.
    public var databaseURL: String?
    /// Where local state lives (embedded cluster): `.pickupbox` in the working directory.
    public var dataDirectory = ".pickupbox"
    public var migrationsDirectory = "Migrations"
    /// The browser frontend's files, read from disk on every request (development); nil → the files
    /// shipped next to the executable, served from memory.
    public var webDirectory: String?
    public var databasePoolSize = 16
    public var databasePoolTimeout: Duration = .seconds(5)
    public var eventLoops = max(1, ProcessInfo.processInfo.activeProcessorCount)
    public var workerThreads = 32
    public var maxConnections = 10_000
    /// Open connections per client address (IPv6: per /64); `TRUSTED_PROXIES` have none. 0: no limit.
    public var maxConnectionsPerAddress = 512
    public var maxBodyBytes = 1 << 20
    /// A whole request body must arrive within this, however steadily it trickles.
    public var bodyTimeout: Duration = .seconds(60)
    public var logLevel: Logger.Level = .info
    public var accessLog = true
    /// When set, `/metrics` needs `Authorization: Bearer <token>`.
    public var metricsToken: String?
    /// Key for keyed hashes (old card's CAN, PINs). Production: from the environment or a file only.
    /// Development: generated once and kept in `<data dir>/secret-key`.
    public var secretKey: [UInt8]?
    /// Where applicants reach the public status page (printed as QR code in the letter).
    public var publicBaseURL = "http://127.0.0.1:8080"
    /// Session cookie with `Secure` (behind TLS); default on in production.
    public var cookieSecure = false
    /// Public status checks per client address and minute (then 429).
    public var statusRateLimitPerMinute = 60
    /// Failed logins per account within 15 minutes before the account is blocked for 15 minutes.
    public var loginFailuresPerAccount = 5
    /// Failed logins per client address within 15 minutes before the address is blocked.
    public var loginFailuresPerAddress = 20
    /// Pickup brute-force limits (issue #4 §5).
    public var pickupLimits = PickupLimits()
    /// How often each process checks for passed pickup deadlines (`DEADLINE_CHECK_SECONDS`).
    public var deadlineCheckSeconds: TimeInterval = 60
    /// Reverse proxies whose X-Forwarded-For names the client (`TRUSTED_PROXIES`, CIDR list).
    public var trustedProxies = TrustedProxies.none
    /// The SMS gateway and dispatcher (`SMS_*`).
    public var sms = SMSSettings()

    public init() {}

    /// A configuration problem, listed together with all others.
    public struct Invalid: Error, CustomStringConvertible {
        public let problems: [String]

        public init(problems: [String]) {
            self.problems = problems
        }

        public var description: String {
            "invalid configuration:\n" + problems.map { "  - " + $0 }.joined(separator: "\n")
        }
    }

    /// The documented variables (README "Configuration" lists the same).
    public static let variables: [(name: String, meaning: String)] = [
        ("PICKUPBOX_ENV", "development (default) or production"),
        ("PICKUPBOX_HOST", "listen address, default 127.0.0.1 (`--host`)"),
        ("PICKUPBOX_PORT", "listen port, default 8080 (`--port`)"),
        ("DATABASE_URL / DATABASE_URL_FILE", "PostgreSQL connection (URL or libpq string); unset → embedded cluster (development only)"),
        ("PICKUPBOX_DATA_DIR", "local state directory, default .pickupbox"),
        ("PICKUPBOX_MIGRATIONS_DIR", "SQL migrations; default: Migrations/ next to the binary, in ../share/pickupbox/, or in the checkout it was built in"),
        ("PICKUPBOX_WEB_DIR", "development: serve the web frontend from this directory, re-read on every request; default: the files shipped with the binary"),
        ("DB_POOL_SIZE", "database connections per process, default 16"),
        ("DB_POOL_TIMEOUT_MS", "wait for a free connection before 503, default 5000"),
        ("HTTP_EVENT_LOOPS", "event loop threads, default: number of cores"),
        ("HTTP_WORKER_THREADS", "handler threads, default 32"),
        ("HTTP_MAX_CONNECTIONS", "open connections at most, default 10000"),
        ("HTTP_MAX_CONNECTIONS_PER_ADDRESS", "open connections per client address (IPv6: per /64) at most, TRUSTED_PROXIES exempt; 0 = no limit; default 512"),
        ("HTTP_MAX_BODY_BYTES", "default request body limit, default 1048576"),
        ("HTTP_BODY_TIMEOUT_SECONDS", "a whole request body must arrive within this many seconds, default 60"),
        ("LOG_LEVEL", "trace, debug, info (default), notice, warning, error, critical"),
        ("ACCESS_LOG", "on (default) or off"),
        ("METRICS_TOKEN / METRICS_TOKEN_FILE", "bearer token that /metrics requires; unset → open (bind to loopback)"),
        ("PICKUPBOX_SECRET_KEY / PICKUPBOX_SECRET_KEY_FILE", "≥ 32 bytes, hex or base64, for keyed hashes of CANs and PINs; required in production"),
        ("PICKUPBOX_PUBLIC_URL", "base URL of the public status page, default http://127.0.0.1:8080"),
        ("COOKIE_SECURE", "on/off: session cookie only over HTTPS; default on in production"),
        ("STATUS_RATE_LIMIT", "public status checks per client address and minute, default 60"),
        ("LOGIN_FAILURES_PER_ACCOUNT", "failed logins before an account is blocked for 15 minutes, default 5"),
        ("LOGIN_FAILURES_PER_ADDRESS", "failed logins before a client address is blocked for 15 minutes, default 20"),
        ("PICKUP_FAILURES_PER_ASSIGNMENT", "failed pickup attempts that lock an assignment, default 5"),
        ("PICKUP_FAILURES_PER_BOX / PICKUP_BOX_WINDOW_MINUTES / PICKUP_BOX_BLOCK_MINUTES", "more failures than this at one box within the window block its pickups for the block time; defaults 10 / 10 / 15"),
        ("DEADLINE_CHECK_SECONDS", "how often passed pickup deadlines are moved to retrieval, default 60"),
        ("TRUSTED_PROXIES", "comma-separated addresses/CIDRs of reverse proxies whose X-Forwarded-For is believed; default none"),
    ] + SMSSettings.variables

    /// Reads `environment` (normally `ProcessInfo.processInfo.environment`).
    public static func load(from env: [String: String]) throws -> AppConfiguration {
        var c = AppConfiguration()
        var problems: [String] = []

        func string(_ name: String) -> String? {
            guard let v = env[name]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
            return v
        }
        func secret(_ name: String) -> String? {
            if let v = string(name) { return v }
            guard let path = string(name + "_FILE") else { return nil }
            guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else {
                problems.append("\(name)_FILE: cannot read \(path)")
                return nil
            }
            return contents.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func integer(_ name: String, _ range: ClosedRange<Int>) -> Int? {
            guard let raw = string(name) else { return nil }
            guard let v = Int(raw), range.contains(v) else {
                problems.append("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound) (got \(raw.count > 20 ? "a long value" : "'\(raw)'"))")
                return nil
            }
            return v
        }

        if let e = string("PICKUPBOX_ENV") {
            if let parsed = Environment(rawValue: e) { c.environment = parsed } else { problems.append("PICKUPBOX_ENV must be development or production") }
        }
        if let h = string("PICKUPBOX_HOST") { c.host = h }
        if let p = integer("PICKUPBOX_PORT", 0...65535) { c.port = p }
        c.databaseURL = secret("DATABASE_URL")
        if let d = string("PICKUPBOX_DATA_DIR") { c.dataDirectory = d }
        if let m = string("PICKUPBOX_MIGRATIONS_DIR") {
            c.migrationsDirectory = m
        } else if let shipped = ShippedFiles.locateMigrations() {
            // Next to the executable: the binary works from any working directory.
            c.migrationsDirectory = shipped
        }
        if let w = string("PICKUPBOX_WEB_DIR") { c.webDirectory = w }
        if let n = integer("DB_POOL_SIZE", 1...500) { c.databasePoolSize = n }
        if let n = integer("DB_POOL_TIMEOUT_MS", 1...120_000) { c.databasePoolTimeout = .milliseconds(n) }
        if let n = integer("HTTP_EVENT_LOOPS", 1...256) { c.eventLoops = n }
        if let n = integer("HTTP_WORKER_THREADS", 1...1024) { c.workerThreads = n }
        if let n = integer("HTTP_MAX_CONNECTIONS", 1...1_000_000) { c.maxConnections = n }
        if let n = integer("HTTP_MAX_CONNECTIONS_PER_ADDRESS", 0...1_000_000) { c.maxConnectionsPerAddress = n }
        if let n = integer("HTTP_MAX_BODY_BYTES", 1...(256 << 20)) { c.maxBodyBytes = n }
        if let n = integer("HTTP_BODY_TIMEOUT_SECONDS", 1...3600) { c.bodyTimeout = .seconds(n) }
        if let l = string("LOG_LEVEL") {
            if let level = Logger.Level(rawValue: l.lowercased()) { c.logLevel = level } else { problems.append("LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical") }
        }
        if let a = string("ACCESS_LOG") {
            switch a.lowercased() {
            case "on", "true", "1": c.accessLog = true
            case "off", "false", "0": c.accessLog = false
            default: problems.append("ACCESS_LOG must be on or off")
            }
        }
        c.metricsToken = secret("METRICS_TOKEN")
        if let key = secret("PICKUPBOX_SECRET_KEY") {
            if let bytes = decodeKey(key), bytes.count >= 32 { c.secretKey = bytes } else {
                problems.append("PICKUPBOX_SECRET_KEY must be at least 32 bytes, given as hex or base64")
            }
        }
        if let url = string("PICKUPBOX_PUBLIC_URL") {
            if url.hasPrefix("https://") || url.hasPrefix("http://") { c.publicBaseURL = url.hasSuffix("/") ? String(url.dropLast()) : url } else {
                problems.append("PICKUPBOX_PUBLIC_URL must start with https:// or http://")
            }
        }
        c.cookieSecure = c.environment == .production
        if let s = string("COOKIE_SECURE") {
            switch s.lowercased() {
            case "on", "true", "1": c.cookieSecure = true
            case "off", "false", "0": c.cookieSecure = false
            default: problems.append("COOKIE_SECURE must be on or off")
            }
        }
        if let n = integer("STATUS_RATE_LIMIT", 1...1_000_000_000) { c.statusRateLimitPerMinute = n }
        if let n = integer("LOGIN_FAILURES_PER_ACCOUNT", 1...1000) { c.loginFailuresPerAccount = n }
        if let n = integer("LOGIN_FAILURES_PER_ADDRESS", 1...100_000) { c.loginFailuresPerAddress = n }
        if let n = integer("DEADLINE_CHECK_SECONDS", 1...3600) { c.deadlineCheckSeconds = TimeInterval(n) }
        if let n = integer("PICKUP_FAILURES_PER_ASSIGNMENT", 1...100) { c.pickupLimits.perAssignment = n }
        if let n = integer("PICKUP_FAILURES_PER_BOX", 1...100_000) { c.pickupLimits.perBox = n }
        if let n = integer("PICKUP_BOX_WINDOW_MINUTES", 1...1440) { c.pickupLimits.boxWindowMinutes = n }
        if let n = integer("PICKUP_BOX_BLOCK_MINUTES", 1...1440) { c.pickupLimits.boxBlockMinutes = n }
        if let t = string("TRUSTED_PROXIES") {
            if let parsed = TrustedProxies.parse(t) { c.trustedProxies = parsed } else {
                problems.append("TRUSTED_PROXIES must be a comma-separated list of IP addresses or CIDR networks")
            }
        }
        let (sms, smsProblems) = SMSSettings.load(env, integer: integer)
        c.sms = sms
        problems += smsProblems
        problems += c.problems()
        if !problems.isEmpty { throw Invalid(problems: problems) }
        return c
    }

    /// Checks that hold however the values were set (flags override the environment).
    public func problems() -> [String] {
        var problems: [String] = []
        if environment == .production && secretKey == nil {
            problems.append("PICKUPBOX_SECRET_KEY (or PICKUPBOX_SECRET_KEY_FILE) is required in production")
        }
        if environment == .production && databaseURL == nil {
            problems.append("DATABASE_URL is required in production (the embedded PostgreSQL is for development and tests)")
        }
        if host.isEmpty { problems.append("the listen host must not be empty") }
        problems += sms.problems()
        if environment == .production && sms.gateway.provider == .console {
            problems.append("SMS_PROVIDER=console writes numbers and PINs to the log; choose webhook, seven or twilio in production")
        }
        if !(0...65535).contains(port) { problems.append("the port must be from 0 to 65535") }
        if databasePoolSize > workerThreads {
            problems.append("DB_POOL_SIZE (\(databasePoolSize)) should not exceed HTTP_WORKER_THREADS (\(workerThreads)): the extra connections would never be used")
        }
        return problems
    }

    /// Hex (64+ digits) or base64.
    static func decodeKey(_ text: String) -> [UInt8]? {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.count % 2 == 0, t.allSatisfy(\.isHexDigit) {
            var bytes: [UInt8] = []
            var i = t.startIndex
            while i < t.endIndex {
                let j = t.index(i, offsetBy: 2)
                guard let b = UInt8(t[i..<j], radix: 16) else { return nil }
                bytes.append(b)
                i = j
            }
            return bytes
        }
        return Data(base64Encoded: t).map { Array($0) }
    }

    /// The development key: generated once under the data directory (never used in production).
    public func developmentSecretKey() throws -> [UInt8] {
        let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent("secret-key").path
        if let existing = try? String(contentsOfFile: path, encoding: .utf8), let key = Self.decodeKey(existing), key.count >= 32 {
            return key
        }
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let key = Crypto.randomBytes(32)
        _ = FileManager.default.createFile(atPath: path, contents: Data(Crypto.hex(key).utf8), attributes: [.posixPermissions: 0o600])
        return key
    }

    var serverConfiguration: ServerConfiguration {
        var s = ServerConfiguration()
        s.host = host
        s.port = port
        s.eventLoops = eventLoops
        s.workerThreads = workerThreads
        s.maxConnections = maxConnections
        s.maxBodyBytes = maxBodyBytes
        s.bodyTimeout = bodyTimeout
        s.maxConnectionsPerAddress = maxConnectionsPerAddress
        let proxies = trustedProxies
        if !proxies.networks.isEmpty {
            s.isExemptFromAddressLimit = { (address: String) -> Bool in proxies.contains(address) }
        }
        s.accessLog = accessLog
        return s
    }
}

/// Limits against guessing PINs, dates of birth and CANs at the box.
public struct PickupLimits: Sendable {
    /// Failed attempts (any factor) that lock an assignment.
    public var perAssignment = 5
    /// More failed attempts than this at one box within `boxWindowMinutes` block it for `boxBlockMinutes`.
    public var perBox = 10
    public var boxWindowMinutes = 10
    public var boxBlockMinutes = 15

    public init() {}
}
