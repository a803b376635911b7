import Crypto
import Foundation

/// The documented variables, and the helpers that read keys, gateway URLs and the host name.
extension AppConfiguration {
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
        ("HTTP_EVENT_LOOPS", "event loop threads, default: half the cores, at least 1"),
        ("HTTP_WORKER_THREADS", "handler threads, default: DB_POOL_SIZE"),
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
}
