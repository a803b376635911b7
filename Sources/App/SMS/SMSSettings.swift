import Foundation
import SMSGateway

/// How SMS are sent (docs/ARCHITECTURE.md#sms): the gateway (`SMSEnvironment`: `SMS_PROVIDER`, `SMS_URL`, `SMS_TOKEN`,
/// `SMS_SENDER`, `SMS_DLR_SECRET`, …) and the dispatcher's limits.
public struct SMSSettings: Sendable {
    /// Provider, URL, credentials, sender, delivery-report secret. Default: the console provider.
    public var gateway: SMSEnvironment
    /// Run the dispatcher in this process (`SMS_DISPATCHER`, default on). Off: messages stay queued
    /// for another process (or, in tests, for inspection).
    public var dispatcherEnabled = true
    /// Sending threads, each with its own keep-alive connection to the gateway (`SMS_DISPATCH_THREADS`).
    public var threads = 2
    /// Messages claimed at once by a thread (`SMS_BATCH_SIZE`).
    public var batchSize = 50
    /// How long a claim holds (`SMS_CLAIM_LEASE_SECONDS`): a message claimed by a process that died is
    /// taken back after this. Must exceed the gateway's total time-out.
    public var claimLeaseSeconds = 120
    /// Messages per second to the provider, per process (`SMS_RATE_PER_SECOND`).
    public var ratePerSecond = 50
    /// Messages per hour across all processes; reaching it opens the circuit breaker (`SMS_HOURLY_CAP`).
    public var hourlyCap = 2000
    /// Retries stop and the message fails this long after it was queued (`SMS_MAX_AGE_HOURS`).
    public var maxAgeSeconds = 24 * 3600
    /// First retry delay; it doubles per attempt up to `retryMaxMilliseconds`, with jitter (`SMS_RETRY_BASE_MS`).
    public var retryBaseMilliseconds = 15_000
    public var retryMaxMilliseconds = 30 * 60 * 1000
    /// Days before the pickup deadline the reminder goes out; nil = no reminders (`SMS_REMINDER_DAYS`, 0 = off).
    public var reminderDaysBefore: Int? = 2
    /// Reminders are not sent in these hours of the site's local time (`SMS_QUIET_HOURS`, e.g. `21:00-08:00`, or `off`).
    public var quietHours: QuietHours? = QuietHours(startMinute: 21 * 60, endMinute: 8 * 60)
    /// Most segments a template may cost with the longest values (`SMS_SEGMENT_BUDGET`).
    public var segmentBudget = 3

    public init() {
        gateway = SMSEnvironment(provider: .console, configuration: GatewayConfiguration(), deliveryReportSecret: nil)
    }

    static let variables: [(name: String, meaning: String)] = [
        ("SMS_PROVIDER", "webhook, seven, twilio or console (default: console, which writes messages — with PINs — to the log; for local use)"),
        ("SMS_URL", "gateway endpoint, https:// (development: http:// to loopback only) (webhook: required; seven/twilio: their public API by default)"),
        ("SMS_TOKEN / SMS_TOKEN_FILE", "webhook: bearer token; seven: API key; twilio: AccountSid:AuthToken"),
        ("SMS_SENDER", "sender id shown on the phone (seven: up to 11 characters; twilio: number or MG… service)"),
        ("SMS_DLR_SECRET", "shared secret (webhook) or signing secret (seven) of delivery reports"),
        ("SMS_CALLBACK_URL", "the public URL of our delivery-report route as the provider calls it (twilio and seven sign it)"),
        ("SMS_CA_FILE", "PEM bundle to trust instead of the system CAs (on-premise gateways)"),
        ("SMS_TIMEOUT_MS", "total time for one request to the gateway, default 15000 (connecting: at most 5000)"),
        ("SMS_DISPATCHER", "on (default) or off: send queued SMS from this process"),
        ("SMS_DISPATCH_THREADS", "sending threads per process, default 2"),
        ("SMS_BATCH_SIZE", "messages claimed at once per thread, default 50"),
        ("SMS_CLAIM_LEASE_SECONDS", "after this a claim of a crashed process is taken back, default 120"),
        ("SMS_RATE_PER_SECOND", "messages per second per process, default 50"),
        ("SMS_HOURLY_CAP", "messages per hour in all; reaching it pauses sending (circuit breaker against SMS pumping), default 2000"),
        ("SMS_MAX_AGE_HOURS", "retries end and the message fails this long after it was queued, default 24"),
        ("SMS_RETRY_BASE_MS", "first retry delay, doubling per attempt (with jitter) up to 30 minutes, default 15000"),
        ("SMS_REMINDER_DAYS", "reminder this many days before the pickup deadline, default 2; 0 = no reminders"),
        ("SMS_QUIET_HOURS", "no reminders in these local hours, default 21:00-08:00; off = any time"),
        ("SMS_SEGMENT_BUDGET", "most segments a template may cost, default 3"),
    ]

