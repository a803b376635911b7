import Domain
import Foundation

/// The parts of a found application's result: where, until when, the opening hours, what to bring, and the form.
extension StatusPage.Page {
    mutating func details(_ found: StatusHandlers.Found, _ site: SiteDTO.Site) {
        switch found.status {
        case .readyInBox:
            place(site)
            if let blocked = found.pickupsBlockedUntil { blockedNotice(blocked, site) }
            if let until = found.readyUntil, let date = try? CivilDate(iso: until) {
                html.element("h3", text: t.deadlineTitle)
                html.open("p", [("class", "deadline")])
                html.element("strong", text: t.deadline(longDate(date)))
                html.close("p")
                html.element("p", text: t.deadlineAfter)
            }
            hours(site)
            bring(site.pickupSettings)
        case .readyAtCounter:
            place(site)
            html.element("h3", text: t.counterTitle)
            for line in t.counterLines { html.element("p", text: line) }
        case .inProduction, .collected, .unknown:
            break
        }
    }

    /// The box refuses pickups for a while (too many failed attempts there): come after that.
    mutating func blockedNotice(_ until: Date, _ site: SiteDTO.Site) {
        let zone = TimeZone(identifier: site.timeZone) ?? TimeZone(identifier: "Europe/Berlin") ?? .gmt
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.hour, .minute], from: until)
        let time = "\(ASCIIPad.two(parts.hour ?? 0)):\(ASCIIPad.two(parts.minute ?? 0))"
        let day = CivilDate(date: until, timeZone: zone)
        let when = day == CivilDate(date: Date(), timeZone: zone) ? time : "\(shortDate(day)) \(time)"
        html.open("div", [("class", "result result-wait"), ("role", "status")])
        for line in t.boxBlocked(when) { html.element("p", text: line) }
        html.close("div")
    }

    mutating func place(_ site: SiteDTO.Site) {
        html.element("h3", text: t.whereTitle)
        html.open("p", [("class", "place")])
        html.element("strong", text: site.name)
        html.raw("<br>")
        html.text(site.address)
        html.close("p")
    }

    /// Today and the six days after it, with dated exceptions in place of the weekly hours.
    mutating func hours(_ site: SiteDTO.Site) {
        let zone = TimeZone(identifier: site.timeZone) ?? TimeZone(identifier: "Europe/Berlin") ?? .gmt
        let today = CivilDate(date: Date(), timeZone: zone)
        html.element("h3", [("id", "hours-heading")], text: t.hoursTitle)
        html.raw("<table class=\"hours\" aria-labelledby=\"hours-heading\"><tbody>\n")
        for offset in 0..<7 {
            let day = today.adding(days: offset)
            var text: String
            var note: String?
            if let exception = site.exceptions.first(where: { $0.day == day.iso }) {
                note = exception.note
                if exception.closed { text = t.closed } else { text = range(exception.opens ?? "", exception.closes ?? "") }
            } else {
                let intervals = site.hours.filter { $0.weekday == day.isoWeekday }
                text = intervals.isEmpty ? t.closed : intervals.map { range($0.opens, $0.closes) }.joined(separator: ", ")
            }
            html.open("tr", offset == 0 ? [("class", "today")] : [])
            html.open("th", [("scope", "row")])
            html.text(shortDate(day))
            if offset == 0 { html.text(" (\(t.today))") }
            html.close("th")
            html.open("td")
            html.text(text)
            if let note, !note.isEmpty {
                html.raw("<br><span class=\"note\">")
                html.text(note)
                html.raw("</span>")
            }
            html.close("td")
            html.close("tr")
            html.raw("\n")
        }
        html.raw("</tbody></table>\n")
    }

    mutating func bring(_ settings: SiteDTO.PickupSettings) {
        html.element("h3", text: t.bringTitle)
        html.raw("<ul class=\"bring\">")
        html.element("li", text: t.bringPhone)
        if settings.pinLetter { html.element("li", text: t.bringPinLetter) }
        switch settings.secondFactor {
        case "date_of_birth": html.element("li", text: t.bringDateOfBirth)
        case "date_of_birth_or_can": html.element("li", text: t.bringDateOfBirthOrCan)
        default: break
        }
        if settings.oldDocument { html.element("li", text: t.bringOldDocument) }
        html.raw("</ul>\n")
    }

    mutating func form() {
        html.open("form", [("class", "lookup"), ("method", "get"), ("action", "/status"), ("novalidate", ""),
                           ("data-typo-check", t.typoCheck), ("data-typo-length", t.typoLength), ("data-typo-look-alike", t.typoLookAlike)])
        html.raw("<div class=\"field\">")
        html.element("label", [("for", "vn")], text: t.label)
        html.element("p", [("class", "hint"), ("id", "vn-hint")], text: t.hint)
        html.raw("<p class=\"field-error\" id=\"vn-error\" hidden></p>")
        html.open("input", [("id", "vn"), ("name", "vn"), ("type", "text"), ("value", typed), ("autocomplete", "off"),
                            ("autocapitalize", "characters"), ("spellcheck", "false"), ("maxlength", "64"), ("aria-describedby", "vn-hint")])
        html.raw("</div>")
        if explicitLanguage {
            html.open("input", [("type", "hidden"), ("name", "lang"), ("value", language.rawValue)])
        }
        html.element("button", [("type", "submit"), ("class", "button")], text: t.submit)
        html.raw("</form>\n")
    }

    func range(_ opens: String, _ closes: String) -> String {
        opens == "00:00" && closes == "24:00" ? t.allDay : t.timeRange(opens, closes)
    }

    /// Freitag, 11.12.2026 · Friday, 11 December 2026 · Freitag, 11. Dezember 2026
    func longDate(_ d: CivilDate) -> String {
        let weekday = t.weekdays[d.isoWeekday - 1]
        switch language {
        case .de: return "\(weekday), \(ASCIIPad.two(d.day)).\(ASCIIPad.two(d.month)).\(d.year)"
        case .en: return "\(weekday), \(d.day) \(t.months[d.month - 1]) \(d.year)"
        case .simple: return "\(weekday), \(d.day). \(t.months[d.month - 1]) \(d.year)"
        }
    }

    /// Freitag, 11.12. · Friday, 11 December · Freitag, 11. Dezember
    func shortDate(_ d: CivilDate) -> String {
        let weekday = t.weekdays[d.isoWeekday - 1]
        switch language {
        case .de: return "\(weekday), \(ASCIIPad.two(d.day)).\(ASCIIPad.two(d.month))."
        case .en: return "\(weekday), \(d.day)\u{00A0}\(t.months[d.month - 1])"
        case .simple: return "\(weekday), \(d.day).\u{00A0}\(t.months[d.month - 1])"
        }
    }

    /// Percent-encodes a query value (RFC 3986 unreserved characters stay).
    static func queryEscape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(hex[Int(byte >> 4)])
                out.unicodeScalars.append(hex[Int(byte & 0x0F)])
            }
        }
        return out
    }
}
