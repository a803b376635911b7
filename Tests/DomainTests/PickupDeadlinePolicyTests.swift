import Foundation
import Testing
@testable import Domain

@Suite("PickupDeadlinePolicy")
struct PickupDeadlinePolicyTests {
    @Test func standard_isTenWorkingDays()  throws {
        #expect(PickupDeadlinePolicy.standard.kind == .workingDays(10))
    }

    @Test func workingDays_countFromTheDayAfterLoading_plainFortnight()  throws {
        #expect(PickupDeadlinePolicy.standard.deadline(from: .make(2025, 2, 3), in: .hessen) == .make(2025, 2, 17))
        #expect(PickupDeadlinePolicy.standard.deadline(from: .make(2025, 2, 7), in: .hessen) == .make(2025, 2, 21))
        // Loaded on a Saturday: Monday is day 1.
        #expect(PickupDeadlinePolicy.standard.deadline(from: .make(2025, 2, 8), in: .hessen) == .make(2025, 2, 21))
    }

    @Test func workingDays_skipEasterAndMayDay()  throws {
        #expect(PickupDeadlinePolicy.standard.deadline(from: .make(2025, 4, 16), in: .berlin) == .make(2025, 5, 5))
    }

    @Test func workingDays_skipTheLandsOwnHolidays()  throws {
        // 8 May 2025 was a holiday in Berlin only.
        #expect(PickupDeadlinePolicy.standard.deadline(from: .make(2025, 5, 5), in: .berlin) == .make(2025, 5, 20))
        #expect(PickupDeadlinePolicy.standard.deadline(from: .make(2025, 5, 5), in: .brandenburg) == .make(2025, 5, 19))
        // Fronleichnam 19 June 2025 in NRW, not in Lower Saxony.
        let policy = try? PickupDeadlinePolicy(.workingDays(5))
        #expect(policy?.deadline(from: .make(2025, 6, 16), in: .nordrheinWestfalen) == .make(2025, 6, 24))
        #expect(policy?.deadline(from: .make(2025, 6, 16), in: .niedersachsen) == .make(2025, 6, 23))
    }

    @Test func workingDays_crossTheYearWithChristmasNewYearAndEpiphany()  throws {
        #expect(PickupDeadlinePolicy.standard.deadline(from: .make(2025, 12, 19), in: .nordrheinWestfalen) == .make(2026, 1, 7))
        #expect(PickupDeadlinePolicy.standard.deadline(from: .make(2025, 12, 19), in: .bayern) == .make(2026, 1, 8))
    }

    @Test func workingDays_skipBussUndBettagInSaxony() throws {
        let policy = try PickupDeadlinePolicy(.workingDays(1))
        #expect(policy.deadline(from: .make(2025, 11, 18), in: .sachsen) == .make(2025, 11, 20))
        #expect(policy.deadline(from: .make(2025, 11, 18), in: .thueringen) == .make(2025, 11, 19))
    }

    @Test func calendarDays_countEveryDay() throws {
        let policy = try PickupDeadlinePolicy(.calendarDays(7))
        #expect(policy.deadline(from: .make(2025, 12, 28), in: .berlin) == .make(2026, 1, 4))
        #expect(policy.deadline(from: .make(2024, 2, 25), in: .berlin) == .make(2024, 3, 3))
    }

    @Test func deadline_isAlwaysAWorkingDayAndAfterLoading() throws {
        for length in [1, 5, 10, 60] {
            let policy = try PickupDeadlinePolicy(.workingDays(length))
            for land in Bundesland.allCases {
                var day = CivilDate.make(2025, 1, 1)
                while day.year < 2027 {
                    let deadline = policy.deadline(from: day, in: land)
                    #expect(deadline > day)
                    #expect(PickupDeadlinePolicy.isWorkingDay(deadline, in: land))
                    #expect(day.days(until: deadline) >= length)
                    day = day.adding(days: 13)
                }
            }
        }
    }

    @Test(arguments: [0, -1, 61, Int.max, Int.min])
    func init_refusesLengthsOutOfRange(_ length: Int)  throws {
        #expect(throws: DomainError.invalidConfiguration(field: "pickup_deadline")) { try PickupDeadlinePolicy(.workingDays(length)) }
        #expect(throws: DomainError.invalidConfiguration(field: "pickup_deadline")) { try PickupDeadlinePolicy(.calendarDays(length)) }
    }

    @Test func deadline_nearTheEndOfTheCalendarDoesNotTrap() throws {
        let policy = try PickupDeadlinePolicy(.calendarDays(60))
        #expect(policy.deadline(from: .make(9999, 12, 20), in: .berlin) == .make(9999, 12, 31))
        _ = PickupDeadlinePolicy.standard.deadline(from: .make(9999, 12, 20), in: .berlin)
    }
}