    /// Reads the `SMS_*` variables; `integer` reads (and reports) a bounded whole number.
    static func load(_ env: [String: String], integer: (String, ClosedRange<Int>) -> Int?) -> (SMSSettings, problems: [String]) {
        var s = SMSSettings()
        var problems: [String] = []
        do {
            s.gateway = try SMSEnvironment.load(env)
        } catch {
            problems.append("SMS: \(error.reason)")
        }
        if let v = env["SMS_DISPATCHER"]?.trimmingCharacters(in: .whitespaces), !v.isEmpty {
            switch v.lowercased() {
            case "on", "true", "1": s.dispatcherEnabled = true
            case "off", "false", "0": s.dispatcherEnabled = false
            default: problems.append("SMS_DISPATCHER must be on or off")
            }
        }
        if let n = integer("SMS_TIMEOUT_MS", 100...120_000) {
            s.gateway.configuration.totalTimeout = .milliseconds(n)
            s.gateway.configuration.connectTimeout = min(.seconds(5), .milliseconds(n))
        }
        if let n = integer("SMS_DISPATCH_THREADS", 1...32) { s.threads = n }
        if let n = integer("SMS_BATCH_SIZE", 1...1000) { s.batchSize = n }
        if let n = integer("SMS_CLAIM_LEASE_SECONDS", 2...3600) { s.claimLeaseSeconds = n }
        if let n = integer("SMS_RATE_PER_SECOND", 1...100_000) { s.ratePerSecond = n }
        if let n = integer("SMS_HOURLY_CAP", 1...100_000_000) { s.hourlyCap = n }
        if let n = integer("SMS_MAX_AGE_HOURS", 1...168) { s.maxAgeSeconds = n * 3600 }
        if let n = integer("SMS_RETRY_BASE_MS", 1...3_600_000) { s.retryBaseMilliseconds = n }
        if let n = integer("SMS_REMINDER_DAYS", 0...60) { s.reminderDaysBefore = n == 0 ? nil : n }
        if let n = integer("SMS_SEGMENT_BUDGET", 1...10) { s.segmentBudget = n }
        if let q = env["SMS_QUIET_HOURS"]?.trimmingCharacters(in: .whitespaces), !q.isEmpty {
            if q.lowercased() == "off" { s.quietHours = nil } else if let parsed = QuietHours(parsing: q) { s.quietHours = parsed } else {
                problems.append("SMS_QUIET_HOURS must look like 21:00-08:00, or be off")
            }
        }
        return (s, problems)
    }

    /// Checks that hold however the values were set.
    func problems() -> [String] {
        var problems: [String] = []
        let total = gateway.configuration.totalTimeout.seconds
        if Double(claimLeaseSeconds) <= total + 1 {
            problems.append("SMS_CLAIM_LEASE_SECONDS (\(claimLeaseSeconds)) must exceed the gateway's total time-out (\(Int(total)) s) by more than a second")
        }
        return problems
    }
}

/// Hours of the day (site local time) in which reminders wait; the window may wrap midnight.
public struct QuietHours: Sendable, Equatable {
    public var startMinute: Int
    public var endMinute: Int

    public init(startMinute: Int, endMinute: Int) {
        self.startMinute = startMinute
        self.endMinute = endMinute
    }

    /// `HH:MM-HH:MM`.
    init?(parsing text: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let start = try? TimeOfDay.parse(String(parts[0]), field: "SMS_QUIET_HOURS", allowEndOfDay: false).minutes,
              let end = try? TimeOfDay.parse(String(parts[1]), field: "SMS_QUIET_HOURS", allowEndOfDay: false).minutes, start != end else { return nil }
        self.init(startMinute: start, endMinute: end)
    }

    func contains(minute: Int) -> Bool {
        startMinute < endMinute ? (minute >= startMinute && minute < endMinute) : (minute >= startMinute || minute < endMinute)
    }

    /// When a reminder due at `date` may go out: `date` itself, or the end of the quiet window it falls in.
    func release(after date: Date, in zone: TimeZone) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.hour, .minute, .second, .nanosecond], from: date)
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        guard contains(minute: minute) else { return date }
        let wait = (endMinute - minute + 24 * 60) % (24 * 60)
        let startOfMinute = date.addingTimeInterval(-Double(parts.second ?? 0) - Double(parts.nanosecond ?? 0) / 1e9)
        return startOfMinute.addingTimeInterval(TimeInterval(wait * 60))
    }
}
