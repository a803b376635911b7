import Foundation

/// The statutory public holidays (gesetzliche Feiertage) that can close a site.
public enum PublicHoliday: String, Sendable, Hashable, Codable, CaseIterable {
    case neujahr                     // 1 Jan, all
    case heiligeDreiKoenige          // 6 Jan: BW BY ST
    case internationalerFrauentag    // 8 Mar: BE (since 2019), MV (since 2023)
    case karfreitag                  // Easter − 2, all
    case ostersonntag                // Easter: BB (a Sunday anyway)
    case ostermontag                 // Easter + 1, all
    case tagDerArbeit                // 1 May, all
    case tagDerBefreiung             // 8 May 2020 and 2025: BE only, one-off
    case christiHimmelfahrt          // Easter + 39, all
    case pfingstsonntag              // Easter + 49: BB (a Sunday anyway)
    case pfingstmontag               // Easter + 50, all
    case fronleichnam                // Easter + 60: BW BY HE NW RP SL
    case mariaeHimmelfahrt           // 15 Aug: SL
    case weltkindertag               // 20 Sep: TH (since 2019)
    case tagDerDeutschenEinheit      // 3 Oct, all
    case reformationstag             // 31 Oct: BB MV SN ST TH; HB HH NI SH since 2018; all in 2017
    case allerheiligen               // 1 Nov: BW BY NW RP SL
    case bussUndBettag               // Wednesday before 23 Nov: SN
    case ersterWeihnachtstag         // 25 Dec, all
    case zweiterWeihnachtstag        // 26 Dec, all

    /// Holidays by date for `year` in `land`.
    ///
    /// State-wide holidays only. Not included, because they hold only in some municipalities:
    /// Mariä Himmelfahrt in Bavaria (Catholic-majority municipalities), Fronleichnam in parts of
    /// Saxony and Thuringia, the Augsburger Friedensfest (8 Aug, city of Augsburg). A site there
    /// records such a day as a dated exception of its opening hours. Rules are those in force since
    /// 1995 (Buß- und Bettag abolished outside Saxony); earlier years are computed with today's rules.
    public static func holidays(in year: Int, land: Bundesland) -> [CivilDate: PublicHoliday] {
        guard (1583...9999).contains(year) else { return [:] }
        let easter = easterSunday(year: year)
        var result: [CivilDate: PublicHoliday] = [:]
        func add(_ holiday: PublicHoliday, _ month: Int, _ day: Int) {
            result[CivilDate(unchecked: year, month, day)] = holiday
        }
        func add(_ holiday: PublicHoliday, easterOffset: Int) {
            result[easter.adding(days: easterOffset)] = holiday
        }
        let lands = { (codes: Set<Bundesland>) in codes.contains(land) }

        add(.neujahr, 1, 1)
        if lands([.badenWuerttemberg, .bayern, .sachsenAnhalt]) { add(.heiligeDreiKoenige, 1, 6) }
        if (land == .berlin && year >= 2019) || (land == .mecklenburgVorpommern && year >= 2023) {
            add(.internationalerFrauentag, 3, 8)
        }
        add(.karfreitag, easterOffset: -2)
        if land == .brandenburg { add(.ostersonntag, easterOffset: 0) }
        add(.ostermontag, easterOffset: 1)
        add(.tagDerArbeit, 5, 1)
        if land == .berlin, year == 2020 || year == 2025 { add(.tagDerBefreiung, 5, 8) }
        add(.christiHimmelfahrt, easterOffset: 39)
        if land == .brandenburg { add(.pfingstsonntag, easterOffset: 49) }
        add(.pfingstmontag, easterOffset: 50)
        if lands([.badenWuerttemberg, .bayern, .hessen, .nordrheinWestfalen, .rheinlandPfalz, .saarland]) {
            add(.fronleichnam, easterOffset: 60)
        }
        if land == .saarland { add(.mariaeHimmelfahrt, 8, 15) }
        if land == .thueringen, year >= 2019 { add(.weltkindertag, 9, 20) }
        add(.tagDerDeutschenEinheit, 10, 3)
        let reformationAlways: Set<Bundesland> = [.brandenburg, .mecklenburgVorpommern, .sachsen, .sachsenAnhalt, .thueringen]
        let reformationSince2018: Set<Bundesland> = [.bremen, .hamburg, .niedersachsen, .schleswigHolstein]
        if lands(reformationAlways) || (lands(reformationSince2018) && year >= 2018) || year == 2017 {
            add(.reformationstag, 10, 31)
        }
        if lands([.badenWuerttemberg, .bayern, .nordrheinWestfalen, .rheinlandPfalz, .saarland]) { add(.allerheiligen, 11, 1) }
        if land == .sachsen { result[bussUndBettag(year: year)] = .bussUndBettag }
        add(.ersterWeihnachtstag, 12, 25)
        add(.zweiterWeihnachtstag, 12, 26)
        return result
    }

    /// The holiday on `date` in `land`, if any.
    public static func holiday(on date: CivilDate, in land: Bundesland) -> PublicHoliday? {
        holidays(in: date.year, land: land)[date]
    }

    /// Easter Sunday of the Gregorian calendar (the "anonymous Gregorian algorithm", Meeus/Jones/
    /// Butcher, a closed form of Gauss's Easter formula). Valid for 1583 and later.
    public static func easterSunday(year: Int) -> CivilDate {
        let a = year % 19
        let b = year / 100
        let c = year % 100
        let d = b / 4
        let e = b % 4
        let f = (b + 8) / 25
        let g = (b - f + 1) / 3
        let h = (19 * a + b - d - g + 15) % 30
        let i = c / 4
        let k = c % 4
        let l = (32 + 2 * e + 2 * i - h - k) % 7
        let m = (a + 11 * h + 22 * l) / 451
        let month = (h + l - 7 * m + 114) / 31
        let day = (h + l - 7 * m + 114) % 31 + 1
        return CivilDate(unchecked: year, month, day)
    }

    /// Buß- und Bettag: the Wednesday before 23 November (16–22 November).
    public static func bussUndBettag(year: Int) -> CivilDate {
        let november22 = CivilDate(unchecked: year, 11, 22)
        // ISO weekday 3 = Wednesday; step back to it.
        let back = (november22.isoWeekday - 3 + 7) % 7
        return november22.adding(days: -back)
    }
}
