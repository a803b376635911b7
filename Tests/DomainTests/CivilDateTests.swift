import Foundation
import Testing
@testable import Domain

@Suite("CivilDate")
struct CivilDateTests {
    @Test func init_refusesImpossibleDates()  throws {
        for (y, m, d) in [(2025, 2, 29), (2025, 13, 1), (2025, 0, 1), (2025, 1, 0), (2025, 4, 31), (0, 1, 1), (10_000, 1, 1), (Int.min, 1, 1), (2025, Int.max, 1)] {
            #expect(throws: DomainError.invalidDate(field: "date")) { try CivilDate(year: y, month: m, day: d) }
        }
        #expect((try? CivilDate(year: 2024, month: 2, day: 29)) != nil)
    }

    @Test func leapYears_followTheGregorianRule()  throws {
        #expect(CivilDate.isLeapYear(2024))
        #expect(!CivilDate.isLeapYear(2025))
        #expect(!CivilDate.isLeapYear(1900))
        #expect(CivilDate.isLeapYear(2000))
    }

    @Test func daysSinceEpoch_knownValues()  throws {
        #expect(CivilDate.make(1970, 1, 1).daysSinceEpoch == 0)
        #expect(CivilDate.make(2000, 3, 1).daysSinceEpoch == 11_017)
        #expect(CivilDate.make(1969, 12, 31).daysSinceEpoch == -1)
        #expect(CivilDate.make(1, 1, 1).daysSinceEpoch == -719_162)
        #expect(CivilDate.make(9999, 12, 31).daysSinceEpoch == 2_932_896)
    }

    @Test func daysSinceEpoch_roundTripsEveryDayFrom1800To2200()  throws {
        var expected = CivilDate.make(1800, 1, 1).daysSinceEpoch
        for year in 1800...2200 {
            for month in 1...12 {
                for day in 1...CivilDate.daysInMonth(year: year, month: month) {
                    let date = CivilDate.make(year, month, day)
                    #expect(date.daysSinceEpoch == expected)
                    #expect(CivilDate(daysSinceEpoch: expected) == date)
                    expected += 1
                }
            }
        }
    }

    @Test func initDaysSinceEpoch_refusesOutOfRange()  throws {
        #expect(CivilDate(daysSinceEpoch: -719_163) == nil)
        #expect(CivilDate(daysSinceEpoch: 2_932_897) == nil)
        #expect(CivilDate(daysSinceEpoch: .max) == nil)
        #expect(CivilDate(daysSinceEpoch: .min) == nil)
    }

    @Test func adding_movesAcrossMonthsYearsAndLeapDays()  throws {
        #expect(CivilDate.make(2024, 2, 28).adding(days: 1) == .make(2024, 2, 29))
        #expect(CivilDate.make(2025, 2, 28).adding(days: 1) == .make(2025, 3, 1))
        #expect(CivilDate.make(2025, 12, 31).adding(days: 1) == .make(2026, 1, 1))
        #expect(CivilDate.make(2025, 1, 1).adding(days: -1) == .make(2024, 12, 31))
        #expect(CivilDate.make(2025, 1, 1).adding(days: 365) == .make(2026, 1, 1))
        #expect(CivilDate.make(2025, 1, 1).days(until: .make(2026, 1, 1)) == 365)
        #expect(CivilDate.make(2025, 1, 1).adding(days: .max) == .make(9999, 12, 31))
        #expect(CivilDate.make(2025, 1, 1).adding(days: .min) == .make(1, 1, 1))
    }

    @Test func isoWeekday_knownDays()  throws {
        #expect(CivilDate.make(1970, 1, 1).isoWeekday == 4)
        #expect(CivilDate.make(2025, 6, 15).isoWeekday == 7)
        #expect(CivilDate.make(2025, 6, 16).isoWeekday == 1)
        #expect(CivilDate.make(1900, 1, 1).isoWeekday == 1)
        #expect(CivilDate.make(2025, 6, 14).isWeekend)
        #expect(!CivilDate.make(2025, 6, 13).isWeekend)
    }

