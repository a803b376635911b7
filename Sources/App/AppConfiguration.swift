import Crypto
import DecimalParsing
import Domain
import Foundation
import HTTPServer
import Logging
import SMSGateway

/// All configuration, read from the environment (and flags) in one place and validated at start:
/// every problem is listed in one message. Secrets come from the environment or from files
/// (`NAME_FILE`), never from defaults in production.
public struct AppConfiguration: Sendable {
    public enum Environment: String, Sendable { case development, production }

    public var environment: Environment = .development
    public var host = "127.0.0.1"
    public var port = 8080
    /// libpq connection string or URL; nil → embedded PostgreSQL under `dataDirectory/postgres`. The
    /// server runs as its role.
    public var databaseURL: String?
    /// The schema owner's connection (`DATABASE_OWNER_URL`): migrations run as it, and it gives the
    /// server's role its privileges. nil → migrations run as `databaseURL`'s role (one role for both).
    public var databaseOwnerURL: String?
    /// A hot standby for reads that may lag a moment (`DATABASE_READ_URL`): the public status lookup and
    /// the dashboard's aggregates. nil → they read from `databaseURL` like everything else.
    public var databaseReadURL: String?
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
    /// The secret before a rotation (`PICKUPBOX_SECRET_KEY_PREVIOUS`): still opens SMS texts it sealed.
    public var previousSecretKey: [UInt8]?
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
    /// Pickup brute-force limits (docs/ARCHITECTURE.md#pickup).
    public var pickupLimits = PickupLimits()
    /// How often each process checks for passed pickup deadlines (`DEADLINE_CHECK_SECONDS`).
    public var deadlineCheckSeconds: TimeInterval = 60
    /// Reverse proxies whose X-Forwarded-For names the client (`TRUSTED_PROXIES`, CIDR list).
    public var trustedProxies = TrustedProxies.none
    /// The SMS gateway and dispatcher (`SMS_*`).
    public var sms = SMSSettings()
    /// TLS on the listener (`TLS_CERT_FILE`, `TLS_KEY_FILE`) and mutual TLS for box controllers
    /// (`TLS_CLIENT_CA_FILE`); nil serves plain HTTP (behind a proxy that terminates TLS, or on loopback).
    public var tls: TLSConfiguration?
    /// `Strict-Transport-Security` max-age, sent when TLS or `COOKIE_SECURE` is on.
    public static let hstsMaxAgeSeconds = 31_536_000
    /// This process's name in logs and metrics (`PICKUPBOX_INSTANCE`): the host name by default, which
    /// differs per container, so two replicas of one compose service are told apart.
    public var instance = AppConfiguration.defaultInstance()
    /// `text` or `json`, one object per line (`LOG_FORMAT`); default text in development, json in production.
    public var logFormat = LogFormat.text
    /// Version and commit of the running binary (set by the executable).
    public var build = BuildDescription()
    /// Where log lines go (standard error; tests give their own).
    public var logSink = LogSink.standardError
    /// How long personal data is kept (`RETENTION_DAYS_AFTER_CLOSE`, `RETENTION_DAYS_MAX`, `AUDIT_IP_DAYS`, `AUDIT_IP_TRUNCATE`).
    public var retention = RetentionPolicy.standard
    /// How often the erasure pass runs (`ERASURE_INTERVAL_SECONDS`); every process checks each minute
    /// whether a pass is due, and one at a time runs it.
    public var erasureIntervalSeconds: TimeInterval = 3600

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
        ("DATABASE_URL / DATABASE_URL_FILE", "PostgreSQL connection the server runs as (URL or libpq string); unset → embedded cluster (development only)"),
        ("DATABASE_READ_URL / DATABASE_READ_URL_FILE", "a hot standby for the public status lookup and the dashboard's aggregates (may lag); replica lag in /metrics; unset → DATABASE_URL"),
        ("DATABASE_OWNER_URL / DATABASE_OWNER_URL_FILE", "the schema owner's connection: migrations run as it and it grants DATABASE_URL's role its privileges; required in production"),
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
        ("METRICS_TOKEN / METRICS_TOKEN_FILE", "bearer token that /metrics requires; required in production; development: unset → open (bind to loopback)"),
        ("PICKUPBOX_SECRET_KEY / PICKUPBOX_SECRET_KEY_FILE", "≥ 32 bytes, hex or base64, for keyed hashes of CANs and PINs and the encryption of queued SMS; required in production"),
        ("PICKUPBOX_SECRET_KEY_PREVIOUS / PICKUPBOX_SECRET_KEY_PREVIOUS_FILE", "the secret key before a rotation: SMS texts it encrypted can still be sent; unset by default"),
        ("PICKUPBOX_PUBLIC_URL", "base URL of the public status page, default http://127.0.0.1:8080"),
        ("COOKIE_SECURE", "on/off: session cookie only over HTTPS; default on in production"),
        ("STATUS_RATE_LIMIT", "public status checks per client address and minute, default 60"),
        ("LOGIN_FAILURES_PER_ACCOUNT", "failed logins at an account (from addresses its user has not logged in from; per address otherwise) before each further one doubles a delay of 2 s up to 15 minutes, default 5"),
        ("LOGIN_FAILURES_PER_ADDRESS", "failed logins before a client address is blocked for 15 minutes, default 20"),
        ("PICKUP_FAILURES_PER_ASSIGNMENT", "failed pickup attempts that lock an assignment, default 5"),
        ("PICKUP_FAILURES_PER_BOX / PICKUP_BOX_WINDOW_MINUTES / PICKUP_BOX_BLOCK_MINUTES", "more failures than this at one box within the window block its pickups for the block time; defaults 10 / 10 / 15"),
        ("DEADLINE_CHECK_SECONDS", "how often passed pickup deadlines are moved to retrieval, default 60"),
        ("TRUSTED_PROXIES", "comma-separated addresses/CIDRs of reverse proxies whose X-Forwarded-For is believed; default none"),
        ("TLS_CERT_FILE / TLS_KEY_FILE", "PEM certificate chain and private key: serve HTTPS (TLS 1.2+, BSI TR-02102-2 suites, TLS 1.3 preferred); default: plain HTTP"),
        ("TLS_CLIENT_CA_FILE", "PEM CA certificates of the authority: box controllers must present a client certificate from them (mutual TLS); needs TLS_CERT_FILE"),
        ("PICKUPBOX_INSTANCE", "this process's name in logs and metrics; default: the host name"),
        ("LOG_FORMAT", "text or json (one JSON object per line); default text in development, json in production"),
        ("RETENTION_DAYS_AFTER_CLOSE", "days after collection or cancellation until an application's personal data is erased, default 30"),
        ("RETENTION_DAYS_MAX", "days after registration until personal data is erased even if the application never closed, default 400"),
        ("AUDIT_IP_DAYS", "days until client addresses in the audit log are erased, default 90"),
        ("AUDIT_IP_TRUNCATE", "on/off: store audit client addresses as their /24 (IPv4) or /48 (IPv6) network only, default off"),
        ("ERASURE_INTERVAL_SECONDS", "how often the erasure pass runs (one process at a time), default 3600"),
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
            guard let v = Int(decimal: raw, allowingSign: true), range.contains(v) else {
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
        c.databaseOwnerURL = secret("DATABASE_OWNER_URL")
        c.databaseReadURL = secret("DATABASE_READ_URL")
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
        if let key = secret("PICKUPBOX_SECRET_KEY_PREVIOUS") {
            if let bytes = decodeKey(key), bytes.count >= 32 { c.previousSecretKey = bytes } else {
                problems.append("PICKUPBOX_SECRET_KEY_PREVIOUS must be at least 32 bytes, given as hex or base64")
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
        let certificate = string("TLS_CERT_FILE"), key = string("TLS_KEY_FILE"), clientCA = string("TLS_CLIENT_CA_FILE")
        for (name, path) in [("TLS_CERT_FILE", certificate), ("TLS_KEY_FILE", key), ("TLS_CLIENT_CA_FILE", clientCA)] {
            if let path, !FileManager.default.isReadableFile(atPath: path) { problems.append("\(name): cannot read \(path)") }
        }
        switch (certificate, key) {
        case (let certificate?, let key?):
            c.tls = TLSConfiguration(certificateChainFile: certificate, privateKeyFile: key, clientCAFile: clientCA)
        case (nil, nil):
            if clientCA != nil { problems.append("TLS_CLIENT_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE (mutual TLS is TLS first)") }
        default:
            problems.append("TLS_CERT_FILE and TLS_KEY_FILE go together")
        }
        if let i = string("PICKUPBOX_INSTANCE") {
            if i.utf8.count <= 64, i.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) { c.instance = i } else {
                problems.append("PICKUPBOX_INSTANCE must be at most 64 printable ASCII characters without spaces or quotes")
            }
        }
        // A terminal in development, a log collector in production.
        c.logFormat = c.environment == .production ? .json : .text
        if let f = string("LOG_FORMAT") {
            if let format = LogFormat(rawValue: f.lowercased()) { c.logFormat = format } else { problems.append("LOG_FORMAT must be text or json") }
        }
        let afterClose = integer("RETENTION_DAYS_AFTER_CLOSE", RetentionPolicy.allowedDays) ?? c.retention.daysAfterClose
        let maxAge = integer("RETENTION_DAYS_MAX", RetentionPolicy.allowedDays) ?? c.retention.maxAgeDays
        let addressDays = integer("AUDIT_IP_DAYS", RetentionPolicy.allowedDays) ?? c.retention.auditAddressDays
        var truncate = c.retention.truncateAuditAddresses
        if let t = string("AUDIT_IP_TRUNCATE") {
            switch t.lowercased() {
            case "on", "true", "1": truncate = true
            case "off", "false", "0": truncate = false
            default: problems.append("AUDIT_IP_TRUNCATE must be on or off")
            }
        }
        do {
            c.retention = try RetentionPolicy(daysAfterClose: afterClose, maxAgeDays: maxAge, auditAddressDays: addressDays, truncateAuditAddresses: truncate)
        } catch {
            problems.append("RETENTION_DAYS_MAX (\(maxAge)) must not be shorter than RETENTION_DAYS_AFTER_CLOSE (\(afterClose))")
        }
        if let n = integer("ERASURE_INTERVAL_SECONDS", 60...86_400) { c.erasureIntervalSeconds = TimeInterval(n) }
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
        if environment == .production && metricsToken == nil {
            // /metrics names routes, queue lengths and blocked boxes: not for whoever reaches the port (docs/ARCHITECTURE.md#operations-access).
            problems.append("METRICS_TOKEN (or METRICS_TOKEN_FILE) is required in production: /metrics must not be open")
        }
        if environment == .production && databaseURL == nil {
            problems.append("DATABASE_URL is required in production (the embedded PostgreSQL is for development and tests)")
        }
        if databaseOwnerURL != nil && databaseURL == nil {
            problems.append("DATABASE_OWNER_URL needs DATABASE_URL (the server's role)")
        }
        if databaseReadURL != nil && databaseURL == nil {
            problems.append("DATABASE_READ_URL needs DATABASE_URL (a standby of that database)")
        }
        if host.isEmpty { problems.append("the listen host must not be empty") }
        problems += sms.problems()
        if environment == .production && sms.gateway.provider == .console {
            problems.append("SMS_PROVIDER=console writes numbers and PINs to the log; choose webhook, seven or twilio in production")
        }
        if let url = sms.gateway.configuration.url, sms.gateway.provider != .console,
           !Self.isAllowedGatewayURL(url, production: environment == .production) {
            // Numbers and PINs travel in these requests: a downgrade to plain HTTP would show them to the network.
            problems.append(environment == .production
                ? "SMS_URL must start with https:// in production"
                : "SMS_URL must start with https:// (http:// only to a loopback address, for local gateways in development)")
        }
        if !(0...65535).contains(port) { problems.append("the port must be from 0 to 65535") }
        if databasePoolSize > workerThreads {
            problems.append("DB_POOL_SIZE (\(databasePoolSize)) should not exceed HTTP_WORKER_THREADS (\(workerThreads)): the extra connections would never be used")
        }
        return problems
    }

    /// `https://` always; `http://` only in development and only to a loopback host (127.0.0.0/8, ::1,
    /// localhost), as local test gateways are (docs/ARCHITECTURE.md#operations-access).
    static func isAllowedGatewayURL(_ url: String, production: Bool) -> Bool {
        let lower = url.lowercased()
        if lower.hasPrefix("https://") { return true }
        guard !production, lower.hasPrefix("http://") else { return false }
        var authority = lower.dropFirst("http://".count).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let host: Substring
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return false }
            host = authority[authority.index(after: authority.startIndex)..<close]
        } else {
            host = authority.prefix { $0 != ":" }
        }
        if host == "localhost" || host == "::1" { return true }
        guard let bytes = TrustedProxies.ipBytes(String(host)), bytes.count == 4 else { return false }
        return bytes[0] == 127
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

    /// The host name (a container's id under Docker), or `pickupbox` when it cannot be read.
    static func defaultInstance() -> String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "pickupbox" }
        let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return host.isEmpty ? "pickupbox" : host
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
        // The access log is info-level: LOG_LEVEL=warning silences it as it silences other info lines.
        s.accessLog = accessLog && logLevel <= .info
        s.logSink = logSink
        s.logFormat = logFormat
        s.instance = instance
        s.tls = tls
        // HSTS (RFC 6797) wherever the app is reached over HTTPS: its own TLS, or a proxy's (COOKIE_SECURE).
        if tls != nil || cookieSecure { s.strictTransportSecurity = "max-age=\(Self.hstsMaxAgeSeconds)" }
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
