import Foundation

extension PhoneNumber {
    /// The default allow-list of country calling codes (ITU-T E.164), chosen for the residents
    /// a German foreigners' authority serves:
    /// - EU/EEA (30): DE 49, AT 43, BE 32, BG 359, HR 385, CY 357, CZ 420, DK 45, EE 372, FI 358,
    ///   FR 33, GR 30, HU 36, IE 353, IT 39, LV 371, LT 370, LU 352, MT 356, NL 31, PL 48, PT 351,
    ///   RO 40, SK 421, SI 386, ES 34, SE 46, IS 354, LI 423, NO 47;
    /// - CH 41, GB 44, TR 90, UA 380;
    /// - common countries of origin: SY 963, AF 93, IQ 964, IR 98, RU/KZ 7, RS 381, BA 387, XK 383,
    ///   MK 389, AL 355, ME 382, MD 373, GE 995, AM 374, AZ 994, IN 91, PK 92, CN 86, VN 84, NG 234,
    ///   ER 291, US/CA 1, BR 55, MA 212, TN 216, EG 20, DZ 213, LB 961, SO 252, ET 251, GH 233, PH 63.
    /// Authorities configure their own list with `PhoneNumber.parse(_:allowedCountryCodes:)`.
    public static let defaultAllowedCountryCodes: Set<Int> = [
        // EU/EEA
        49, 43, 32, 359, 385, 357, 420, 45, 372, 358, 33, 30, 36, 353, 39, 371, 370, 352, 356, 31,
        48, 351, 40, 421, 386, 34, 46, 354, 423, 47,
        // Europe outside the EU/EEA
        41, 44, 90, 380,
        // Common countries of origin
        963, 93, 964, 98, 7, 381, 387, 383, 389, 355, 382, 373, 995, 374, 994, 91, 92, 86, 84, 234,
        291, 1, 55, 212, 216, 20, 213, 961, 252, 251, 233, 63,
    ]

    /// The two-digit country calling codes of E.164 (zones 2–9). With the one-digit codes 1 (NANP)
    /// and 7 (RU/KZ), every other code is three digits long; the set of codes is prefix-free, so
    /// this decides the length of the code in any international number.
    static let twoDigitCountryCodes: Set<Int> = [
        20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49,
        51, 52, 53, 54, 55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66,
        81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98,
    ]

    /// Length (1…3) of the country code at the start of `digits` (ASCII digit values 0…9).
    static func countryCodeLength(of digits: [Int]) -> Int {
        guard let first = digits.first else { return 0 }
        if first == 1 || first == 7 { return 1 }
        if digits.count >= 2, twoDigitCountryCodes.contains(first * 10 + digits[1]) { return 2 }
        return 3
    }
}
