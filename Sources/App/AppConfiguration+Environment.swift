import DecimalParsing
import Domain
import Foundation
import HTTPServer
import Logging

/// Reads variables of one environment and collects every problem, so that start-up lists them all at once.
final class EnvironmentReader {
    let env: [String: String]
    private(set) var problems: [String] = []

    init(_ env: [String: String]) {
        self.env = env
    }

    func problem(_ text: String) { problems.append(text) }

    /// The value, trimmed; nil when unset or blank.
    func string(_ name: String) -> String? {
        guard let v = env[name]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
        return v
    }

    /// `NAME`, or the contents of the file `NAME_FILE` names.
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

    /// `on`/`true`/`1` or `off`/`false`/`0`.
    func switchValue(_ name: String) -> Bool? {
        guard let s = string(name) else { return nil }
        switch s.lowercased() {
        case "on", "true", "1": return true
        case "off", "false", "0": return false
        default:
            problems.append("\(name) must be on or off")
            return nil
        }
    }

    /// A key of at least 32 bytes, as hex or base64.
    func key(_ name: String) -> [UInt8]? {
        guard let key = secret(name) else { return nil }
        guard let bytes = AppConfiguration.decodeKey(key), bytes.count >= 32 else {
            problems.append("\(name) must be at least 32 bytes, given as hex or base64")
            return nil
        }
        return bytes
    }
}

