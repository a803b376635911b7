import Domain
import Foundation
import HTTPServer
import Logging
import Postgres

/// `GET /status?vn=…&lang=…`: the applicant's status page, the target of the letter's QR code.
///
/// Rendered completely on the server, so it works without JavaScript and without cookies
/// (`status.js` only groups the number as it is typed and catches typos before asking). It shows
/// the coarse state of ``StatusHandlers/lookup(_:_:)`` and nothing personal; unknown, malformed,
/// ambiguous and cancelled numbers get the same page. Rate-limited like the API, with a friendly 429.
enum StatusPage {
    static func respond(_ app: Application, _ request: Request) throws -> Response {
        // A malformed query is treated as an empty one: this page never answers with JSON.
        let query = try? request.queryParameters()
        let language = StatusLanguage.pick(query: query?["lang"], acceptLanguage: request.headers["Accept-Language"])
        let explicitLanguage = query?["lang"].flatMap(StatusLanguage.init(rawValue:)) != nil
        let typed = query?["vn"].map { TextField.prefix($0.trimmingCharacters(in: .whitespacesAndNewlines), 64) } ?? ""
        var page = Page(app: app, language: language, explicitLanguage: explicitLanguage, typed: typed)
        var headers = WebAssets.htmlHeaders()
        // The answer depends on the number and the language, and must not outlive a change of state.
        headers.set("Cache-Control", "no-store")
        headers.set("Vary", "Accept-Language")
        guard !typed.isEmpty else {
            return Response(status: .ok, headers: headers, body: page.render(.form))
        }
        if let wait = StatusHandlers.limited(app, request) {
            headers.set("Retry-After", String(wait))
            return Response(status: .tooManyRequests, headers: headers, body: page.render(.rateLimited(seconds: wait)))
        }
        do {
            guard let found = try StatusHandlers.lookup(app, typed) else {
                return Response(status: .ok, headers: headers, body: page.render(.unknown))
            }
            let site = try app.publicSites.site(authorityID: found.authorityID, siteID: found.siteID, pool: app.pool).site
            return Response(status: .ok, headers: headers, body: page.render(.found(found, site))).compressed(for: request)
        } catch let error as PostgresError where error.isConnectionProblem {
            // The applicant gets a page, not JSON: the database is down or saturated for a moment.
            app.logger.warning("status page: database unavailable", metadata: ["request.id": "\(request.requestID)", "error": "\(error)"])
            headers.set("Retry-After", "30")
            var unavailable = Page(app: app, language: language, explicitLanguage: explicitLanguage, typed: typed)
            return Response(status: .serviceUnavailable, headers: headers, body: unavailable.render(.unavailable))
        }
    }

    enum Content {
        case form
        case unknown
        case found(StatusHandlers.Found, SiteDTO.Site)
        case rateLimited(seconds: Int)
        case unavailable
    }

    struct Page {
        let version: String
        let language: StatusLanguage
        let explicitLanguage: Bool
        let typed: String
        let t: StatusPageTexts
        var html = HTML(capacity: 12_000)

        init(app: Application, language: StatusLanguage, explicitLanguage: Bool, typed: String) {
            self.version = app.web.version
            self.language = language
            self.explicitLanguage = explicitLanguage
            self.typed = typed
            self.t = StatusPageTexts.of(language)
        }

        mutating func render(_ content: Content) -> [UInt8] {
            html.markup("<!doctype html>\n<html lang=\"\(language.htmlLang)\">\n<head>\n<meta charset=\"utf-8\">\n")
            html.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"robots\" content=\"noindex\">\n")
            html.element("title", text: t.title)
            html.markup("\n<link rel=\"icon\" href=\"/assets/\(version)/favicon.svg\" type=\"image/svg+xml\">\n")
            html.markup("<link rel=\"stylesheet\" href=\"/assets/\(version)/status.css\">\n")
            html.markup("<script type=\"module\" src=\"/assets/\(version)/status.js\"></script>\n</head>\n<body>\n")
            html.element("a", [("class", "skip-link"), ("href", "#main")], text: t.skip)
            header()
            html.raw("<main id=\"main\" tabindex=\"-1\">\n")
            switch content {
            case .rateLimited(let seconds):
                html.element("h1", text: t.rateLimitedHeading)
                html.open("div", [("class", "result result-wait"), ("role", "alert")])
                for line in t.rateLimited { html.element("p", text: line.replacingOccurrences(of: "{seconds}", with: String(seconds))) }
                html.close("div")
            case .unavailable:
                html.element("h1", text: t.unavailableHeading)
                html.open("div", [("class", "result result-wait"), ("role", "alert")])
                for line in t.unavailable { html.element("p", text: line) }
                html.close("div")
            case .form:
                html.element("h1", text: t.heading)
            case .unknown:
                html.element("h1", text: t.heading)
                result(.unknown) { _ in }
            case .found(let found, let site):
                html.element("h1", text: t.heading)
                result(found.status) { page in page.details(found, site) }
            }
            form()
            html.raw("</main>\n<footer class=\"status-footer\">")
            html.element("p", text: t.privacy)
            html.raw("</footer>\n</body>\n</html>\n")
            return html.bytes
        }

        private mutating func header() {
            html.raw("<header class=\"status-header\"><div class=\"bar\">")
            html.element("p", [("class", "brand")], text: t.brand)
            html.open("nav", [("aria-label", t.languages)])
            html.raw("<ul class=\"languages\">")
            for other in StatusLanguage.allCases {
                var href = "/status?"
                if !typed.isEmpty { href += "vn=" + Self.queryEscape(typed) + "&" }
                href += "lang=" + other.rawValue
                var attributes = [("href", href), ("lang", other.htmlLang), ("hreflang", other.htmlLang)]
                if other == language { attributes.append(("aria-current", "true")) }
                html.raw("<li>")
                html.element("a", attributes, text: other.ownName)
                html.raw("</li>")
            }
            html.raw("</ul></nav></div></header>\n")
        }

        private mutating func result(_ status: PublicStatus, details: (inout Page) -> Void) {
            html.open("section", [("class", "result result-\(status.rawValue)"), ("aria-labelledby", "result-heading")])
            html.raw("<h2 id=\"result-heading\"><span class=\"visually-hidden\">")
            html.text(t.statusPrefix + " ")
            html.raw("</span>")
            html.text(t.headline[status] ?? "")
            html.raw("</h2>\n")
            if status != .unknown, let number = try? Vorgangsnummer.parse(typed, allowExternal: true) {
                html.open("p", [("class", "number")])
                html.text(t.numberIs + " ")
                html.element("strong", [("class", "mono")], text: number.displayString)
                html.close("p")
            }
            for line in t.body[status] ?? [] { html.element("p", text: line) }
            details(&self)
            html.raw("</section>\n")
        }

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
        private mutating func blockedNotice(_ until: Date, _ site: SiteDTO.Site) {
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

        private mutating func place(_ site: SiteDTO.Site) {
            html.element("h3", text: t.whereTitle)
            html.open("p", [("class", "place")])
            html.element("strong", text: site.name)
            html.raw("<br>")
            html.text(site.address)
            html.close("p")
        }

        /// Today and the six days after it, with dated exceptions in place of the weekly hours.
        private mutating func hours(_ site: SiteDTO.Site) {
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

        private mutating func bring(_ settings: SiteDTO.PickupSettings) {
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

        private mutating func form() {
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

        private func range(_ opens: String, _ closes: String) -> String {
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
}

enum ASCIIPad {
    static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }
}
