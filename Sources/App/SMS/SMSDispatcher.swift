import Foundation
import Logging
import Postgres
import Prometheus
import SMSGateway
import Synchronization

/// Sends the SMS outbox (docs/ARCHITECTURE.md#sms). Every server process may run one; they share the work
/// through the table:
///
/// - A thread claims due messages with `FOR UPDATE SKIP LOCKED` and marks them `sending` with a lease
///   (`claimed_until`), sends them one by one over its own keep-alive connection, and records each
///   result at once: `sent` with the provider's id; `queued` again with exponential backoff and jitter
///   (5xx, 408, 429 with `Retry-After`, time-outs, connection errors) until the maximum age; `failed`
///   for anything else. A failed "ready" or "new PIN" SMS flags the application for a call or letter.
/// - Our message id is the provider's reference (webhook `reference`, seven `foreign_id`), so a gateway
///   that deduplicates by it never delivers twice.
/// - The window for a duplicate: a process that dies (or loses the database) after the gateway took a
///   message and before its `sent` was written leaves it `sending`; after the lease another dispatcher
///   sends it again. That is at most one message per sending thread of the dead process. Results are
///   committed without waiting for the WAL flush; a crash of PostgreSQL itself (not of pickupbox) can
///   forget the last ~0.6 s of results, and those messages are sent again too.
/// - Rate per process (`SMS_RATE_PER_SECOND`), an hourly cap over all processes that opens a circuit
///   breaker (`SMS_HOURLY_CAP`), and a pause for the whole process when the gateway answers 429.
/// - Woken by `NOTIFY sms_outbox` (sent when a message is queued), and once a second for retries.
///
/// `pool` is the dispatcher's own (threads + 1 connections, `synchronous_commit=off`): its bookkeeping
/// never waits for a WAL flush and never competes with requests for the HTTP handlers' connections.
final class SMSDispatcher: Sendable {
    private let pool: PostgresPool
    let queue: SMSQueue
    let settings: SMSSettings
    /// Opens the sealed texts: the PIN is in clear only in this process's memory while it is sent.
    private let cipher: TextCipher
    let logger: Logger
    let metrics: AppMetrics
    private let providers: [any SMSProvider]
    private let wakeups: [DispatchSemaphore]
    private let finished = DispatchSemaphore(value: 0)
    let state = Mutex(State())
    private let bucket: TokenBucket

    typealias Claimed = SMSQueue.Claimed

    struct State {
        var stopping = false
        var pausedUntil: ContinuousClock.Instant?
        var circuitOpen = false
        var started = 0
    }

    /// `makeProvider` is called once per thread: each thread keeps its own connection to the gateway.
    init(pool: PostgresPool, settings: SMSSettings, cipher: TextCipher, logger: Logger, metrics: AppMetrics,
         makeProvider: () throws(SMSError) -> any SMSProvider) throws(SMSError) {
        self.pool = pool
        self.queue = SMSQueue(pool: pool)
        self.settings = settings
        self.cipher = cipher
        self.logger = logger
        self.metrics = metrics
        var providers: [any SMSProvider] = []
        for _ in 0..<max(1, settings.threads) { providers.append(try makeProvider()) }
        self.providers = providers
        self.wakeups = providers.map { _ in DispatchSemaphore(value: 0) }
        self.bucket = TokenBucket(perSecond: Double(settings.ratePerSecond))
    }

    var providerName: String { providers.first?.name ?? "none" }

    func start() {
        for index in providers.indices {
            state.withLock { $0.started += 1 }
            let thread = Thread { [self] in
                run(index)
                finished.signal()
            }
            thread.name = "pickupbox-sms-\(index)"
            thread.start()
        }
    }

    /// A message was queued somewhere (NOTIFY): every idle thread looks at once.
    func wake() {
        for w in wakeups { w.signal() }
    }

    /// Stops claiming; a send in progress finishes and is recorded (up to the gateway's time-out).
    func shutdown() {
        let started = state.withLock { s -> Int in
            s.stopping = true
            return s.started
        }
        wake()
        let limit = DispatchTime.now() + settings.gateway.configuration.totalTimeout.seconds + 2
        for _ in 0..<started { _ = finished.wait(timeout: limit) }
        pool.shutdown()
    }

