import Foundation

/// A day in the proleptic Gregorian calendar, without time or time zone (e.g. the day a document
/// was loaded, a pickup deadline, a public holiday).
///
/// Arithmetic is done on a day count since 1970-01-01 (the `days_from_civil` / `civil_from_days`
/// algorithms of Howard Hinnant), so it needs no `Calendar`. Encodes as `YYYY-MM-DD`.
public struct CivilDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// 1…9999.
    public let year: Int
    /// 1…12.
    public let month: Int
    /// 1…(days in month).
    public let day: Int

    /// The range of years this type accepts.
    public static let yearRange = 1...9999

    /// A validated date; throws `invalid_date` for 31.02., month 13, year 0, …
    public init(year: Int, month: Int, day: Int, field: String = "date") throws(DomainError) {
        guard CivilDate.isValid(year: year, month: month, day: day) else { throw .invalidDate(field: field) }
        self.init(unchecked: year, month, day)
    }

    init(unchecked year: Int, _ month: Int, _ day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses the ISO form `YYYY-MM-DD` (exactly that, ASCII digits only).
    public init(iso text: String, field: String = "date") throws(DomainError) {
        let bytes = Array(text.utf8.prefix(11))
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              let year = ASCII.number(bytes[0..<4]), let month = ASCII.number(bytes[5..<7]),
              let day = ASCII.number(bytes[8..<10])
        else { throw .invalidDate(field: field) }
        try self.init(year: year, month: month, day: day, field: field)
    }

    /// The calendar day of `date` in `timeZone` (for the sites: `Europe/Berlin`), clamped to ``yearRange``.
    /// The zone's offset at that instant, then day arithmetic: no `Calendar` is made (making one cost a
    /// pickup's factors step ~8 µs, BENCHMARKS.md). Before 1582 the day is the proleptic Gregorian one,
    /// where Foundation's Gregorian calendar would give the Julian day.
    public init(date: Date, timeZone: TimeZone) {
        let local = date.timeIntervalSince1970 + Double(timeZone.secondsFromGMT(for: date))
        // Bounded before the conversion, which would trap on NaN or out of Int's range.
        let days = local.isNaN ? 0 : (min(max(local, -1e14), 1e14) / 86_400).rounded(.down)
        if let day = CivilDate(daysSinceEpoch: Int(days)) {
            self = day
        } else {
            self = days < 0 ? CivilDate(unchecked: 1, 1, 1) : CivilDate(unchecked: 9999, 12, 31)
        }
    }

    /// Whether the three numbers form a real date within ``yearRange``.
    public static func isValid(year: Int, month: Int, day: Int) -> Bool {
        yearRange.contains(year) && (1...12).contains(month) && day >= 1 && day <= daysInMonth(year: year, month: month)
    }

    /// Gregorian leap-year rule.
    public static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    /// 28…31 for months 1…12, 0 for anything else.
    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 1, 3, 5, 7, 8, 10, 12: 31
        case 4, 6, 9, 11: 30
        case 2: isLeapYear(year) ? 29 : 28
        default: 0
        }
    }

    /// Days since 1970-01-01 (negative before).
    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `daysSinceEpoch` days after 1970-01-01, or nil outside ``yearRange``.
    public init?(daysSinceEpoch: Int) {
        // Bound first so the arithmetic below cannot overflow.
        guard daysSinceEpoch >= -719_162, daysSinceEpoch <= 2_932_896 else { return nil }
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        guard CivilDate.yearRange.contains(year) else { return nil }
        self.init(unchecked: year, month, day)
    }

    /// The date `days` later (earlier when negative), clamped to ``yearRange``.
    public func adding(days: Int) -> CivilDate {
        let (target, overflow) = daysSinceEpoch.addingReportingOverflow(days)
        if !overflow, let date = CivilDate(daysSinceEpoch: target) { return date }
        return days < 0 ? CivilDate(unchecked: 1, 1, 1) : CivilDate(unchecked: 9999, 12, 31)
    }

    /// Days from `self` to `other` (positive when `other` is later).
    public func days(until other: CivilDate) -> Int { other.daysSinceEpoch - daysSinceEpoch }

    /// ISO 8601 weekday: 1 = Monday … 7 = Sunday.
    public var isoWeekday: Int {
        // 1970-01-01 was a Thursday (4).
        let mod = ((daysSinceEpoch % 7) + 7) % 7
        return (mod + 3) % 7 + 1
    }

    /// Saturday or Sunday.
    public var isWeekend: Bool { isoWeekday >= 6 }

    /// `YYYY-MM-DD`.
    public var iso: String { ASCII.pad(year, 4) + "-" + ASCII.pad(month, 2) + "-" + ASCII.pad(day, 2) }

    public var description: String { iso }

    public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(iso: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a YYYY-MM-DD date")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(iso)
    }
}
