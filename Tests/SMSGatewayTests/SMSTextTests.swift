import Testing
@testable import SMSGateway

@Suite("SMS text encoding and segments")
struct SMSTextTests {
    @Test func plainGerman_isGSM7() {
        #expect(SMSText.encoding(of: "Ihre Unterlagen liegen im Fach 12. PIN: 482913") == .gsm7)
    }

    @Test(arguments: ["ä", "ö", "ü", "Ä", "Ö", "Ü", "ß", "é", "è", "à", "ñ", "Ç", "Å", "Ø", "Δ", "Ω", "¿", "¡", "§", "£", "¥", "@", "\n", "\r"])
    func defaultAlphabetCharacters_areGSM7(_ character: String) {
        #expect(SMSText.segments(of: character) == (.gsm7, 1, 1))
    }

    @Test(arguments: ["€", "^", "{", "}", "[", "]", "~", "\\", "|", "\u{0C}"])
    func extensionCharacters_countTwo(_ character: String) {
        #expect(SMSText.segments(of: character) == (.gsm7, 2, 1))
    }

    @Test(arguments: ["ç", "ş", "ğ", "ı", "á", "í", "ó", "ú", "ł", "Привет", "مرحبا", "`", "e\u{0301}"])
    func charactersOutsideGSM_forceUCS2(_ text: String) {
        #expect(SMSText.encoding(of: text) == .ucs2)
    }

    @Test func gsm7Boundaries() {
        #expect(SMSText.segments(of: String(repeating: "a", count: 160)) == (.gsm7, 160, 1))
        #expect(SMSText.segments(of: String(repeating: "a", count: 161)) == (.gsm7, 161, 2))
        #expect(SMSText.segments(of: String(repeating: "a", count: 306)) == (.gsm7, 306, 2))
        #expect(SMSText.segments(of: String(repeating: "a", count: 307)) == (.gsm7, 307, 3))
        #expect(SMSText.segments(of: "") == (.gsm7, 0, 1))
    }

    @Test func euroSign_countsTwo_andPushesPastTheSingleLimit() {
        #expect(SMSText.segments(of: String(repeating: "a", count: 158) + "€") == (.gsm7, 160, 1))
        #expect(SMSText.segments(of: String(repeating: "a", count: 159) + "€") == (.gsm7, 161, 2))
        #expect(SMSText.segments(of: "Gebühr: 5 €") == (.gsm7, 12, 1))
    }

    @Test func extensionCharacter_isNotSplitAcrossSegments() {
        // 152 septets, then "€" (2) would straddle the 153 boundary: it moves to part 2.
        let text = String(repeating: "a", count: 152) + "€" + String(repeating: "a", count: 152)
        #expect(SMSText.segments(of: text) == (.gsm7, 306, 3))
        // Without the straddle the same 306 septets fit in 2.
        #expect(SMSText.segments(of: String(repeating: "a", count: 151) + "€" + String(repeating: "a", count: 153)) == (.gsm7, 306, 2))
    }

    @Test func ucs2Boundaries() {
        #expect(SMSText.segments(of: String(repeating: "ş", count: 70)) == (.ucs2, 70, 1))
        #expect(SMSText.segments(of: String(repeating: "ş", count: 71)) == (.ucs2, 71, 2))
        #expect(SMSText.segments(of: String(repeating: "ş", count: 134)) == (.ucs2, 134, 2))
        #expect(SMSText.segments(of: String(repeating: "ş", count: 135)) == (.ucs2, 135, 3))
    }

    @Test func emoji_countsTwoUnits_andIsNotSplit() {
        #expect(SMSText.segments(of: "😀") == (.ucs2, 2, 1))
        #expect(SMSText.segments(of: String(repeating: "a", count: 68) + "😀") == (.ucs2, 70, 1))
        #expect(SMSText.segments(of: String(repeating: "a", count: 69) + "😀") == (.ucs2, 71, 2))
        // 66 units + a surrogate pair straddling 67 → the pair starts part 2.
        let text = String(repeating: "a", count: 66) + "😀" + String(repeating: "a", count: 66)
        #expect(SMSText.segments(of: text) == (.ucs2, 134, 3))
    }

    @Test func oneForeignCharacter_switchesTheWholeTextToUCS2() {
        let text = String(repeating: "a", count: 100) + "ç"
        #expect(SMSText.segments(of: text) == (.ucs2, 101, 2))
    }
}