/// The sections of ``AppConfiguration/load(from:)``, each reading its variables.
extension AppConfiguration {
    mutating func readListener(_ r: EnvironmentReader) {
        if let e = r.string("PICKUPBOX_ENV") {
            if let parsed = Environment(rawValue: e) { environment = parsed } else { r.problem("PICKUPBOX_ENV must be development or production") }
        }
        if let h = r.string("PICKUPBOX_HOST") { host = h }
        if let p = r.integer("PICKUPBOX_PORT", 0...65535) { port = p }
        if let url = r.string("PICKUPBOX_PUBLIC_URL") {
            if url.hasPrefix("https://") || url.hasPrefix("http://") { publicBaseURL = url.hasSuffix("/") ? String(url.dropLast()) : url } else {
                r.problem("PICKUPBOX_PUBLIC_URL must start with https:// or http://")
            }
        }
        if let i = r.string("PICKUPBOX_INSTANCE") {
            if i.utf8.count <= 64, i.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) { instance = i } else {
                r.problem("PICKUPBOX_INSTANCE must be at most 64 printable ASCII characters without spaces or quotes")
            }
        }
    }

    mutating func readDatabase(_ r: EnvironmentReader) {
        databaseURL = r.secret("DATABASE_URL")
        databaseOwnerURL = r.secret("DATABASE_OWNER_URL")
        databaseReadURL = r.secret("DATABASE_READ_URL")
        if let d = r.string("PICKUPBOX_DATA_DIR") { dataDirectory = d }
        if let m = r.string("PICKUPBOX_MIGRATIONS_DIR") {
            migrationsDirectory = m
        } else if let shipped = ShippedFiles.locateMigrations() {
            // Next to the executable: the binary works from any working directory.
            migrationsDirectory = shipped
        }
        if let w = r.string("PICKUPBOX_WEB_DIR") { webDirectory = w }
        if let n = r.integer("DB_POOL_SIZE", 1...500) { databasePoolSize = n }
        if let n = r.integer("DB_POOL_TIMEOUT_MS", 1...120_000) { databasePoolTimeout = .milliseconds(n) }
    }

    mutating func readHTTPLimits(_ r: EnvironmentReader) {
        if let n = r.integer("HTTP_EVENT_LOOPS", 1...256) { eventLoops = n }
        // Read after the database's section: unset, as many as database connections.
        workerThreads = r.integer("HTTP_WORKER_THREADS", 1...1024) ?? databasePoolSize
        if let n = r.integer("HTTP_MAX_CONNECTIONS", 1...1_000_000) { maxConnections = n }
        if let n = r.integer("HTTP_MAX_CONNECTIONS_PER_ADDRESS", 0...1_000_000) { maxConnectionsPerAddress = n }
        if let n = r.integer("HTTP_MAX_BODY_BYTES", 1...(256 << 20)) { maxBodyBytes = n }
        if let n = r.integer("HTTP_BODY_TIMEOUT_SECONDS", 1...3600) { bodyTimeout = .seconds(n) }
    }

    mutating func readLogging(_ r: EnvironmentReader) {
        if let l = r.string("LOG_LEVEL") {
            if let level = Logger.Level(rawValue: l.lowercased()) { logLevel = level } else { r.problem("LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical") }
        }
        if let on = r.switchValue("ACCESS_LOG") { accessLog = on }
        // A terminal in development, a log collector in production.
        logFormat = environment == .production ? .json : .text
        if let f = r.string("LOG_FORMAT") {
            if let format = LogFormat(rawValue: f.lowercased()) { logFormat = format } else { r.problem("LOG_FORMAT must be text or json") }
        }
    }

    mutating func readSecrets(_ r: EnvironmentReader) {
        metricsToken = r.secret("METRICS_TOKEN")
        secretKey = r.key("PICKUPBOX_SECRET_KEY")
        previousSecretKey = r.key("PICKUPBOX_SECRET_KEY_PREVIOUS")
        cookieSecure = r.switchValue("COOKIE_SECURE") ?? (environment == .production)
    }

    mutating func readAccessLimits(_ r: EnvironmentReader) {
        if let n = r.integer("STATUS_RATE_LIMIT", 1...1_000_000_000) { statusRateLimitPerMinute = n }
        if let n = r.integer("LOGIN_FAILURES_PER_ACCOUNT", 1...1000) { loginFailuresPerAccount = n }
        if let n = r.integer("LOGIN_FAILURES_PER_ADDRESS", 1...100_000) { loginFailuresPerAddress = n }
        if let n = r.integer("DEADLINE_CHECK_SECONDS", 1...3600) { deadlineCheckSeconds = TimeInterval(n) }
        if let n = r.integer("PICKUP_FAILURES_PER_ASSIGNMENT", 1...100) { pickupLimits.perAssignment = n }
        if let n = r.integer("PICKUP_FAILURES_PER_BOX", 1...100_000) { pickupLimits.perBox = n }
        if let n = r.integer("PICKUP_BOX_WINDOW_MINUTES", 1...1440) { pickupLimits.boxWindowMinutes = n }
        if let n = r.integer("PICKUP_BOX_BLOCK_MINUTES", 1...1440) { pickupLimits.boxBlockMinutes = n }
        if let t = r.string("TRUSTED_PROXIES") {
            if let parsed = TrustedProxies.parse(t) { trustedProxies = parsed } else {
                r.problem("TRUSTED_PROXIES must be a comma-separated list of IP addresses or CIDR networks")
            }
        }
    }

    mutating func readTLS(_ r: EnvironmentReader) {
        let certificate = r.string("TLS_CERT_FILE"), key = r.string("TLS_KEY_FILE"), clientCA = r.string("TLS_CLIENT_CA_FILE")
        for (name, path) in [("TLS_CERT_FILE", certificate), ("TLS_KEY_FILE", key), ("TLS_CLIENT_CA_FILE", clientCA)] {
            if let path, !FileManager.default.isReadableFile(atPath: path) { r.problem("\(name): cannot read \(path)") }
        }
        switch (certificate, key) {
        case (let certificate?, let key?):
            tls = TLSConfiguration(certificateChainFile: certificate, privateKeyFile: key, clientCAFile: clientCA)
        case (nil, nil):
            if clientCA != nil { r.problem("TLS_CLIENT_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE (mutual TLS is TLS first)") }
        default:
            r.problem("TLS_CERT_FILE and TLS_KEY_FILE go together")
        }
    }

    mutating func readRetention(_ r: EnvironmentReader) {
        let afterClose = r.integer("RETENTION_DAYS_AFTER_CLOSE", RetentionPolicy.allowedDays) ?? retention.daysAfterClose
        let maxAge = r.integer("RETENTION_DAYS_MAX", RetentionPolicy.allowedDays) ?? retention.maxAgeDays
        let addressDays = r.integer("AUDIT_IP_DAYS", RetentionPolicy.allowedDays) ?? retention.auditAddressDays
        let truncate = r.switchValue("AUDIT_IP_TRUNCATE") ?? retention.truncateAuditAddresses
        do {
            retention = try RetentionPolicy(daysAfterClose: afterClose, maxAgeDays: maxAge, auditAddressDays: addressDays, truncateAuditAddresses: truncate)
        } catch {
            r.problem("RETENTION_DAYS_MAX (\(maxAge)) must not be shorter than RETENTION_DAYS_AFTER_CLOSE (\(afterClose))")
        }
        if let n = r.integer("ERASURE_INTERVAL_SECONDS", 60...86_400) { erasureIntervalSeconds = TimeInterval(n) }
    }
}
