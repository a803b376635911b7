import Logging
import Synchronization

/// State shared by all loops of one server.
final class ServerCore: Sendable {
    let configuration: ServerConfiguration
    let router: Router
    let workers: WorkerPool
    let renderer: ErrorRenderer
    let observer: (@Sendable (RequestRecord) -> Void)?
    let logger: Logger
    let openConnections = Atomic<Int>(0)
    let acceptedConnections = Atomic<Int>(0)
    let rejectedConnections = Atomic<Int>(0)
    /// nil when there is no per-address limit.
    let addressConnections: AddressConnections?
    /// Request bodies of 64 KiB or more received.
    let largeBodies = Atomic<Int>(0)

    init(configuration: ServerConfiguration, router: Router, workers: WorkerPool, renderer: ErrorRenderer,
         observer: (@Sendable (RequestRecord) -> Void)?, logger: Logger) {
        self.configuration = configuration
        self.router = router
        self.workers = workers
        self.renderer = renderer
        self.observer = observer
        self.logger = logger
        self.addressConnections = configuration.maxConnectionsPerAddress > 0 ? AddressConnections(limit: configuration.maxConnectionsPerAddress) : nil
    }

    /// The protocol limits and time-outs of every connection (`lingerBytes` for a client, not a proxy).
    var connectionConfiguration: ConnectionStateMachine.Configuration {
        let c = configuration
        return ConnectionStateMachine.Configuration(
            parserLimits: c.parserLimits, headerTimeout: c.headerTimeout.nanoseconds, bodyIdleTimeout: c.bodyIdleTimeout.nanoseconds,
            bodyTimeout: c.bodyTimeout.nanoseconds, keepAliveTimeout: c.keepAliveTimeout.nanoseconds
        )
    }

    /// Sent to a connection over the cap, then closed, without reading anything. The length is counted,
    /// not written by hand (it once said 78 for a body of 79 bytes).
    static let overloaded: [UInt8] = {
        let body = ErrorBody.encode(code: "overloaded", message: "Too many connections; try again in a moment.", field: nil, extra: [:])
        return Array(("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\n"
            + "Content-Length: \(body.count)\r\n\r\n").utf8) + body
    }()
}
