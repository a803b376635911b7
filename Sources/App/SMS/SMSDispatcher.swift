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
    private let settings: SMSSettings
    /// Opens the sealed texts: the PIN is in clear only in this process's memory while it is sent.
    private let cipher: TextCipher
    private let logger: Logger
    private let metrics: AppMetrics
    private let providers: [any SMSProvider]
    private let wakeups: [DispatchSemaphore]
    private let finished = DispatchSemaphore(value: 0)
    private let state = Mutex(State())
    private let bucket: TokenBucket

    private struct State {
        var stopping = false
        var pausedUntil: ContinuousClock.Instant?
        var circuitOpen = false
        var started = 0
    }

    /// One claimed message; its text still sealed.
    struct Claimed: Sendable {
        let authorityID: UUID
        let id: UUID
        let applicationID: UUID?
        let to: String
        let kind: String
        let sealed: [UInt8]?
        let keyID: String?
        /// Written by a server before migration 0012 and not sealed yet.
        let clearText: String?
        let attempts: Int
        let createdAt: Date

        func text(_ cipher: TextCipher) throws(TextCipher.OpenError) -> String {
            try SMSOutbox.open(sealed: sealed, keyID: keyID, clear: clearText, cipher: cipher, authorityID: authorityID, messageID: id)
        }
    }

    /// `makeProvider` is called once per thread: each thread keeps its own connection to the gateway.
    init(pool: PostgresPool, settings: SMSSettings, cipher: TextCipher, logger: Logger, metrics: AppMetrics,
         makeProvider: () throws(SMSError) -> any SMSProvider) throws(SMSError) {
        self.pool = pool
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

    static let claimLockKey: Int64 = 0x7069_636B_736D_7363   // "picksmsc"

    /// Marks up to `limit` due messages `sending` for this thread and returns them — fewer when the
    /// hourly cap allows fewer. Claims are serialized over all processes by an advisory lock, so the
    /// cap (counting what was sent in the last hour and what is being sent now) cannot be overrun by
    /// two claims at once; a claim takes a millisecond or two.
    func claim(limit: Int) throws -> [Claimed] {
        try pool.transaction { c -> [Claimed] in
            try c.execute("SELECT pg_advisory_xact_lock(\(Self.claimLockKey))")
            let used = try c.query("""
                SELECT (SELECT count(*) FROM sms_message WHERE sent_at > now() - interval '1 hour')
                     + (SELECT count(*) FROM sms_message WHERE status = 'sending' AND sent_at IS NULL)
                """).first?.decode(Int.self, at: 0) ?? 0
            let allowance = settings.hourlyCap - used
            noteCircuit(open: allowance <= 0)
            guard allowance > 0 else { return [] }
            let rows = try c.query("""
                WITH due AS (
                    SELECT authority_id, id FROM sms_message
                    WHERE status = 'queued' AND next_attempt_at <= now()
                    ORDER BY next_attempt_at
                    LIMIT \(min(limit, allowance))
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE sms_message m SET status = 'sending', attempts = m.attempts + 1, updated_at = now(),
                    claimed_until = now() + \(settings.claimLeaseSeconds) * interval '1 second'
                FROM due WHERE m.authority_id = due.authority_id AND m.id = due.id
                RETURNING m.authority_id, m.id, m.application_id, m.to_number, m.template, m.body_sealed, m.body_key_id, m.body, m.attempts, m.created_at
                """)
            return try rows.map { row in
                Claimed(authorityID: try row.decode(UUID.self, at: 0), id: try row.decode(UUID.self, at: 1), applicationID: try row.decode(UUID?.self, at: 2),
                        to: try row.decode(String.self, at: 3), kind: try row.decode(String.self, at: 4), sealed: try row.decode([UInt8]?.self, at: 5),
                        keyID: try row.decode(String?.self, at: 6), clearText: try row.decode(String?.self, at: 7),
                        attempts: try row.decode(Int.self, at: 8), createdAt: try row.decode(Date.self, at: 9))
            }
        }
    }

    /// Messages whose lease ran out belong to a dispatcher that died (or hung) while sending them:
    /// they are queued again. The one it was sending at the time may reach the phone twice.
    @discardableResult
    func reclaimExpired() throws -> Int {
        let rows = try pool.query("""
            UPDATE sms_message SET status = 'queued', claimed_until = NULL, next_attempt_at = now(), updated_at = now()
            WHERE status = 'sending' AND claimed_until < now()
            RETURNING id
            """)
        if !rows.isEmpty {
            logger.warning("SMS claims of a stopped dispatcher taken back; each is sent again (a message in flight at the stop may arrive twice)",
                           metadata: ["messages": "\(rows.count)"])
        }
        return rows.count
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

    private func record(sent message: Claimed, provider: String, providerID: String?) {
        do {
            // One statement, committed without waiting for the WAL flush (the dispatcher's pool runs with
            // synchronous_commit=off). A delivery report may have come first: the status only moves forward.
            try pool.execute("""
                UPDATE sms_message SET status = CASE WHEN status = 'sending' THEN 'sent' ELSE status END,
                    provider = \(provider), provider_id = coalesce(provider_id, \(providerID)), sent_at = coalesce(sent_at, now()),
                    body = NULL, body_sealed = NULL, body_key_id = NULL, claimed_until = NULL, error = NULL, updated_at = now()
                WHERE authority_id = \(message.authorityID) AND id = \(message.id)
                """)
            metrics.smsSent.increment()
        } catch {
            // The gateway has it; the row stays `sending` and is sent again after the lease (the documented window).
            logger.error("SMS sent but not recorded; it will be sent again after the lease", metadata: ["sms.id": "\(message.id.uuidString.lowercased())", "error": "\(error)"])
        }
    }

    /// `retryable`: the error's, given whether the provider deduplicates by our reference (a lost reply is
    /// then retried; with Twilio it fails, because the message may have been delivered).
    private func handle(_ error: SMSError, for message: Claimed, provider: String, retryable: Bool) {
        let reason = String(describing: error).prefix(500)
        var delay: Duration?
        if retryable {
            delay = backoff(attempt: message.attempts)
            if case .rateLimited(let seconds) = error.kind {
                let wait = Duration.seconds(max(1, min(seconds ?? 30, 3600)))
                delay = max(delay ?? wait, wait)
                state.withLock { $0.pausedUntil = .now + wait }
                logger.warning("SMS gateway is throttling us: sending paused", metadata: ["sms.provider": "\(provider)", "seconds": "\(wait.components.seconds)"])
            }
        }
        do {
            if let delay, try requeue(message, after: delay, reason: String(reason)) {
                logger.info("SMS not accepted yet; will retry", metadata: ["sms.id": "\(message.id.uuidString.lowercased())", "attempt": "\(message.attempts)", "error": "\(error)"])
            } else {
                let final = retryable ? "gave up after \(message.attempts) attempts: \(reason)" : String(reason)
                try fail(message, reason: final)
            }
        } catch {
            logger.error("SMS result not recorded; the message is retried after the lease", metadata: ["sms.id": "\(message.id.uuidString.lowercased())", "error": "\(error)"])
        }
    }

    /// Queued again for a later attempt, unless that would be past `SMS_MAX_AGE_HOURS` (false: not queued).
    private func requeue(_ message: Claimed, after delay: Duration, reason: String) throws -> Bool {
        guard Date().timeIntervalSince(message.createdAt) + delay.seconds < Double(settings.maxAgeSeconds) else { return false }
        try pool.execute("""
            UPDATE sms_message SET status = 'queued', claimed_until = NULL, error = \(reason), updated_at = now(),
                next_attempt_at = now() + \(delay.seconds)::float8 * interval '1 second'
            WHERE authority_id = \(message.authorityID) AND id = \(message.id) AND status = 'sending'
            """)
        metrics.smsRetried.increment()
        return true
    }

    /// A text this process cannot open. Sealed with a key it does not have (another process, configured
    /// after a rotation, may have it): tried again later, until the maximum age. Damaged: failed at once.
    private func unreadable(_ message: Claimed, _ error: TextCipher.OpenError) {
        do {
            switch error {
            case .unknownKey:
                let reason = "the text is encrypted with a key this server does not have (set PICKUPBOX_SECRET_KEY_PREVIOUS after a rotation)"
                logger.error("SMS text sealed with an unknown key", metadata: ["sms.id": "\(message.id.uuidString.lowercased())", "sms.key": "\(message.keyID ?? "")"])
                if try !requeue(message, after: backoff(attempt: message.attempts), reason: reason) { try fail(message, reason: "gave up: " + reason) }
            case .damaged:
                logger.error("SMS text does not decrypt; the message fails", metadata: ["sms.id": "\(message.id.uuidString.lowercased())"])
                try fail(message, reason: "the stored text does not decrypt (changed in the database?)")
            }
        } catch {
            logger.error("SMS result not recorded; the message is retried after the lease", metadata: ["sms.id": "\(message.id.uuidString.lowercased())", "error": "\(error)"])
        }
    }

    /// Final failure: the text (with its PIN) is erased; staff see the reason; if the applicant is left
    /// without a PIN, the application is flagged for a call or letter.
    private func fail(_ message: Claimed, reason: String) throws {
        try pool.transaction { c in
            try c.execute("""
                UPDATE sms_message SET status = 'failed', error = \(reason), body = NULL, body_sealed = NULL, body_key_id = NULL, claimed_until = NULL,
                    final_at = now(), updated_at = now()
                WHERE authority_id = \(message.authorityID) AND id = \(message.id)
                """)
            try SMSFailures.flag(c, authorityID: message.authorityID, applicationID: message.applicationID, kind: message.kind, messageID: message.id)
        }
        metrics.smsFailed.increment()
        logger.warning("SMS failed for good; staff are shown the reason", metadata: ["sms.id": "\(message.id.uuidString.lowercased())", "sms.kind": "\(message.kind)", "reason": "\(reason)"])
    }

    /// Claimed but not attempted (paused, stopping, lease nearly over): back to the queue as they were.
    private func release(_ messages: [Claimed]) {
        guard let first = messages.first else { return }
        do {
            try pool.execute("""
                UPDATE sms_message SET status = 'queued', attempts = greatest(attempts - 1, 0), claimed_until = NULL, updated_at = now()
                WHERE authority_id = ANY(\(messages.map(\.authorityID))::uuid[]) AND id = ANY(\(messages.map(\.id))::uuid[]) AND status = 'sending'
                """)
        } catch {
            logger.warning("SMS claims not released; they return after the lease", metadata: ["first": "\(first.id.uuidString.lowercased())", "error": "\(error)"])
        }
    }

    /// Exponential: base × 2^(attempt−1), at most the maximum, with "equal jitter" (half fixed, half random)
    /// so that many messages failing together do not retry together.
    func backoff(attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let raw = min(Double(settings.retryBaseMilliseconds) * pow(2, Double(exponent)), Double(settings.retryMaxMilliseconds))
        let jittered = raw / 2 + Double.random(in: 0...(raw / 2))
        return .milliseconds(Int64(jittered))
    }
}

/// What a failed message means for the applicant, shared by the dispatcher and delivery reports.
enum SMSFailures {
    static func flag(_ c: PostgresConnection, authorityID: UUID, applicationID: UUID?, kind: String, messageID: UUID) throws {
        guard let applicationID, SMSKind(rawValue: kind)?.strandsApplicant == true else { return }
        try c.execute("UPDATE application SET contact_required = true, updated_at = now() WHERE authority_id = \(authorityID) AND id = \(applicationID)")
        try Audit.record(c, authorityID: authorityID, actor: .system, action: "application.sms_failed", entityType: "application", entityID: applicationID,
                         requestID: nil, clientAddress: nil, detail: ["sms": messageID.uuidString.lowercased(), "kind": kind])
    }
}

/// Messages per second for one process: a token bucket with one second of burst.
final class TokenBucket: Sendable {
    private let perSecond: Double
    private let state: Mutex<(tokens: Double, last: ContinuousClock.Instant)>

    init(perSecond: Double) {
        self.perSecond = max(perSecond, 0.001)
        self.state = Mutex((tokens: max(perSecond, 1), last: .now))
    }

    /// Blocks until a token is free.
    func acquire() {
        while true {
            let wait: Double = state.withLock { s in
                let now = ContinuousClock.now
                s.tokens = min(max(perSecond, 1), s.tokens + (now - s.last).seconds * perSecond)
                s.last = now
                if s.tokens >= 1 {
                    s.tokens -= 1
                    return 0
                }
                return (1 - s.tokens) / perSecond
            }
            if wait <= 0 { return }
            Thread.sleep(forTimeInterval: wait)
        }
    }
}

extension Duration {
    /// Seconds as a Double.
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
