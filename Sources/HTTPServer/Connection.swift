/// One client connection. Owned by exactly one event loop and only touched on its thread.
final class Connection {
    enum Phase {
        /// TLS handshake in progress (the header time-out applies; no HTTP answer is possible yet).
        case handshake
        /// Between requests (keep-alive idle time-out applies).
        case idle
        /// Receiving a header block (header time-out applies from its first byte).
        case head
        /// Receiving a body (idle time-out applies).
        case body
        /// A handler owns the request; no time-out (long polls wait up to their own limit).
        case processing
    }

    /// The request being received or answered.
    struct Current {
        var head: RequestHead
        var match: Router.Match
        var requestID: String
        var started: UInt64
        var responder: Responder?
    }

    let fd: Int32
    let remoteAddress: String
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
    /// The TLS session on a TLS listener; nil for plain HTTP.
    let tls: TLSSession?

    init(fd: Int32, remoteAddress: String, limits: HTTPParserLimits, now: UInt64, tls: TLSSession? = nil) {
        self.fd = fd
        self.remoteAddress = remoteAddress
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
