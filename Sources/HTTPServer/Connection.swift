/// One client connection: its socket, its protocol state (`machine`) and the request being answered.
/// Owned by exactly one event loop and only touched on its thread.
final class Connection {
    /// The request being received or answered: what the loop needs beyond the protocol state.
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
    /// The TLS session on a TLS listener; nil for plain HTTP.
    let tls: TLSSession?
    var machine: ConnectionStateMachine
    var current: Current?
    var isClosed = false

    init(fd: Int32, remoteAddress: String, addressKey: String?, machine: ConnectionStateMachine, tls: TLSSession? = nil) {
        self.fd = fd
        self.remoteAddress = remoteAddress
        self.addressKey = addressKey
        self.machine = machine
        self.tls = tls
    }

    /// How its requests arrived, for `Request.transport`.
    var transport: Request.Transport {
        guard let tls else { return .plain }
        return .tls(clientCertificate: tls.clientCertificate)
    }
}

/// Lets a connection travel through a worker or a responder back to its loop.
/// Safe because it is only dereferenced on the owning event loop's thread.
struct ConnectionRef: @unchecked Sendable {
    let connection: Connection
}
