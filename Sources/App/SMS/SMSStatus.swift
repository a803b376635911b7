import Postgres

/// Where a text message stands (`sms_message.status`).
///
/// ```
/// queued ─claimed─▶ sending ─gateway took it─▶ sent ─delivery report─▶ delivered | failed | expired
/// sending ─gateway refused for good─▶ failed;  sending ─claim ran out / retryable─▶ queued
/// ```
enum SMSStatus: String, Codable, CaseIterable, PostgresCodable {
    case queued
    case sending
    case sent
    case delivered
    case failed
    case expired

    /// A delivery report may still change it (`delivered` is final; so are `failed` and `expired` from a report).
    var awaitsReport: Bool { self == .queued || self == .sending || self == .sent }
    /// Handed to the gateway or given up: the outbox will not send it (again), so the erasure pass may take
    /// the number of a message of no application.
    var hasLeftTheOutbox: Bool { self != .queued && self != .sending }
}
