import DecimalParsing
import Foundation

/// A wall-clock time "HH:MM" of a site's pickup hours, as minutes after midnight (0…1440).
struct TimeOfDay: Comparable {
    let minutes: Int

    /// Parses exactly `HH:MM` with ASCII digits (so `٠٦:٠٠` and `6:00` are refused); `24:00` only
    /// when `allowEndOfDay` (a closing time: open until midnight).
    static func parse(_ text: String, field: String, allowEndOfDay: Bool) throws -> TimeOfDay {
        let b = Array(text.utf8.prefix(6))
        guard b.count == 5, b[2] == UInt8(ascii: ":"), let hour = Int(decimal: b[0..<2]), let minute = Int(decimal: b[3..<5]) else {
            throw ServiceError.invalid(field, "invalid_time", "Use the 24-hour form HH:MM, e.g. 07:30.")
        }
        let valid = (hour < 24 && minute < 60) || (allowEndOfDay && hour == 24 && minute == 0)
        guard valid else { throw ServiceError.invalid(field, "invalid_time", "Use the 24-hour form HH:MM, e.g. 07:30.") }
        return TimeOfDay(minutes: hour * 60 + minute)
    }

    /// "HH:MM" (PostgreSQL reads it as `time`; 24:00 is its end of day).
    var text: String {
        let h = minutes / 60, m = minutes % 60
        return (h < 10 ? "0" : "") + String(h) + ":" + (m < 10 ? "0" : "") + String(m)
    }

    static func < (lhs: TimeOfDay, rhs: TimeOfDay) -> Bool { lhs.minutes < rhs.minutes }
}
