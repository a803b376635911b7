import Foundation
import Testing
@testable import Domain

@Suite("FeeSchedule")
struct FeeScheduleTests {
    static let day = CivilDate.make(2025, 6, 15)

    static func dob(_ text: String) throws -> DateOfBirth { try DateOfBirth(text, today: day) }

    @Test(arguments: [
        (Issuance.first, "15.05.1985", 10_000),
        (Issuance.first, "15.05.2010", 5_000),
        (Issuance.renewal, "15.05.1985", 9_300),
        (Issuance.renewal, "15.05.2010", 4_650),
    ])
    func feeCents_followsTheSchedule(_ issuance: Issuance, _ birth: String, _ cents: Int) throws {
        #expect(FeeSchedule.feeCents(issuance: issuance, exemption: nil, dateOfBirth: try Self.dob(birth), on: Self.day) == cents)
    }

    @Test func feeCents_isZeroForEveryExemption() throws {
        for exemption in FeeExemption.allCases {
            for issuance in Issuance.allCases {
                for birth in ["15.05.1985", "15.05.2010", "00.00.2007"] {
                    #expect(FeeSchedule.feeCents(issuance: issuance, exemption: exemption, dateOfBirth: try Self.dob(birth), on: Self.day) == 0)
                }
            }
        }
    }

    @Test func isMinor_switchesOnTheEighteenthBirthday() throws {
        let birth = try Self.dob("15.06.2007")
        #expect(FeeSchedule.isMinor(birth, on: CivilDate.make(2025, 6, 14)))
        #expect(!FeeSchedule.isMinor(birth, on: CivilDate.make(2025, 6, 15)))
        #expect(!FeeSchedule.isMinor(birth, on: CivilDate.make(2025, 6, 16)))
    }

    @Test func isMinor_leapDayBirthComesOfAgeOnFirstMarch() throws {
        let birth = try DateOfBirth("29.02.2008", today: CivilDate.make(2026, 6, 1))
        #expect(FeeSchedule.comingOfAge(birth) == CivilDate.make(2026, 3, 1))
        #expect(FeeSchedule.isMinor(birth, on: CivilDate.make(2026, 2, 28)))
        #expect(!FeeSchedule.isMinor(birth, on: CivilDate.make(2026, 3, 1)))
        let leapToLeap = try DateOfBirth("29.02.2004", today: CivilDate.make(2026, 6, 1))
        #expect(FeeSchedule.comingOfAge(leapToLeap) == CivilDate.make(2022, 3, 1))
        let leap = try DateOfBirth("29.02.2000", today: CivilDate.make(2026, 6, 1))
        #expect(FeeSchedule.comingOfAge(leap) == CivilDate.make(2018, 3, 1))
    }

    @Test func partialDateOfBirth_favoursTheApplicant_unknownDayAndMonth() throws {
        // Born some day in 2007: certainly 18 only from 31 Dec 2025.
        let birth = try DateOfBirth("00.00.2007", today: CivilDate.make(2025, 12, 31))
        #expect(FeeSchedule.comingOfAge(birth) == CivilDate.make(2025, 12, 31))
        #expect(FeeSchedule.feeCents(issuance: .first, exemption: nil, dateOfBirth: birth, on: CivilDate.make(2025, 1, 2)) == 5_000)
        #expect(FeeSchedule.feeCents(issuance: .first, exemption: nil, dateOfBirth: birth, on: CivilDate.make(2025, 12, 30)) == 5_000)
        #expect(FeeSchedule.feeCents(issuance: .first, exemption: nil, dateOfBirth: birth, on: CivilDate.make(2025, 12, 31)) == 10_000)
    }

    @Test func partialDateOfBirth_favoursTheApplicant_unknownDay() throws {
        let birth = try DateOfBirth("00.02.2008", today: CivilDate.make(2026, 6, 1))
        #expect(FeeSchedule.comingOfAge(birth) == CivilDate.make(2026, 3, 1))
        #expect(FeeSchedule.feeCents(issuance: .renewal, exemption: nil, dateOfBirth: birth, on: CivilDate.make(2026, 2, 28)) == 4_650)
        #expect(FeeSchedule.feeCents(issuance: .renewal, exemption: nil, dateOfBirth: birth, on: CivilDate.make(2026, 3, 1)) == 9_300)
        let april = try DateOfBirth("00.04.2008", today: CivilDate.make(2026, 6, 1))
        #expect(FeeSchedule.comingOfAge(april) == CivilDate.make(2026, 4, 30))
    }

    @Test func requireSettledForBox_refusesOnlyAnOpenNonZeroFee() throws {
        try FeeSchedule.requireSettledForBox(feeCents: 10_000, settled: true)
        try FeeSchedule.requireSettledForBox(feeCents: 0, settled: false)
        #expect(throws: DomainError.feeNotSettled(field: "fee_settled")) { try FeeSchedule.requireSettledForBox(feeCents: 4_650, settled: false) }
        #expect(FeeSchedule.isSettledForBox(feeCents: 0, settled: false))
        #expect(!FeeSchedule.isSettledForBox(feeCents: 1, settled: false))
    }

    @Test func feeExemption_rawValuesMatchTheDatabase()  throws {
        #expect(FeeExemption.allCases.map(\.rawValue) == ["sgb_ii", "sgb_xii", "asylblg", "recognised_refugee"])
        #expect(Issuance.allCases.map(\.rawValue) == ["first", "renewal"])
    }
}
