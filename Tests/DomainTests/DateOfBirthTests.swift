import Foundation
import Testing
@testable import Domain

@Suite("DateOfBirth")
struct DateOfBirthTests {
    static let today = CivilDate.make(2025, 6, 15)

    static func make(_ text: String, today: CivilDate = today) throws -> DateOfBirth {
        try DateOfBirth(text, today: today)
    }

    @Test(arguments: [
        ("15.05.1985", "1985-05-15"),
        ("1.5.1985", "1985-05-01"),
        ("01.05.1985", "1985-05-01"),
        ("1985-05-15", "1985-05-15"),
        ("00.00.1985", "1985-00-00"),
        ("XX.XX.1985", "1985-00-00"),
        ("xx.xx.1985", "1985-00-00"),
        ("0.0.1985", "1985-00-00"),
        ("00.05.1985", "1985-05-00"),
        ("XX.05.1985", "1985-05-00"),
        ("1985-00-00", "1985-00-00"),
        ("1985-05-00", "1985-05-00"),
        ("1985-XX-XX", "1985-00-00"),
        ("  15.05.1985 ", "1985-05-15"),
        ("29.02.2000", "2000-02-29"),
        ("01.01.1900", "1900-01-01"),
        ("15.06.2025", "2025-06-15"),
        ("00.06.2025", "2025-06-00"),
        ("00.00.2025", "2025-00-00"),
    ])
    func parse_acceptsFullAndPartialDates(_ input: String, _ canonical: String) throws {
        let date = try Self.make(input)
        #expect(date.canonical == canonical)
        #expect(date.isPartial == canonical.hasSuffix("-00"))
    }

    @Test(arguments: [
        "31.02.1985", "29.02.1900", "29.02.2023", "32.01.1985", "00.13.1985", "15.13.1985", "15.00.1985", "1985-00-15",
        "31.12.1899", "1899-00-00", "16.06.2025", "00.07.2025", "00.00.2026", "2025-06-16", "15.5.85", "15/05/1985",
        "15-05-1985", "1985.05.15", "1985-5-15", "15.05.1985.", "15..1985", "X.05.1985", "XY.05.1985", "15.05.19850",
        "+1985-05-15", "1985-05-15T00:00", "15 05 1985", "", "00.00.0000", "١٥.٠٥.١٩٨٥", "15.05.1985\0",
    ])
    func parse_refusesImpossibleFutureAndMalformedDates(_ input: String)  throws {
        #expect(throws: DomainError.invalidDateOfBirth(field: "date_of_birth")) { try Self.make(input) }
    }

    @Test func init_fromParts_validatesLikeParsing() throws {
        #expect(try DateOfBirth(year: 1985, month: nil, day: nil, today: Self.today).canonical == "1985-00-00")
        #expect(throws: DomainError.self) { try DateOfBirth(year: 1985, month: nil, day: 3, today: Self.today) }
        #expect(throws: DomainError.self) { try DateOfBirth(year: 1985, month: 0, day: 3, today: Self.today) }
        #expect(throws: DomainError.self) { try DateOfBirth(year: .max, month: 1, day: 1, today: Self.today) }
        #expect(throws: DomainError.self) { try DateOfBirth(year: .min, month: 1, day: 1, today: Self.today) }
    }

    @Test func matches_comparesCanonicalFormsExactly() throws {
        let stored = try Self.make("00.00.1985")
        #expect(stored.matches(try Self.make("XX.XX.1985")))
        #expect(stored.matches(try Self.make("1985-00-00")))
        #expect(!stored.matches(try Self.make("01.01.1985")))
        #expect(!stored.matches(try Self.make("00.01.1985")))
        let full = try Self.make("15.05.1985")
        #expect(full.matches(try Self.make("1985-05-15")))
        #expect(!full.matches(try Self.make("05.15.1985".replacingOccurrences(of: "05.15", with: "14.05"))))
    }

    @Test func germanFormat_printsAsOnDocuments() throws {
        #expect(try Self.make("1985-05-00").germanFormat == "00.05.1985")
        #expect(try Self.make("1.5.1985").germanFormat == "01.05.1985")
    }

    @Test func latestPossibleBirthday_usesEndOfUnknownPeriod() throws {
        #expect(try Self.make("00.00.1985").latestPossibleBirthday == CivilDate.make(1985, 12, 31))
        #expect(try Self.make("00.02.2000").latestPossibleBirthday == CivilDate.make(2000, 2, 29))
        #expect(try Self.make("00.02.2001").latestPossibleBirthday == CivilDate.make(2001, 2, 28))
        #expect(try Self.make("10.04.1990").latestPossibleBirthday == CivilDate.make(1990, 4, 10))
    }

    @Test func description_isRedacted() throws {
        let date = try Self.make("15.05.1985")
        #expect(!"\(date)".contains("1985"))
    }

    @Test func codable_roundTripsCanonicalForm() throws {
        let dates = [try Self.make("00.00.1985"), try Self.make("00.05.1985"), try Self.make("15.05.1985")]
        let data = try JSONEncoder().encode(dates)
        #expect(String(decoding: data, as: UTF8.self) == "[\"1985-00-00\",\"1985-05-00\",\"1985-05-15\"]")
        #expect(try JSONDecoder().decode([DateOfBirth].self, from: data) == dates)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([DateOfBirth].self, from: Data("[\"1985-00-15\"]".utf8)) }
    }

    @Test func hostileInput_isRefusedWithoutTrapping()  throws {
        for text in HostileInput.all {
            #expect((try? Self.make(text)) == nil)
        }
    }
}
