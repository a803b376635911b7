import HTTPServer
import Logging
import Postgres

/// Each event loop's own database connection in pipeline mode, for the public status check: its one
/// indexed read is sent from the loop and answered from the loop, so no worker is woken, no pool lock
/// is taken and no answer is handed back across threads.
///
/// It never makes a request wait for it: while it connects (on a worker; connecting blocks), after it
/// broke, or with `maxInFlight` statements outstanding, `send` says no and the caller takes the worker
/// path with the pool, as before. It reconnects on the next use after `retryNanoseconds`.
/// Loop-confined: made, used and closed on its loop's thread only (`EventLoopContext`).
final class LoopDatabase: LoopWatcher {
    private enum State {
        case idle
        case connecting
        /// `fd`: the socket's number when watching began (libpq closes a failed socket itself, after which
        /// the pipeline reads -1).
        case ready(PostgresPipeline, fd: Int32, watchingWrite: Bool)
        case resting(until: UInt64)
    }

    /// Statements outstanding on one loop's connection before look-ups go to the pool instead.
    static let maxInFlight = 256
    static let retryNanoseconds: UInt64 = 1_000_000_000
    static let applicationName = "pickupbox-pipeline"

    private unowned let context: EventLoopContext
    private let configuration: PostgresConfiguration
    private let logger: Logger
    /// A statement with no answer this long after it was sent: the connection is dropped (its
    /// statement time-out, which the server enforces, plus five seconds; 35 s without one).
    private let answerDeadlineNanoseconds: UInt64
    private var state = State.idle
    private var queued = false

    private init(context: EventLoopContext, configuration: PostgresConfiguration, logger: Logger) {
        self.context = context
        self.configuration = configuration
        self.logger = logger
        // 0 (or less) disables PostgreSQL's time-out: then the default's 30 s.
        let statementTimeout = UInt64(configuration.statementTimeoutMilliseconds.flatMap { $0 > 0 ? $0 : nil } ?? 30_000)
        answerDeadlineNanoseconds = (statementTimeout + 5_000) * 1_000_000
    }

    /// The loop's connection to `pool`'s database (made on first use; nothing connects before `send`).
    static func on(_ context: EventLoopContext, pool: PostgresPool, logger: Logger) -> LoopDatabase {
        context.attachment(LoopDatabase.self) { LoopDatabase(context: context, configuration: pool.configuration, logger: logger) }
    }

    /// True while a connection is up (for tests and diagnostics).
    var isReady: Bool {
        if case .ready = state { return true }
        return false
    }

    /// Sends `query`; `completion` runs on this loop with its rows or error (`connectionLost` when the
    /// connection broke first). Returns false without calling `completion` when the statement cannot go
    /// now: no connection yet (one is started), or too many outstanding.
    func send(_ query: PostgresQuery, completion: @escaping PostgresPipeline.Completion) -> Bool {
        guard case .ready(let pipeline, _, _) = state else {
            connectIfDue()
            return false
        }
        guard pipeline.inFlight < Self.maxInFlight else { return false }
        guard pipeline.send(query, sentAt: context.now, completion: completion) else {
            drop(pipeline, reason: "the connection broke while sending")
            return false
        }
        if pipeline.isBroken {
            drop(pipeline, reason: "the connection broke while sending")
        } else {
            queued = true
        }
        return true
    }

    // MARK: - LoopWatcher

    func descriptorReady(readable: Bool, writable: Bool, failed: Bool) {
        guard case .ready(let pipeline, _, _) = state else { return }
        if writable { pipeline.flush() }
        if readable || failed { pipeline.receive() }
        settle(pipeline)
    }

    func roundEnded() {
        guard queued, case .ready(let pipeline, _, _) = state else { return }
        queued = false
        pipeline.flush()
        settle(pipeline)
    }

    func sweep(now: UInt64) {
        guard case .ready(let pipeline, _, _) = state, let oldest = pipeline.oldestSentAt,
              now &- oldest > answerDeadlineNanoseconds else { return }
        logger.warning("database pipeline dropped: a statement got no answer in time", metadata: ["db.loop": "\(context.index)"])
        drop(pipeline, reason: "no answer within the statement time-out")
    }

    func loopStopped() {
        if case .ready(let pipeline, let fd, _) = state {
            context.unwatch(fd)
            pipeline.close(reason: "the server is stopping")
        }
        state = .idle
    }

    // MARK: - Internals

    /// After the pipeline did something: drop it when it broke, else watch for writing while it must.
    private func settle(_ pipeline: PostgresPipeline) {
        guard !pipeline.isBroken else {
            drop(pipeline, reason: "the connection to the database was lost")
            return
        }
        guard case .ready(_, let fd, let watchingWrite) = state, watchingWrite != pipeline.wantsWrite else { return }
        do {
            try context.update(fd, writable: pipeline.wantsWrite)
            state = .ready(pipeline, fd: fd, watchingWrite: pipeline.wantsWrite)
        } catch {
            drop(pipeline, reason: "the loop could not watch the connection")
        }
    }

    private func drop(_ pipeline: PostgresPipeline, reason: String) {
        if case .ready(_, let fd, _) = state { context.unwatch(fd) }
        rest()
        logger.warning("database pipeline closed; status look-ups use the pool until it is back", metadata: ["db.loop": "\(context.index)", "reason": "\(reason)"])
        pipeline.close(reason: reason)
    }

    private func connectIfDue() {
        switch state {
        case .idle: break
        case .resting(let until) where context.now >= until: break
        default: return
        }
        state = .connecting
        let configuration = configuration, logger = logger, handle = context.handle
        let started = context.offload {
            let outcome = Result { try PostgresPipeline.connect(configuration, applicationName: Self.applicationName, logger: logger) }
            handle.perform { context in
                guard let database = context.attachment(LoopDatabase.self) else {
                    if case .success(let pipeline) = outcome { pipeline.close(reason: "the loop stopped") }
                    return
                }
                database.connected(outcome)
            }
        }
        if !started { rest() }
    }

    /// No connection until the retry interval has passed.
    private func rest() {
        state = .resting(until: context.now &+ Self.retryNanoseconds)
    }

    private func connected(_ outcome: Result<PostgresPipeline, any Error>) {
        switch outcome {
        case .success(let pipeline):
            do {
                let fd = pipeline.socket
                try context.watch(fd, writable: false, self)
                state = .ready(pipeline, fd: fd, watchingWrite: false)
            } catch {
                pipeline.close(reason: "the loop could not watch the connection")
                rest()
            }
        case .failure(let error):
            logger.warning("database pipeline could not connect; status look-ups use the pool", metadata: ["db.loop": "\(context.index)", "error": "\(error)"])
            rest()
        }
    }
}
