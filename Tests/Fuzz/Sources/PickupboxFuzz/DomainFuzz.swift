import Domain

/// The parsers of what people type: Vorgangsnummer, mobile number, date of birth, document number.
/// The first byte chooses the parser, the rest is the text (any bytes, decoded as UTF-8 with
/// replacement). Each accepts or throws a DomainError, never traps, and what it accepts parses again
/// to the same value from its canonical form.
enum DomainFuzz {
    static let today = try! CivilDate(year: 2026, month: 11, day: 30)

    static func run(_ input: [UInt8]) {
        guard let selector = input.first else { return }
        let text = String(decoding: input.dropFirst(), as: UTF8.self)
        switch selector % 5 {
        case 0:
            if let number = try? Vorgangsnummer(text) {
                precondition((try? Vorgangsnummer(number.value))?.value == number.value, "a Vorgangsnummer round-trips")
                precondition(Vorgangsnummer.hasValidCheckCharacter(number.value), "an accepted Vorgangsnummer has a valid check character")
            }
        case 1:
            if let number = try? Vorgangsnummer.parse(text, allowExternal: true) {
                precondition((try? Vorgangsnummer.parse(number.value, allowExternal: true))?.value == number.value, "an external Vorgangsnummer round-trips")
            }
        case 2:
            if let phone = try? PhoneNumber.parse(text, allowedCountryCodes: nil) {
                precondition(phone.e164.hasPrefix("+") && phone.e164.utf8.count <= 16, "E.164 has at most 15 digits: \(phone.e164.utf8.count)")
                precondition((try? PhoneNumber.parse(phone.e164, allowedCountryCodes: nil))?.e164 == phone.e164, "E.164 round-trips")
            }
            _ = try? PhoneNumber.parse(text)
        case 3:
            if let date = try? DateOfBirth(text, today: today) {
                precondition((try? DateOfBirth(date.germanFormat, today: today))?.canonical == date.canonical || date.isPartial, "a date of birth round-trips")
            }
            _ = try? CivilDate(iso: text)
        default:
            if let document = try? DocumentNumber(text) {
                precondition((try? DocumentNumber(document.value))?.value == document.value, "a document number round-trips")
            }
        }
    }
}
