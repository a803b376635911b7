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
    /// What a request asks for: the language, the number as typed, and the answer's headers.
    struct Ask: Sendable {
        let language: StatusLanguage
        let explicitLanguage: Bool
        let typed: String
        var headers: HTTPHeaders

        init(_ request: Request) {
            // A malformed query is treated as an empty one: this page never answers with JSON.
            let query = try? request.queryParameters()
            language = StatusLanguage.pick(query: query?["lang"], acceptLanguage: request.headers["Accept-Language"])
            explicitLanguage = query?["lang"].flatMap(StatusLanguage.init(rawValue:)) != nil
            typed = query?["vn"].map { TextField.prefix($0.trimmingCharacters(in: .whitespacesAndNewlines), 64) } ?? ""
            headers = WebAssets.htmlHeaders()
            // The answer depends on the number and the language, and must not outlive a change of state.
            headers.set("Cache-Control", "no-store")
            headers.set("Vary", "Accept-Language")
        }

        func page(_ app: Application) -> Page {
            Page(app: app, language: language, explicitLanguage: explicitLanguage, typed: typed)
        }

        func render(_ app: Application, _ content: Content, status: HTTPStatus = .ok) -> Response {
            var page = page(app)
            return Response(status: status, headers: headers, body: page.render(content))
        }
    }

    /// On the event loop, like the API's check (``StatusHandlers/status(_:_:_:)``): the form, the rate limit
    /// and a malformed number are answered at once; the look-up goes out on the loop's pipelined connection
    /// and the page is rendered when its row comes back, with the site from the cache. Otherwise (the
    /// loop's connection is not up, the statement failed there, the site is not cached) the rest runs on
    /// a worker with the pool, as it always did.
    static func respond(_ app: Application, _ request: Request, _ responder: Responder) throws {
        let ask = Ask(request)
        guard !ask.typed.isEmpty else { return responder.respond(ask.render(app, .form)) }
        if let wait = StatusHandlers.limited(app, request) {
            var limited = ask
            limited.headers.set("Retry-After", String(wait))
            return responder.respond(limited.render(app, .rateLimited(seconds: wait), status: .tooManyRequests))
        }
        guard let number = try? Vorgangsnummer.parse(ask.typed, allowExternal: true) else { return responder.respond(ask.render(app, .unknown)) }
        try StatusHandlers.lookUp(app, number, responder) { found in
            guard let found else { return ask.render(app, .unknown) }
            return app.publicSites.cached(authorityID: found.authorityID, siteID: found.siteID)
                .map { ask.render(app, .found(found, $0.site)).compressed(for: request) }
        } onWorker: { lookup in
            try answer(app, ask, request, lookup: lookup)
        }
    }

    /// The page for what `lookup` finds, with the site (read with the pool when not cached), on a worker; a
    /// database that does not answer gets a page (503), not JSON. Other errors are thrown (an opaque 500, logged).
    static func answer(_ app: Application, _ ask: Ask, _ request: Request, lookup: () throws -> StatusHandlers.Found?) throws -> Response {
        do {
            guard let found = try lookup() else { return ask.render(app, .unknown) }
            let site = try app.publicSites.site(authorityID: found.authorityID, siteID: found.siteID, pool: app.pool).site
            return ask.render(app, .found(found, site)).compressed(for: request)
        } catch let error as PostgresError where error.isConnectionProblem {
            // The applicant gets a page, not JSON: the database is down or saturated for a moment.
            app.logger.warning("status page: database unavailable", metadata: ["request.id": "\(request.requestID)", "error": "\(error)"])
            var unavailable = ask
            unavailable.headers.set("Retry-After", "30")
            return unavailable.render(app, .unavailable, status: .serviceUnavailable)
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
    }
}

enum ASCIIPad {
    static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }
}
