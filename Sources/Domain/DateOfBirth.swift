import Foundation

/// A date of birth as written on the applicant's documents — full or partial.
///
/// Foreigners' documents often carry partial dates: `00.00.1985` or `XX.XX.1985` (day and month
/// unknown), `00.05.1985` (day unknown). Accepted input, surrounding blanks ignored:
/// - `DD.MM.YYYY` (day and month may be written with one digit: `1.5.1985`),
/// - ISO `YYYY-MM-DD`,
/// where an unknown day or month is `00`, `0`, or `XX`/`xx`.
///
/// Refused (`invalid_date_of_birth`): impossible dates (31.02., month 13), years before 1900, dates
/// after the injected `today` (for a partial date: a year, or year and month, after today's), and
/// an unknown month with a known day (`15.00.1985`), which no document has.
///
/// Stored and compared exactly as given, in the canonical form ``canonical`` (`1985-00-00`,
/// `1985-05-00`, `1985-05-15`): the box asks for the date as printed on the document, so
/// `00.00.1985` matches only `00.00.1985`, never `01.01.1985`.
///
/// ``description`` is redacted (dates of birth must not reach logs); use ``canonical`` on purpose.
public struct DateOfBirth: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The year, 1900 or later.
    public let year: Int
    /// 1…12, or nil when unknown.
    public let month: Int?
    /// 1…31, or nil when unknown (then the month may be known or not).
    public let day: Int?

    /// The earliest year accepted.
    public static let earliestYear = 1900

    /// Parses a date of birth typed by a caseworker or an applicant at the box.
    public init(_ text: String, today: CivilDate, field: String = "date_of_birth") throws(DomainError) {
        try self.init(parsing: text, today: today, field: field)
    }

    /// A date of birth from its parts (nil = unknown), validated like parsed input.
    public init(year: Int, month: Int?, day: Int?, today: CivilDate, field: String = "date_of_birth") throws(DomainError) {
        try self.init(validating: year, month, day, today: today, field: field)
    }

    private init(parsing text: String, today: CivilDate?, field: String) throws(DomainError) {
        guard text.utf8.count <= 32 else { throw .invalidDateOfBirth(field: field) }
        let bytes = ASCII.trimmed(Array(text.utf8))
        let dotted = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        let dashed = bytes.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        let parts: (year: ArraySlice<UInt8>, month: ArraySlice<UInt8>, day: ArraySlice<UInt8>)
        if dotted.count == 3, dashed.count == 1, (1...2).contains(dotted[0].count), (1...2).contains(dotted[1].count) {
            parts = (dotted[2], dotted[1], dotted[0])
        } else if dashed.count == 3, dotted.count == 1, dashed[1].count == 2, dashed[2].count == 2 {
            parts = (dashed[0], dashed[1], dashed[2])
        } else {
            throw .invalidDateOfBirth(field: field)
        }
        guard parts.year.count == 4, let year = ASCII.number(parts.year),
              let month = Part(parts.month), let day = Part(parts.day)
        else { throw .invalidDateOfBirth(field: field) }
        try self.init(validating: year, month.number, day.number, today: today, field: field)
    }

    /// A day or month as typed: a number, or unknown (`0`, `00`, `XX`, `xx`).
    private enum Part {
        case unknown
        case known(Int)

        init?(_ bytes: ArraySlice<UInt8>) {
            if bytes.count == 2, bytes.allSatisfy({ $0 == UInt8(ascii: "X") || $0 == UInt8(ascii: "x") }) {
                self = .unknown
                return
            }
            guard let number = ASCII.number(bytes) else { return nil }
            self = number == 0 ? .unknown : .known(number)
        }

        var number: Int? {
            if case .known(let number) = self { return number }
            return nil
        }
    }

    private init(validating year: Int, _ month: Int?, _ day: Int?, today: CivilDate?, field: String) throws(DomainError) {
        guard year >= Self.earliestYear, year <= 9999 else { throw .invalidDateOfBirth(field: field) }
        if let month {
            guard (1...12).contains(month) else { throw .invalidDateOfBirth(field: field) }
            if let day, !CivilDate.isValid(year: year, month: month, day: day) { throw .invalidDateOfBirth(field: field) }
        } else if day != nil {
            throw .invalidDateOfBirth(field: field)
        }
        if let today {
            // Refuse only what is certainly in the future: compare the known parts.
            let isFuture = switch (month, day) {
            case (nil, _): year > today.year
            case (let month?, nil): (year, month) > (today.year, today.month)
            case (let month?, let day?): (year, month, day) > (today.year, today.month, today.day)
            }
            if isFuture { throw .invalidDateOfBirth(field: field) }
        }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Day or month unknown.
    public var isPartial: Bool { day == nil }

    /// `YYYY-MM-DD` with `00` for unknown parts; what is stored and compared.
    public var canonical: String { ASCII.pad(year, 4) + "-" + ASCII.pad(month ?? 0, 2) + "-" + ASCII.pad(day ?? 0, 2) }

    /// `DD.MM.YYYY` with `00` for unknown parts, as German documents print it.
    public var germanFormat: String { ASCII.pad(day ?? 0, 2) + "." + ASCII.pad(month ?? 0, 2) + "." + ASCII.pad(year, 4) }

    /// Whether the date entered at the box is the stored one: equal canonical forms, nothing fuzzy.
    public func matches(_ entered: DateOfBirth) -> Bool { canonical == entered.canonical }

    /// The latest day the person can have been born on (unknown month → December, unknown day →
    /// last day of the month). Used where ambiguity must favour the applicant (fees).
    public var latestPossibleBirthday: CivilDate {
        let month = month ?? 12
        return CivilDate(unchecked: year, month, day ?? CivilDate.daysInMonth(year: year, month: month))
    }

    public var description: String { "DateOfBirth(redacted)" }

    /// Decodes ``canonical`` (no future check: stored values were checked when they were entered).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(parsing: text, today: nil, field: "date_of_birth")
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a date of birth")
        }
    }

    /// Encodes ``canonical``.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(canonical)
    }
}
