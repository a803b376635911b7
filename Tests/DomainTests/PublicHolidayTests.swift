import Foundation
import Testing
@testable import Domain

@Suite("PublicHoliday")
struct PublicHolidayTests {
    @Test(arguments: [
        (1961, 4, 2), (2000, 4, 23), (2008, 3, 23), (2011, 4, 24), (2019, 4, 21), (2024, 3, 31),
        (2025, 4, 20), (2026, 4, 5), (2027, 3, 28), (2038, 4, 25), (2285, 3, 22), (1943, 4, 25),
    ])
    func easterSunday_matchesKnownDates(_ year: Int, _ month: Int, _ day: Int)  throws {
        #expect(PublicHoliday.easterSunday(year: year) == CivilDate.make(year, month, day))
    }

    @Test func easterSunday_isAlwaysASundayBetween22MarchAnd25April()  throws {
        for year in 1583...3000 {
            let easter = PublicHoliday.easterSunday(year: year)
            #expect(easter.isoWeekday == 7)
            #expect(easter >= CivilDate.make(year, 3, 22) && easter <= CivilDate.make(year, 4, 25))
        }
    }

    @Test func nationwideHolidays2025()  throws {
        let expected: [PublicHoliday: CivilDate] = [
            .neujahr: .make(2025, 1, 1), .karfreitag: .make(2025, 4, 18), .ostermontag: .make(2025, 4, 21),
            .tagDerArbeit: .make(2025, 5, 1), .christiHimmelfahrt: .make(2025, 5, 29), .pfingstmontag: .make(2025, 6, 9),
            .tagDerDeutschenEinheit: .make(2025, 10, 3), .ersterWeihnachtstag: .make(2025, 12, 25), .zweiterWeihnachtstag: .make(2025, 12, 26),
        ]
        for land in Bundesland.allCases {
            let holidays = PublicHoliday.holidays(in: 2025, land: land)
            for (holiday, date) in expected { #expect(holidays[date] == holiday, "\(land) \(holiday)") }
        }
    }

    @Test func nationwideHolidays2026()  throws {
        let expected: [PublicHoliday: CivilDate] = [
            .karfreitag: .make(2026, 4, 3), .ostermontag: .make(2026, 4, 6), .christiHimmelfahrt: .make(2026, 5, 14),
            .pfingstmontag: .make(2026, 5, 25),
        ]
        for land in Bundesland.allCases {
            for (holiday, date) in expected { #expect(PublicHoliday.holiday(on: date, in: land) == holiday) }
        }
    }

    @Test(arguments: [
        (PublicHoliday.heiligeDreiKoenige, CivilDate.make(2025, 1, 6), "BW BY ST"),
        (.internationalerFrauentag, .make(2025, 3, 8), "BE MV"),
        (.tagDerBefreiung, .make(2025, 5, 8), "BE"),
        (.fronleichnam, .make(2025, 6, 19), "BW BY HE NW RP SL"),
        (.fronleichnam, .make(2026, 6, 4), "BW BY HE NW RP SL"),
        (.mariaeHimmelfahrt, .make(2025, 8, 15), "SL"),
        (.weltkindertag, .make(2025, 9, 20), "TH"),
        (.reformationstag, .make(2025, 10, 31), "BB HB HH MV NI SN ST SH TH"),
        (.allerheiligen, .make(2025, 11, 1), "BW BY NW RP SL"),
        (.bussUndBettag, .make(2025, 11, 19), "SN"),
        (.bussUndBettag, .make(2026, 11, 18), "SN"),
        (.ostersonntag, .make(2026, 4, 5), "BB"),
        (.pfingstsonntag, .make(2026, 5, 24), "BB"),
    ])
    func regionalHolidays_holdExactlyInTheirLaender(_ holiday: PublicHoliday, _ date: CivilDate, _ codes: String)  throws {
        let lands = Set(codes.split(separator: " ").compactMap { Bundesland(rawValue: String($0)) })
        #expect(lands.count == codes.split(separator: " ").count)
        for land in Bundesland.allCases {
            #expect((PublicHoliday.holiday(on: date, in: land) == holiday) == lands.contains(land), "\(land)")
        }
    }

    @Test func historicalChanges_areRespected()  throws {
        #expect(PublicHoliday.holiday(on: .make(2022, 3, 8), in: .mecklenburgVorpommern) == nil)
        #expect(PublicHoliday.holiday(on: .make(2023, 3, 8), in: .mecklenburgVorpommern) == .internationalerFrauentag)
        #expect(PublicHoliday.holiday(on: .make(2018, 3, 8), in: .berlin) == nil)
        #expect(PublicHoliday.holiday(on: .make(2016, 10, 31), in: .niedersachsen) == nil)
        #expect(PublicHoliday.holiday(on: .make(2017, 10, 31), in: .bayern) == .reformationstag)
        #expect(PublicHoliday.holiday(on: .make(2018, 10, 31), in: .hamburg) == .reformationstag)
        #expect(PublicHoliday.holiday(on: .make(2026, 5, 8), in: .berlin) == nil)
        #expect(PublicHoliday.holiday(on: .make(2018, 9, 20), in: .thueringen) == nil)
    }

    @Test func mariaeHimmelfahrt_isNotStateWideInBavaria()  throws {
        #expect(PublicHoliday.holiday(on: .make(2025, 8, 15), in: .bayern) == nil)
    }

    @Test func holidayCounts2025_perLand()  throws {
        let expected: [Bundesland: Int] = [
            .badenWuerttemberg: 12, .bayern: 12, .berlin: 11, .brandenburg: 12, .bremen: 10, .hamburg: 10, .hessen: 10,
            .mecklenburgVorpommern: 11, .niedersachsen: 10, .nordrheinWestfalen: 11, .rheinlandPfalz: 11, .saarland: 12,
            .sachsen: 11, .sachsenAnhalt: 11, .schleswigHolstein: 10, .thueringen: 11,
        ]
        for land in Bundesland.allCases {
            #expect(PublicHoliday.holidays(in: 2025, land: land).count == expected[land], "\(land)")
        }
    }

    @Test func bussUndBettag_isTheWednesdayBefore23November()  throws {
        for year in 1995...2100 {
            let day = PublicHoliday.bussUndBettag(year: year)
            #expect(day.isoWeekday == 3)
            #expect(day.month == 11 && (16...22).contains(day.day))
        }
        #expect(PublicHoliday.bussUndBettag(year: 2024) == .make(2024, 11, 20))
        #expect(PublicHoliday.bussUndBettag(year: 2023) == .make(2023, 11, 22))
    }

    @Test func holidays_outsideTheGregorianRangeAreEmpty()  throws {
        #expect(PublicHoliday.holidays(in: 1500, land: .bayern).isEmpty)
        #expect(PublicHoliday.holidays(in: 10_000, land: .bayern).isEmpty)
    }

    @Test func bundesland_hasAllSixteenCodes()  throws {
        #expect(Bundesland.allCases.map(\.rawValue).sorted() == ["BB", "BE", "BW", "BY", "HB", "HE", "HH", "MV", "NI", "NW", "RP", "SH", "SL", "SN", "ST", "TH"])
    }
}
