import Foundation

/// How long a document waits in the box before staff take it out (docs/ARCHITECTURE.md#deadline: deployed boxes
/// hold 7 calendar days to 10 working days; default 10 working days).
public struct PickupDeadlinePolicy: Sendable, Hashable {
    /// The length of the holding period.
    public enum Kind: Sendable, Hashable {
        /// Monday–Friday that are not a public holiday of the site's Land. Saturdays do not count
        /// (the authority's staff do not work then, and retrieval is staff work).
        case workingDays(Int)
        /// Every day counts; a deadline on a weekend or holiday is not moved.
        case calendarDays(Int)
    }

    /// The accepted length, for either kind.
    public static let allowedLength = 1...60

    /// 10 working days.
    public static let standard = PickupDeadlinePolicy(validated: .workingDays(10))

    public let kind: Kind

    /// A policy; throws `invalid_configuration` unless the length is within ``allowedLength``.
    public init(_ kind: Kind, field: String = "pickup_deadline") throws(DomainError) {
        let length = switch kind {
        case .workingDays(let days), .calendarDays(let days): days
        }
        guard Self.allowedLength.contains(length) else { throw .invalidConfiguration(field: field) }
        self.kind = kind
    }

    private init(validated kind: Kind) { self.kind = kind }

    /// The last day the document can be collected from the box, for a document loaded on
    /// `loadedDay`. The day after loading is day 1 (a document loaded on Friday afternoon does not
    /// lose a day); the returned day is the last counted day, the document stays until its end.
    public func deadline(from loadedDay: CivilDate, in land: Bundesland) -> CivilDate {
        switch kind {
        case .calendarDays(let days):
            return loadedDay.adding(days: days)
        case .workingDays(let days):
            var holidays = PublicHoliday.holidays(in: loadedDay.year, land: land)
            var holidayYear = loadedDay.year
            var day = loadedDay
            var counted = 0
            // Bounded: 60 working days never span more than a few months.
            for _ in 0..<366 {
                day = day.adding(days: 1)
                if day.year != holidayYear {
                    holidayYear = day.year
                    holidays = PublicHoliday.holidays(in: day.year, land: land)
                }
                if !day.isWeekend, holidays[day] == nil {
                    counted += 1
                    if counted == days { return day }
                }
            }
            return day
        }
    }

    /// Whether `day` is a working day (Monday–Friday, no public holiday) in `land`.
    public static func isWorkingDay(_ day: CivilDate, in land: Bundesland) -> Bool {
        !day.isWeekend && PublicHoliday.holiday(on: day, in: land) == nil
    }
}