    @Test func isoWeekday_agreesWithFoundation() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        var day = CivilDate.make(1960, 1, 1)
        while day.year < 2060 {
            let date = try #require(calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day, hour: 12)))
            let foundation = calendar.component(.weekday, from: date) // 1 = Sunday
            #expect(day.isoWeekday == (foundation + 5) % 7 + 1)
            day = day.adding(days: 97)
        }
    }

    @Test func initDate_usesTheSitesTimeZone() throws {
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        let utc = try #require(TimeZone(identifier: "UTC"))
        let summerMidnight = Date(timeIntervalSince1970: 1_743_373_800) // 2025-03-30T22:30:00Z
        #expect(CivilDate(date: summerMidnight, timeZone: berlin) == .make(2025, 3, 31))
        #expect(CivilDate(date: summerMidnight, timeZone: utc) == .make(2025, 3, 30))
        let newYear = Date(timeIntervalSince1970: 1_767_223_800) // 2025-12-31T23:30:00Z
        #expect(CivilDate(date: newYear, timeZone: berlin) == .make(2026, 1, 1))
        #expect(CivilDate(date: newYear, timeZone: utc) == .make(2025, 12, 31))
        #expect(CivilDate(date: .distantFuture, timeZone: berlin) == .make(4001, 1, 1))
        #expect(CivilDate(date: .distantPast, timeZone: berlin) == .make(1, 1, 1))
        #expect(CivilDate(date: Date(timeIntervalSince1970: 1e300), timeZone: utc) == .make(9999, 12, 31))
        #expect(CivilDate(date: Date(timeIntervalSince1970: -1e300), timeZone: utc) == .make(1, 1, 1))
        #expect(CivilDate(date: Date(timeIntervalSince1970: .nan), timeZone: utc) == .make(1970, 1, 1))
    }

    /// The day arithmetic gives Foundation's Gregorian calendar's day, in zones with whole, half and
    /// quarter hours and with summer time, at instants spread over 1900–2200 and at each side of midnight.
    @Test func initDate_agreesWithFoundationsCalendar() throws {
        var generator = SystemRandomNumberGenerator()
        for identifier in ["Europe/Berlin", "UTC", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Pacific/Chatham", "Pacific/Kiritimati"] {
            let zone = try #require(TimeZone(identifier: identifier))
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            var instants = (0..<2_000).map { _ in Double.random(in: -2_208_988_800...7_258_118_400, using: &generator) }
            for midnight in stride(from: 1_735_689_600.0, to: 1_767_225_600, by: 86_400 * 7) { instants += [midnight - 1, midnight, midnight + 1] }
            for seconds in instants {
                let date = Date(timeIntervalSince1970: seconds.rounded(.down))
                let parts = calendar.dateComponents([.year, .month, .day], from: date)
                #expect(CivilDate(date: date, timeZone: zone) == .make(parts.year ?? 0, parts.month ?? 0, parts.day ?? 0), "\(identifier) \(seconds)")
            }
        }
    }

    @Test func iso_parsesAndPrints() throws {
        #expect(try CivilDate(iso: "2025-06-15") == .make(2025, 6, 15))
        #expect(CivilDate.make(7, 3, 9).iso == "0007-03-09")
        for bad in ["2025-6-15", "2025-06-31", "20250615", "2025-06-15 ", "２０２５-06-15", "", "2025/06/15"] {
            #expect(throws: DomainError.self) { try CivilDate(iso: bad) }
        }
    }

    @Test func comparable_ordersChronologically()  throws {
        #expect(CivilDate.make(2025, 1, 31) < .make(2025, 2, 1))
        #expect(CivilDate.make(2024, 12, 31) < .make(2025, 1, 1))
        #expect(!(CivilDate.make(2025, 1, 1) < .make(2025, 1, 1)))
    }

    @Test func codable_roundTripsISO() throws {
        let data = try JSONEncoder().encode([CivilDate.make(2025, 6, 15)])
        #expect(String(decoding: data, as: UTF8.self) == "[\"2025-06-15\"]")
        #expect(try JSONDecoder().decode([CivilDate].self, from: data) == [.make(2025, 6, 15)])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([CivilDate].self, from: Data("[\"2025-02-30\"]".utf8)) }
    }
}
