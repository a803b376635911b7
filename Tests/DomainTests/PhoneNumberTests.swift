import Foundation
import Testing
@testable import Domain

@Suite("PhoneNumber")
struct PhoneNumberTests {
    @Test(arguments: [
        ("0171 1234567", "+491711234567"),
        ("01711234567", "+491711234567"),
        ("0171/1234567", "+491711234567"),
        ("0171-123 45 67", "+491711234567"),
        ("(0171) 1234567", "+491711234567"),
        ("+49 171 1234567", "+491711234567"),
        ("+49 (0)171-1234567", "+491711234567"),
        ("+49(0)1711234567", "+491711234567"),
        ("(+49) 171 1234567", "+491711234567"),
        ("(+49)(0)171 1234567", "+491711234567"),
        ("+49 0171 1234567", "+491711234567"),
        ("0049 171 1234567", "+491711234567"),
        ("0049 (0)171 1234567", "+491711234567"),
        ("  +49 171 1234567  ", "+491711234567"),
        ("+49\u{A0}171\u{A0}1234567", "+491711234567"),
        ("0151 12345678", "+4915112345678"),
        ("0160 1234567", "+491601234567"),
        ("0176.12345678", "+4917612345678"),
    ])
    func parse_normalisesGermanMobileNumbers(_ input: String, _ expected: String) throws {
        let number = try PhoneNumber.parse(input)
        #expect(number.e164 == expected)
        #expect(number.countryCode == 49)
    }

    @Test(arguments: [
        ("+43 664 1234567", "+436641234567", 43),
        ("0043 664 1234567", "+436641234567", 43),
        ("+44 07911 123456", "+447911123456", 44),
        ("+1 (415) 555-2671", "+14155552671", 1),
        ("+7 912 345 67 89", "+79123456789", 7),
        ("+963 944 123 456", "+963944123456", 963),
        ("+380 50 123 4567", "+380501234567", 380),
        ("+90 532 123 45 67", "+905321234567", 90),
        ("+420 601 123 456", "+420601123456", 420),
        ("+39 333 1234567", "+393331234567", 39),
        ("+39 06 1234 5678", "+390612345678", 39),
        ("+423 791 23 45", "+4237912345", 423),
        ("+383 44 123 456", "+38344123456", 383),
        ("+20 10 1234 5678", "+201012345678", 20),
    ])
    func parse_handlesOneTwoAndThreeDigitCountryCodes(_ input: String, _ expected: String, _ code: Int) throws {
        let number = try PhoneNumber.parse(input)
        #expect(number.e164 == expected)
        #expect(number.countryCode == code)
        #expect(number.e164 == "+\(number.countryCode)\(number.nationalNumber)")
    }

    @Test(arguments: ["٠١٧١ ١٢٣٤٥٦٧", "+٤٩ 171 1234567", "０１７１ １２３４５６７", "0171 123456７", "۰۱۷۱۱۲۳۴۵۶۷", "०१७१ १२३४५६७", "abc ٣"])
    func parse_refusesNonASCIIDigitsWithASpecificError(_ input: String)  throws {
        #expect(throws: DomainError.nonASCIIDigits(field: "mobile_number")) { try PhoneNumber.parse(input) }
    }

    @Test(arguments: ["030 1234567", "089 123456", "+49 30 12345678", "0800 1234567", "0180 123456", "0190 1234567", "0049 221 1234567"])
    func parse_refusesGermanLandlinesAsNotMobile(_ input: String)  throws {
        #expect(throws: DomainError.notAMobileNumber(field: "mobile_number")) { try PhoneNumber.parse(input) }
    }

    @Test(arguments: [
        ("+61 412 345 678", 61), ("+81 90 1234 5678", 81), ("+27 82 123 4567", 27),
        ("+1242 359 1234", 1), ("+880 1712 345678", 880), ("+999 123 456 78", 999),
    ])
    func parse_refusesCountryCodesOutsideTheAllowList(_ input: String, _ code: Int)  throws {
        if code == 1 {
            // +1 is allowed (US/CA); the Bahamas share it, so they pass the code check.
            #expect((try? PhoneNumber.parse(input))?.countryCode == 1)
        } else {
            #expect(throws: DomainError.unsupportedCountryCode(field: "mobile_number", countryCode: code)) { try PhoneNumber.parse(input) }
        }
    }