    private var stopping: Bool { state.withLock { $0.stopping } }

    private func run(_ index: Int) {
        let provider = providers[index]
        var lastReclaim = ContinuousClock.now - .seconds(3600)
        while !stopping {
            var worked = false
            do {
                if index == 0 && ContinuousClock.now - lastReclaim > .seconds(5) {
                    try reclaimExpired()
                    lastReclaim = .now
                }
                if let until = state.withLock({ $0.pausedUntil }), until > .now {
                    _ = wakeups[index].wait(timeout: .now() + min((until - .now).seconds, 1))
                    continue
                }
                let batch = try claim(limit: settings.batchSize)
                if batch.isEmpty && circuitOpen {
                    _ = wakeups[index].wait(timeout: .now() + 5)
                    continue
                }
                if !batch.isEmpty {
                    worked = true
                    send(batch, with: provider)
                }
            } catch {
                logger.warning("SMS dispatch: database unavailable, retrying", metadata: ["error": "\(error)"])
                _ = wakeups[index].wait(timeout: .now() + 1)
                continue
            }
            if !worked { _ = wakeups[index].wait(timeout: .now() + 1) }
        }
    }

    // MARK: - Claiming

    /// Marks up to `limit` due messages `sending` for this thread and returns them — fewer when the
    /// hourly cap allows fewer (``SMSQueue/claim(limit:hourlyCap:leaseSeconds:)``); at the cap the circuit breaker opens.
    func claim(limit: Int) throws -> [Claimed] {
        let (allowance, claimed) = try queue.claim(limit: limit, hourlyCap: settings.hourlyCap, leaseSeconds: settings.claimLeaseSeconds)
        noteCircuit(open: allowance <= 0)
        return claimed
    }

    /// Messages whose lease ran out belong to a dispatcher that died (or hung) while sending them:
    /// they are queued again. The one it was sending at the time may reach the phone twice.
    @discardableResult
    func reclaimExpired() throws -> Int {
        let count = try queue.reclaimExpired()
        if count > 0 {
            logger.warning("SMS claims of a stopped dispatcher taken back; each is sent again (a message in flight at the stop may arrive twice)",
                           metadata: ["messages": "\(count)"])
        }
        return count
    }

    /// At the hourly cap the circuit breaker opens: sending pauses until the hour's count drops, and the log says why.
    private func noteCircuit(open: Bool) {
        let changed = state.withLock { s -> Bool in
            defer { s.circuitOpen = open }
            return s.circuitOpen != open
        }
        guard changed else { return }
        if open {
            logger.error("SMS circuit breaker open: the hourly cap is reached; sending paused (possible SMS pumping — check the audit log)",
                         metadata: ["cap": "\(settings.hourlyCap)"])
        } else {
            logger.notice("SMS circuit breaker closed: sending resumes")
        }
    }

    var circuitOpen: Bool { state.withLock { $0.circuitOpen } }

    // MARK: - Sending

    private func send(_ batch: [Claimed], with provider: any SMSProvider) {
        let claimedAt = ContinuousClock.now
        // Stop taking messages from the batch well before the lease runs out (a send can take the full time-out).
        let budget = Duration.seconds(settings.claimLeaseSeconds) - settings.gateway.configuration.totalTimeout - .seconds(1)
        for (index, message) in batch.enumerated() {
            let paused = state.withLock { s in s.stopping || (s.pausedUntil.map { $0 > .now } ?? false) }
            if paused || ContinuousClock.now - claimedAt > budget {
                release(Array(batch[index...]))
                return
            }
            let text: String
            do throws(TextCipher.OpenError) {
                text = try message.text(cipher)
            } catch {
                unreadable(message, error)
                continue
            }
            bucket.acquire()
            do throws(SMSError) {
                let providerID = try provider.send(OutgoingSMS(reference: message.id.uuidString.lowercased(), to: message.to, text: text))
                record(sent: message, provider: provider.name, providerID: providerID)
            } catch {
                handle(error, for: message, provider: provider.name, retryable: error.isRetryable(providerDeduplicates: provider.deduplicatesByReference))
            }
        }
    }
}
