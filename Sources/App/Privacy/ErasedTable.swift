import Foundation

/// The tables whose personal data the erasure pass erases or trims (PRIVACY.md#erasure-on-schedule); raw values are the
/// table names, as receipts, the dry run and the metrics name them.
enum ErasedTable: String, CaseIterable, Codable, Sendable {
    /// Names, date of birth, mobile number, CAN hash, proxy name, cancellation reason, household,
    /// fee exemption reason and accessibility need (set to NULL / false).
    case application
    /// The document number (replaced by `erased-<random>`).
    case document
    /// The document number of delivery note items, of erased applications and unmatched ones.
    case deliveryItem = "delivery_item"
    /// The number, the text and the gateway's error text.
    case smsMessage = "sms_message"
    /// The mobile number a four-eyes request named (a change of number, or where a new PIN goes).
    case staffApproval = "staff_approval"
    /// The client address (the event itself stays: the log is append-only).
    case auditEvent = "audit_event"
    /// Stored answers of `Idempotency-Key` requests (they contain the application).
    case idempotencyKey = "idempotency_key"
    /// Failed-login counters keyed by username or address, past their window (installation-wide).
    case loginThrottle = "login_throttle"
    /// Pickup attempts at a box, past the box's failure window.
    case pickupAttempt = "pickup_attempt"
    /// Pickup sessions (mobile number and PIN matched), an hour after they expired.
    case pickupSession = "pickup_session"
    /// Staff sessions, after they expired.
    case session

    /// Rows per table; absent tables count 0.
    typealias Counts = [ErasedTable: Int]
}

extension Dictionary where Key == ErasedTable, Value == Int {
    /// `{"application": 3, …}` with the tables that have rows, for a jsonb column or an answer.
    var byName: [String: Int] {
        Dictionary<String, Int>(uniqueKeysWithValues: filter { $0.value > 0 }.map { ($0.key.rawValue, $0.value) })
    }

    /// Adds `other` table by table.
    func adding(_ other: [ErasedTable: Int]) -> [ErasedTable: Int] {
        merging(other, uniquingKeysWith: +)
    }

    /// From a jsonb object written by ``byName`` (unknown names are ignored: a newer server's tables).
    init(jsonText: String?) {
        self.init()
        guard let jsonText, let object = try? JSONDecoder().decode([String: Int].self, from: Data(jsonText.utf8)) else { return }
        for (name, count) in object {
            if let table = ErasedTable(rawValue: name) { self[table] = count }
        }
    }
}
