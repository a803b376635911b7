import Foundation

/// Everything the server can be tuned with. Defaults are production values; tests shorten the time-outs.
public struct ServerConfiguration: Sendable {
    /// IPv4 or IPv6 literal, or "localhost". "::" listens on IPv6 and IPv4.
    public var host = "127.0.0.1"
    /// 0 picks a free port (tests); read it back from `HTTPServer.port`.
    public var port = 8080
    /// Event loop threads, one per core by default.
    public var eventLoops = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// Threads for handlers that may block.
    public var workerThreads = 16
    /// Requests waiting for a worker before new ones get 503.
    public var maxQueuedRequests = 4096
    /// Open connections at most; beyond it new connections get a 503 and are closed.
    public var maxConnections = 10_000
    /// Open connections per client address (IPv6: per /64) at most; beyond it new ones get a 429 and are
    /// closed. 0: no limit.
    public var maxConnectionsPerAddress = 512
    /// Addresses without the per-address limit (reverse proxies that carry many clients); called once per
    /// accepted connection with the peer address as text.
    public var isExemptFromAddressLimit: (@Sendable (String) -> Bool)?
    /// Default request body limit; a route may override it.
    public var maxBodyBytes = 1 << 20
    public var parserLimits = HTTPParserLimits()
    /// Time to receive a whole header block, from its first byte.
    public var headerTimeout: Duration = .seconds(10)
    /// Longest pause while a body (or a response write) makes no progress.
    public var bodyIdleTimeout: Duration = .seconds(10)
    /// Time to receive a whole request body, from the end of its head, however steadily it trickles
    /// (1 MiB at 140 kbit/s still fits in the default).
    public var bodyTimeout: Duration = .seconds(60)
    /// How long an idle keep-alive connection stays open.
    public var keepAliveTimeout: Duration = .seconds(60)
    /// Graceful shutdown: after this, open connections are closed.
    public var shutdownTimeout: Duration = .seconds(10)
    /// One log line per request at info level (method, route pattern, status, duration, request id).
    public var accessLog = true
    /// Text or JSON lines (the access log; the rest of the log is the logger's).
    public var logFormat = LogFormat.text
    /// This process's name, on every access-log line.
    public var instance = "pickupbox"
    /// Where access-log lines go (written by its own thread, in batches).
    public var logSink = LogSink.standardError
    public var listenBacklog: Int32 = 4096
    /// TLS on the listener (and mutual TLS with `clientCAFile`); nil serves plain HTTP.
    public var tls: TLSConfiguration?
    /// `Strict-Transport-Security` value sent with every response (RFC 6797), e.g. `max-age=31536000`;
    /// nil sends none. Browsers heed it only over HTTPS (ours, or a proxy's in front).
    public var strictTransportSecurity: String?

    public init() {}

    /// How often time-outs are checked: a quarter of the shortest, between 5 ms and 250 ms.
    var sweepIntervalMilliseconds: Int32 {
        let shortest = [headerTimeout, bodyIdleTimeout, bodyTimeout, keepAliveTimeout].map(\.nanoseconds).min() ?? 1_000_000_000
        return Int32(clamping: min(250, max(5, Int(shortest / 4_000_000))))
    }
}

/// What the server reports about each answered request (metrics).
public struct RequestRecord: Sendable {
    public let method: HTTPMethod
    /// The route pattern, or "unmatched" / "unparsed".
    public let route: String
    /// Index into the router's table, -1 when no route matched.
    public let routeIndex: Int
    public let status: Int
    public let durationNanoseconds: UInt64
    public let requestID: String
}
