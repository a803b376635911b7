import Foundation
import Logging
import Synchronization

/// The HTTP/1.1 server: N epoll loops (one per core) on SO_REUSEPORT listeners, a worker pool for
/// handlers that block, and graceful shutdown. Knows nothing of the domain.
public final class HTTPServer: Sendable {
    public let configuration: ServerConfiguration
    public let router: Router
    private let core: ServerCore
    private let state = Mutex(State())
    private let logger: Logger

    private struct State {
        var loops: [EventLoop] = []
        var threads: [Thread] = []
        var port = 0
        var started = false
        var stopped = false
    }

    /// - Parameters:
    ///   - errorMapper: turns errors that are not `HTTPResponseError`s into responses (e.g. database down → 503); nil falls through to an opaque 500.
    ///   - observer: told about every answered request, on the loop thread; keep it cheap (metrics).
    public init(
        configuration: ServerConfiguration,
        router: Router,
        logger: Logger,
        errorMapper: (@Sendable (any Error, Request) -> Response?)? = nil,
        observer: (@Sendable (RequestRecord) -> Void)? = nil
    ) {
        self.configuration = configuration
        self.router = router
        self.logger = logger
        let workers = WorkerPool(threads: configuration.workerThreads, maxQueue: configuration.maxQueuedRequests)
        core = ServerCore(
            configuration: configuration, router: router, workers: workers,
            renderer: ErrorRenderer(mapper: errorMapper, logger: logger), observer: observer, logger: logger
        )
    }

    /// Binds and starts the loops. Returns once the server accepts connections.
    public func start() throws {
        try state.withLock { s throws in
            guard !s.started else { throw ServerError.alreadyStarted }
            s.started = true
            let count = max(1, configuration.eventLoops)
            var listeners: [ListeningSocket] = []
            var port = configuration.port
            do {
                for _ in 0..<count {
                    let l = try ListeningSocket.make(host: configuration.host, port: port, backlog: configuration.listenBacklog, reusePort: true)
                    listeners.append(l)
                    port = l.port
                }
            } catch {
                for l in listeners { closeDescriptor(l.fd) }
                throw error
            }
            s.port = port
            var tls: TLSContext?
            do {
                tls = try configuration.tls.map { try TLSContext($0) }
            } catch {
                for l in listeners { closeDescriptor(l.fd) }
                throw error
            }
            // OpenSSL writes to the socket with write(2): a peer gone away must not kill the process.
            if tls != nil { signal(SIGPIPE, SIG_IGN) }
            for (i, listener) in listeners.enumerated() {
                let loop = try EventLoop(core: core, index: i, listener: listener, tls: tls)
                s.loops.append(loop)
                let thread = Thread { loop.run() }
                thread.name = "pickupbox-loop-\(i)"
                s.threads.append(thread)
                thread.start()
            }
        }
        logger.info("listening", metadata: ["http.host": "\(configuration.host)", "http.port": "\(port)", "http.loops": "\(configuration.eventLoops)",
                                            "http.tls": "\(configuration.tls == nil ? "off" : configuration.tls?.clientCAFile == nil ? "on" : "mutual")"])
    }

    /// The bound port (useful with port 0).
    public var port: Int { state.withLock { $0.port } }

    /// Open client connections now.
    public var openConnections: Int { core.openConnections.load(ordering: .relaxed) }
    /// Connections refused because of the cap, since start.
    public var rejectedConnections: Int { core.rejectedConnections.load(ordering: .relaxed) }
    /// Requests waiting for a worker thread.
    public var queuedRequests: Int { core.workers.queued }
    /// Jobs handed to the worker threads since start: admissions and handlers (one job for both when a
    /// body came with its head).
    public var workerJobs: Int { core.workers.submitted }
    /// Worker threads running a handler now.
    public var busyWorkers: Int { core.workers.busy }
    /// Request bodies of 64 KiB or more received since start (the memory trimmer looks at it).
    public var largeBodiesReceived: Int { core.largeBodies.load(ordering: .relaxed) }

    /// Graceful shutdown: stop accepting, let in-flight requests finish (answered with
    /// `Connection: close`), close idle connections; after `shutdownTimeout` close the rest.
    /// Blocks until done. Safe to call more than once.
    public func shutdown() {
        let loops = state.withLock { s -> [EventLoop] in
            guard s.started && !s.stopped else { return [] }
            s.stopped = true
            return s.loops
        }
        guard !loops.isEmpty else { return }
        let timeout = configuration.shutdownTimeout.nanoseconds
        let deadline = MonotonicClock.now() + timeout
        for loop in loops { loop.submit(.shutdown(deadline: deadline)) }
        while loops.contains(where: { !$0.finished.withLock { $0 } }) {
            usleep(2_000)
        }
        // Workers may still run handlers whose connections were closed at the deadline; give them the rest.
        let remaining = Double(timeout) / 1e9 + 1
        core.workers.shutdown(deadline: Date(timeIntervalSinceNow: remaining))
        logger.info("stopped")
    }
}
