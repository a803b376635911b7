import Foundation
import Logging
import Postgres
import Prometheus
import SMSGateway
import Synchronization

/// What the dispatcher does with each attempt's result: sent, retried with backoff, failed for good, or
/// given back unsent.
extension SMSDispatcher {
    func record(sent message: Claimed, provider: String, providerID: String?) {
        do {
            try queue.markSent(message, provider: provider, providerID: providerID)
            metrics.smsSent.increment()
        } catch {
            // The gateway has it; the row stays `sending` and is sent again after the lease (the documented window).
            logger.error("SMS sent but not recorded; it will be sent again after the lease", metadata: ["sms.id": "\(message.id.uuidString.lowercased())", "error": "\(error)"])
        }
    }

    /// `retryable`: the error's, given whether the provider deduplicates by our reference (a lost reply is
    /// then retried; with Twilio it fails, because the message may have been delivered).
    func handle(_ error: SMSError, for message: Claimed, provider: String, retryable: Bool) {
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
        try queue.requeue(message, afterSeconds: delay.seconds, reason: reason)
        metrics.smsRetried.increment()
        return true
    }

    /// A text this process cannot open. Sealed with a key it does not have (another process, configured
    /// after a rotation, may have it): tried again later, until the maximum age. Damaged: failed at once.
    func unreadable(_ message: Claimed, _ error: TextCipher.OpenError) {
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
        try queue.fail(message, reason: reason)
        metrics.smsFailed.increment()
        logger.warning("SMS failed for good; staff are shown the reason", metadata: ["sms.id": "\(message.id.uuidString.lowercased())", "sms.kind": "\(message.kind)", "reason": "\(reason)"])
    }

    /// Claimed but not attempted (paused, stopping, lease nearly over): back to the queue as they were.
    func release(_ messages: [Claimed]) {
        guard let first = messages.first else { return }
        do {
            try queue.release(messages)
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
