/// One client connection. Owned by exactly one event loop and only touched on its thread.
final class Connection {
    enum Phase {
        /// TLS handshake in progress (the header time-out applies; no HTTP answer is possible yet).
        case handshake
        /// Between requests (keep-alive idle time-out applies).
        case idle
        /// Receiving a header block (header time-out applies from its first byte).
        case head
        /// The route's admission decides on the head on a worker; nothing more is read until it has.
        case admitting
        /// Receiving a body (idle time-out and the body deadline apply).
        case body
        /// A handler owns the request; no time-out (long polls wait up to their own limit).
        case processing
        /// The answer is written and our side shut down; the rest of what the client sends is read and
        /// dropped for a moment, so that closing does not reset the connection before it read the answer.
        case lingering
    }

    /// The request being received or answered.
    struct Current {
        var head: RequestHead
        var match: Router.Match
        var requestID: String
        var started: UInt64
        var responder: Responder?
        /// From the route's admission, for the handler.
        var admitted: (any Sendable)?
    }

    let fd: Int32
    let remoteAddress: String
    /// The key this connection counts against in the per-address limit; nil when it is not counted.
    let addressKey: String?
    var input = InputBuffer()
    var parser: HTTPRequestParser
    var output: [UInt8] = []
    var outputOffset = 0
    var phase = Phase.idle
    var phaseStarted: UInt64
    var lastProgress: UInt64
    var current: Current?
    /// Increases with every answered request so that a late answer to an old one is dropped.
    var sequence: UInt64 = 0
    var closeAfterWrite = false
    var isClosed = false
    /// Reading stopped with data left in the socket (too much pipelined input); resume after the answer.
    var readPaused = false
    /// The request was answered before its body was read: linger instead of closing at once.
    var lingerOnClose = false
    /// The TLS session on a TLS listener; nil for plain HTTP.
    let tls: TLSSession?
    /// From a trusted reverse proxy: a refused body is drained in full (see `EventLoop.proxyLingerBytes`).
    var fromTrustedProxy = false
    /// Bytes read and dropped while lingering.
    var lingerDrained = 0

    init(fd: Int32, remoteAddress: String, addressKey: String?, limits: HTTPParserLimits, now: UInt64, tls: TLSSession? = nil) {
        self.fd = fd
        self.remoteAddress = remoteAddress
        self.addressKey = addressKey
        self.parser = HTTPRequestParser(limits: limits)
        self.phaseStarted = now
        self.lastProgress = now
        self.tls = tls
        if tls != nil { phase = .handshake }
    }

    /// How its requests arrived, for `Request.transport`.
    var transport: Request.Transport {
        guard let tls else { return .plain }
        return .tls(clientCertificate: tls.clientCertificate)
    }

    var hasPendingOutput: Bool { outputOffset < output.count }
}

/// Lets a connection travel through a worker or a responder back to its loop.
/// Safe because it is only dereferenced on the owning event loop's thread.
struct ConnectionRef: @unchecked Sendable {
    let connection: Connection
}
