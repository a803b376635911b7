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
    /// Half the cores, at least one (`HTTP_EVENT_LOOPS` unset): see ``defaultEventLoops(cores:)``.
    public var eventLoops = AppConfiguration.defaultEventLoops(cores: ProcessInfo.processInfo.activeProcessorCount)
    /// As many as database connections by default (`HTTP_WORKER_THREADS` unset: `DB_POOL_SIZE`): nearly
    /// every handler on a worker queries the database, so more workers would only wait for a connection,
    /// and waking them costs CPU — 413 against 477–513 µs of server CPU per pickup pair with 8 workers
    /// against 16 on 8 connections (BENCHMARKS.md). A full queue sheds load with 503 either way.
    public var workerThreads = 16
    /// The event loops only read, parse and write HTTP (one loop answers `/health` ~99,000 times a second
    /// on this project's 2-core machine); the database work runs on the workers and in PostgreSQL, which
    /// usually shares the host. A loop per core made them take turns on the cores with PostgreSQL's
    /// backends and the workers, and woke each loop for fewer requests: the status look-up cost 39 µs of
    /// server CPU a request with two loops on 2 cores against 21 µs with one (BENCHMARKS.md).
    public static func defaultEventLoops(cores: Int) -> Int { max(1, cores / 2) }
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

    /// Reads `environment` (normally `ProcessInfo.processInfo.environment`).
    public static func load(from env: [String: String]) throws -> AppConfiguration {
        var c = AppConfiguration()
        let reader = EnvironmentReader(env)
        c.readListener(reader)
        c.readDatabase(reader)
        c.readHTTPLimits(reader)
        c.readLogging(reader)
        c.readSecrets(reader)
        c.readAccessLimits(reader)
        c.readTLS(reader)
        c.readRetention(reader)
        let (sms, smsProblems) = SMSSettings.load(env, integer: reader.integer)
        c.sms = sms
        let problems = reader.problems + smsProblems + c.problems()
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
