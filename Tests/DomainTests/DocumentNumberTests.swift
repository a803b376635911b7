import Foundation
import Testing
@testable import Domain

@Suite("DocumentNumber")
struct DocumentNumberTests {
    @Test(arguments: ["L898902C3", "T22000129", "LZ6311T47", "C01X00T47", "ZZZZZZZZZ", "F00000000"])
    func init_acceptsNineCharactersStartingWithALetter(_ text: String) throws {
        #expect(try DocumentNumber(text).value == text)
    }

    @Test func init_normalisesCaseAndBlanks() throws {
        #expect(try DocumentNumber(" l898 902 c3 ").value == "L898902C3")
        #expect(try DocumentNumber("t22000129\t").value == "T22000129")
    }

    @Test func icaoCheckDigit_matchesPublishedSpecimens()  throws {
        // ICAO 9303 part 3 specimen passport; German ID card specimen (Erika Mustermann).
        #expect(DocumentNumber.icaoCheckDigit("L898902C3") == 6)
        #expect(DocumentNumber.icaoCheckDigit("T22000129") == 3)
        #expect(DocumentNumber.icaoCheckDigit("L898902C<") == DocumentNumber.icaoCheckDigit("L898902C0"))
        #expect(DocumentNumber.icaoCheckDigit("L8989-02C3") == nil)
        #expect(DocumentNumber.icaoCheckDigit("") == 0)
    }

    @Test func init_acceptsACorrectTenthCheckDigitAndDropsIt() throws {
        let number = try DocumentNumber("L898902C36")
        #expect(number.value == "L898902C3")
        #expect(number.checkDigit == 6)
        #expect(number.valueWithCheckDigit == "L898902C36")
        #expect(try DocumentNumber("T22000129 3") == DocumentNumber("T22000129"))
    }

    @Test func init_refusesAWrongCheckDigit_everyWrongDigit()  throws {
        for digit in 0...9 where digit != 6 {
            #expect(throws: DomainError.documentCheckDigitMismatch(field: "document_number")) {
                try DocumentNumber("L898902C3\(digit)")
            }
        }
    }

    @Test(arguments: [
        "", "L898902C", "L898902C367", "1L898902C", "898902C3L", "A89890203", "L89890203A", "LO9890203",
        "L8989O2C3", "L898902E3", "L8989-02C3", "Ł898902C3", "L898902C3X", "L898902C3<", "B12345678", "S12345678",
    ])
    func init_refusesInvalidNumbers(_ text: String)  throws {
        #expect(throws: DomainError.self) { try DocumentNumber(text) }
    }

    @Test func init_refusesEveryCharacterOutsideTheAlphabet()  throws {
        for byte in UInt8(0x20)...UInt8(0x7E) {
            let character = Character(Unicode.Scalar(byte))
            let upper = Character(character.uppercased())
            let valid = DocumentNumber.alphabet.contains(upper)
            let text = "L89890" + String(character) + "C3"
            if character == " " { continue }
            #expect(((try? DocumentNumber(text)) != nil) == valid, "char \(character)")
        }
    }

    @Test func init_firstCharacterMustBeALetterFromTheSet()  throws {
        for character in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" {
            let accepted = (try? DocumentNumber(String(character) + "12345678")) != nil
            #expect(accepted == ("CFGHJKLMNPRTVWXYZ".contains(character)), "first \(character)")
        }
    }

    @Test func codable_roundTripsNineCharacters() throws {
        let number = try DocumentNumber("L898902C36")
        let data = try JSONEncoder().encode([number])
        #expect(String(decoding: data, as: UTF8.self) == "[\"L898902C3\"]")
        #expect(try JSONDecoder().decode([DocumentNumber].self, from: data) == [number])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([DocumentNumber].self, from: Data("[\"A1\"]".utf8)) }
    }

    @Test func hostileInput_isRefusedWithoutTrapping()  throws {
        for text in HostileInput.all {
            #expect((try? DocumentNumber(text)) == nil)
        }
    }
}