    @Test func parse_usesAConfiguredAllowList() throws {
        #expect(throws: DomainError.unsupportedCountryCode(field: "mobile_number", countryCode: 43)) {
            try PhoneNumber.parse("+43 664 1234567", allowedCountryCodes: [49])
        }
        #expect(try PhoneNumber.parse("+61 412 345 678", allowedCountryCodes: [61]).e164 == "+61412345678")
        #expect(try PhoneNumber.parse("+61 412 345 678", allowedCountryCodes: nil).countryCode == 61)
        // A national German number is +49, so an allow-list without 49 refuses it.
        #expect(throws: DomainError.unsupportedCountryCode(field: "mobile_number", countryCode: 49)) {
            try PhoneNumber.parse("0171 1234567", allowedCountryCodes: [43])
        }
    }

    @Test func defaultAllowList_containsTheDocumentedCodes()  throws {
        let euEEA: Set<Int> = [49, 43, 32, 359, 385, 357, 420, 45, 372, 358, 33, 30, 36, 353, 39, 371, 370, 352, 356, 31,
                               48, 351, 40, 421, 386, 34, 46, 354, 423, 47]
        #expect(euEEA.count == 30)
        #expect(euEEA.isSubset(of: PhoneNumber.defaultAllowedCountryCodes))
        let others: Set<Int> = [41, 44, 90, 380, 963, 93, 964, 98, 7, 381, 387, 383, 389, 355, 373, 995, 374, 994,
                                91, 92, 86, 84, 234, 291, 1, 55, 212, 216, 20]
        #expect(others.isSubset(of: PhoneNumber.defaultAllowedCountryCodes))
    }

    @Test func countryCodeTable_findsTheRightLengthForEveryDefaultCode()  throws {
        for code in PhoneNumber.defaultAllowedCountryCodes {
            let digits = String(code).compactMap(\.wholeNumberValue) + [5, 5, 5, 5, 5, 5, 5]
            #expect(PhoneNumber.countryCodeLength(of: digits) == String(code).count, "code \(code)")
        }
    }

    @Test(arguments: [
        "", "0", "00", "+", "+49", "171 1234567", "1711234567", "+0171 1234567", "0171 12345", "+49 171 12345678901",
        "+49 171", "01711234567890", "+4917112345678901", "0171 1234567 ext 5", "0171 1234567#", "+49+171 1234567",
        "0171 1234567+", "(0171) +49", "+1 415 555 267", "+1 415 555 26711", "+43 12345", "+49 00171 1234567", "tel:+491711234567",
    ])
    func parse_refusesImplausibleNumbers(_ input: String)  throws {
        #expect(throws: DomainError.self) { try PhoneNumber.parse(input) }
    }

    @Test func parse_refusesMoreThanFifteenDigits()  throws {
        #expect(throws: DomainError.invalidPhoneNumber(field: "mobile_number")) { try PhoneNumber.parse("+43 664 12345678901") }
        #expect(try PhoneNumber.parse("+43 664 1234567890").e164.count == 16)
    }

    @Test func masked_hidesTheMiddleDigits() throws {
        #expect(try PhoneNumber.parse("0171 1234567").masked == "+49 171 ****567")
        #expect(try PhoneNumber.parse("0151 12345678").masked == "+49 151 *****678")
        #expect(try PhoneNumber.parse("+423 791 23 45").masked == "+423 *****45")
        let number = try PhoneNumber.parse("0171 1234567")
        #expect("\(number)" == "+49 171 ****567")
        #expect(!"\(number)".contains("1234567"))
    }

    @Test func codable_encodesE164AndRefusesOtherForms() throws {
        let number = try PhoneNumber.parse("0171 1234567")
        let data = try JSONEncoder().encode([number])
        #expect(String(decoding: data, as: UTF8.self) == "[\"+491711234567\"]")
        #expect(try JSONDecoder().decode([PhoneNumber].self, from: data) == [number])
        for bad in ["[\"0171 1234567\"]", "[\"+49 171 1234567\"]", "[\"+49301234567\"]", "[17]"] {
            #expect(throws: DecodingError.self) { try JSONDecoder().decode([PhoneNumber].self, from: Data(bad.utf8)) }
        }
        // Stored numbers of any country decode, whatever today's allow-list.
        let foreign = try JSONDecoder().decode([PhoneNumber].self, from: Data("[\"+61412345678\"]".utf8))
        #expect(foreign.first?.countryCode == 61)
    }

    @Test func parse_reportsTheGivenField()  throws {
        #expect(throws: DomainError.invalidPhoneNumber(field: "phone")) { try PhoneNumber.parse("x", field: "phone") }
    }

    @Test func hostileInput_isRefusedWithoutTrapping()  throws {
        for text in HostileInput.all {
            #expect((try? PhoneNumber.parse(text)) == nil, "input of \(text.utf8.count) bytes")
        }
        #expect((try? PhoneNumber.parse(String(repeating: "٣", count: 65_536))) == nil)
    }
}
