import Crypto
import Domain
import Foundation
import HTTPServer
import SMSGateway

/// One row of the route table: the HTTP route and who may call it.
public struct AppRoute: Sendable {
    public let access: Access
    public let route: Route

    /// Bodies of routes without a session or token: they are read before anyone is known, so they stay small.
    static let openBodyLimit = 4096

    /// A route anyone may call (`.public`), or one that checks its own credential (`.metrics`, `.provider`).
    /// Bodies are refused beyond `maxBodyBytes` (default `openBodyLimit`) before they are read.
    static func open(_ method: HTTPMethod, _ pattern: String, access: Access = .public, execution: Execution = .worker, maxBodyBytes: Int? = nil,
                     admission: Admission? = nil, _ handler: @escaping @Sendable (Request) throws -> Response) -> AppRoute {
        AppRoute(access: access, route: Route(method, pattern, maxBodyBytes: maxBodyBytes ?? openBodyLimit, execution: execution, admission: admission, handler))
    }

    /// A public route answered on the event loop once its own I/O is done (`RouteHandler.asynchronous`).
    static func openAsynchronous(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping @Sendable (Request, Responder) throws -> Void) -> AppRoute {
        AppRoute(access: .public, route: Route(method, pattern, maxBodyBytes: openBodyLimit, execution: .eventLoop, handler: .asynchronous(handler)))
    }

    /// A route for box controllers: `Authorization: Bearer <box token>`, checked before a body is read;
    /// the handler gets the box (``BoxPrincipal``), so no box handler authenticates by itself.
    static func box(_ method: HTTPMethod, _ pattern: String, maxBodyBytes: Int? = nil, app: Application,
                    _ handler: @escaping @Sendable (Application, Request, BoxPrincipal) throws -> Response) -> AppRoute {
        boxRoute(method, pattern, maxBodyBytes: maxBodyBytes, app: app, handler: .respond { request in
            try handler(app, request, try BoxAuth.principal(request, app))
        })
    }

    /// A box route whose admission reads, with the token, what the handler decides on (`reading`: nil when
    /// no box has the token), in one round trip before the body is read; the handler gets what it read
    /// (a request without a body reads it then).
    static func box<Read: Sendable>(_ method: HTTPMethod, _ pattern: String, app: Application,
                                    reading: @escaping @Sendable (Application, Request, _ tokenHash: [UInt8]) throws -> Read?,
                                    _ handler: @escaping @Sendable (Application, Request, Read) throws -> Response) -> AppRoute {
        @Sendable func admit(_ request: Request) throws -> Read { try BoxAuth.admit(request, app) { try reading(app, request, $0) } }
        let admission = Admission(screen: { request in BoxAuth.bearerToken(request) == nil ? BoxAuth.invalid.response : nil }, admit: admit)
        return AppRoute(access: .box, route: Route(method, pattern, maxBodyBytes: openBodyLimit, admission: admission, handler: .respond { request in
            try handler(app, request, try (request.admitted as? Read) ?? admit(request))
        }))
    }

    /// A box route whose answer may come later (the long poll): as `box`, with the responder.
    static func box(_ method: HTTPMethod, _ pattern: String, app: Application,
                    deferred handler: @escaping @Sendable (Application, Request, BoxPrincipal, Responder) throws -> Void) -> AppRoute {
        boxRoute(method, pattern, maxBodyBytes: nil, app: app, handler: .deferred { request, responder in
            try handler(app, request, try BoxAuth.principal(request, app), responder)
        })
    }

    private static func boxRoute(_ method: HTTPMethod, _ pattern: String, maxBodyBytes: Int?, app: Application, handler: RouteHandler) -> AppRoute {
        let admission = Admission(
            screen: { request in BoxAuth.bearerToken(request) == nil ? BoxAuth.invalid.response : nil },
            // `BoxAuth.principal` returns what this admitted when the handler asks again.
            admit: { request in try BoxAuth.principal(request, app) }
        )
        return AppRoute(access: .box, route: Route(method, pattern, maxBodyBytes: maxBodyBytes ?? openBodyLimit, admission: admission, handler: handler))
    }

    /// The operators' scrapers: open, or `Authorization: Bearer <METRICS_TOKEN>` when one is configured.
    static func metrics(_ method: HTTPMethod, _ pattern: String, app: Application, _ handler: @escaping @Sendable () -> Response) -> AppRoute {
        let expected = app.configuration.metricsToken.map { Array(("Bearer " + $0).utf8) }
        return open(method, pattern, access: .metrics) { request in
            if let expected {
                let given = request.headers["Authorization"] ?? ""
                guard constantTimeEquals(Array(given.utf8), expected) else {
                    throw HTTPError(.unauthorized, code: "unauthorized", message: "A valid bearer token is required.", headers: ["WWW-Authenticate": "Bearer"])
                }
            }
            return handler()
        }
    }

    /// The SMS provider's delivery reports: a signature header is required from the head; the signature
    /// covers the body, so it is verified once the body is here, and the handler gets the provider.
    static func provider(_ method: HTTPMethod, _ pattern: String, maxBodyBytes: Int, app: Application,
                         _ handler: @escaping @Sendable (Application, Request, SMSProviderName) throws -> Response) -> AppRoute {
        open(method, pattern, access: .provider, maxBodyBytes: maxBodyBytes,
             admission: Admission(screen: { request in SMSDeliveryReports.isSigned(request) ? nil : SMSDeliveryReports.unsigned.response })) { request in
            try handler(app, request, try SMSDeliveryReports.authenticate(app, request))
        }
    }

    /// A route for staff: the session cookie is required; `.supervisor` also requires that role;
    /// every method but GET/HEAD requires the session's CSRF token in `X-CSRF-Token`.
    /// Box tokens (Authorization: Bearer) are not looked at, so they never reach these routes.
    static func staff(_ method: HTTPMethod, _ pattern: String, access: Access = .caseworker, maxBodyBytes: Int? = nil, app: Application,
                      _ handler: @escaping @Sendable (Request, StaffContext) throws -> Response) -> AppRoute {
        precondition(access == .caseworker || access == .supervisor, "staff routes are for caseworkers or supervisors")
        @Sendable func authorize(_ request: Request) throws -> UserPrincipal {
            guard let user = try app.sessions.principal(for: request) else { throw AppError.unauthenticated }
            if access == .supervisor && user.role != .supervisor { throw AppError.forbidden }
            if method != .GET && method != .HEAD {
                guard let token = request.headers["X-CSRF-Token"], constantTimeEquals(Array(token.utf8), Array(user.csrfToken.utf8)) else {
                    throw AppError.csrf
                }
            }
            return user
        }
        let guarded: @Sendable (Request) throws -> Response = { request in
            // A request with a body was authorized from its head already (the principal is carried over).
            let user = try (request.admitted as? UserPrincipal) ?? authorize(request)
            // Staff answers can be large (a box's grid, lists): gzip when the browser takes it.
            return try handler(request, StaffContext(app: app, request: request, user: user)).compressed(for: request)
        }
        let admission = Admission(
            screen: { request in app.sessions.hasCookie(request) ? nil : AppError.unauthenticated.response },
            admit: { request in try authorize(request) }
        )
        return AppRoute(access: access, route: Route(method, pattern, maxBodyBytes: maxBodyBytes, admission: admission, handler: .respond(guarded)))
    }
}

/// The route table: every route of the server, one line each, with who may call it. The helpers above
/// enforce the access column: `.staff` hands the handler a session (``StaffContext``), `.box` a box
/// (``BoxPrincipal``), `.provider` a provider whose signature verified, `.metrics` checks its token.
/// The pages people open in a browser (the caseworkers' app at `/`, its files under `/assets/…`, the
/// applicant's status page and the box panel) come first; files served from memory answer on the event
/// loop, live files (development) touch the disk.
public enum Routes {
    public static func entries(for app: Application) -> [AppRoute] {
        let ops = OperationsHandlers(app: app), web = app.web
        let assets: Execution = web.live ? .worker : .eventLoop
        let kb = 1024
        return [
            // Operations
            .open(.GET, "/health", execution: .eventLoop) { _ in ops.health() },
            .open(.GET, "/ready") { _ in ops.ready() },
            .metrics(.GET, "/metrics", app: app) { ops.metrics() },
            // Pages
            .open(.GET, "/", execution: assets) { r in web.page("index.html", request: r) },
            .open(.GET, "/assets/{version}/{file...}", execution: assets) { r in web.respond(to: r, version: r.parameter("version"), encodedPath: r.parameter("file")) },
            .open(.GET, "/box-panel", execution: assets) { r in web.page("box-panel.html", request: r) },
            .openAsynchronous(.GET, "/status") { r, responder in try StatusPage.respond(app, r, responder) },
            // Sessions
            .open(.POST, "/api/v1/auth/login", maxBodyBytes: 4 * kb) { r in try AuthHandlers.login(app, r) },
            .staff(.POST, "/api/v1/auth/logout", app: app) { _, c in try AuthHandlers.logout(c) },
            .staff(.GET, "/api/v1/auth/me", app: app) { _, c in try AuthHandlers.me(c) },
            .open(.GET, "/api/v1/auth/session") { r in try AuthHandlers.session(app, r) },
            // The public status check
            .openAsynchronous(.GET, "/api/v1/status/{vorgangsnummer}") { r, responder in try StatusHandlers.status(app, r, responder) },
            // Applications
            .staff(.POST, "/api/v1/applications/preview", maxBodyBytes: 16 * kb, app: app) { r, _ in try ApplicationPreview.preview(r.decode(ApplicationPreview.Draft.self)) },
            .staff(.POST, "/api/v1/applications", maxBodyBytes: 16 * kb, app: app) { _, c in try ApplicationHandlers.create(c) },
            .staff(.GET, "/api/v1/applications", app: app) { r, c in try ApplicationHandlers.list(c, try r.queryParameters()) },
            .staff(.GET, "/api/v1/applications/{id}", app: app) { r, c in try ApplicationHandlers.read(c, try r.applicationID()) },
            .staff(.PATCH, "/api/v1/applications/{id}", maxBodyBytes: 16 * kb, app: app) { r, c in try ApplicationHandlers.update(c, try r.applicationID()) },
            .staff(.POST, "/api/v1/applications/{id}/cancel", maxBodyBytes: 4 * kb, app: app) { r, c in try ApplicationHandlers.cancel(c, try r.applicationID()) },
            .staff(.GET, "/api/v1/applications/{id}/events", app: app) { r, c in try ApplicationHandlers.events(c, try r.applicationID()) },
            .staff(.GET, "/api/v1/applications/{id}/letter", app: app) { r, c in try ApplicationHandlers.letter(c, try r.applicationID()) },
            .staff(.GET, "/api/v1/applications/{id}/letter/qr.svg", app: app) { r, c in try ApplicationHandlers.letterQR(c, try r.applicationID()) },
            .staff(.POST, "/api/v1/applications/{id}/handover", maxBodyBytes: 4 * kb, app: app) { r, c in try HandoverHandlers.handOver(c, try r.applicationID()) },
            .staff(.POST, "/api/v1/applications/{id}/assignment", maxBodyBytes: 4 * kb, app: app) { r, c in try AssignmentHandlers.assign(c, try r.applicationID()) },
            .staff(.DELETE, "/api/v1/applications/{id}/assignment", app: app) { r, c in try AssignmentHandlers.release(c, try r.applicationID()) },
            .staff(.POST, "/api/v1/applications/{id}/pin", maxBodyBytes: kb, app: app) { r, c in try PinHandlers.reissue(c, try r.applicationID()) },
            .staff(.POST, "/api/v1/applications/{id}/mobile-number-changes", maxBodyBytes: kb, app: app) { r, c in try ApprovalHandlers.requestMobileNumberChange(c, try r.applicationID()) },
            .staff(.GET, "/api/v1/applications/{id}/export", access: .supervisor, app: app) { r, c in try ApplicationExport.export(c, try r.applicationID()) },
            // Four-eyes approvals
            .staff(.GET, "/api/v1/approvals", app: app) { r, c in try ApprovalHandlers.list(c, try r.queryParameters()) },
            .staff(.GET, "/api/v1/approvals/{id}", app: app) { r, c in try ApprovalHandlers.read(c, try ApprovalHandlers.approvalID(r.parameter("id"))) },
            .staff(.POST, "/api/v1/approvals/{id}/approve", access: .supervisor, maxBodyBytes: kb, app: app) { r, c in try ApprovalHandlers.decide(c, try ApprovalHandlers.approvalID(r.parameter("id")), .approve) },
            .staff(.POST, "/api/v1/approvals/{id}/reject", access: .supervisor, maxBodyBytes: kb, app: app) { r, c in try ApprovalHandlers.decide(c, try ApprovalHandlers.approvalID(r.parameter("id")), .reject) },
            // Deliveries from the Bundesdruckerei
            .staff(.POST, "/api/v1/deliveries", maxBodyBytes: 1 << 20, app: app) { _, c in try DeliveryHandlers.create(c) },
            .staff(.POST, "/api/v1/deliveries/import", maxBodyBytes: 1 << 20, app: app) { _, c in try DeliveryHandlers.importCSV(c) },
            .staff(.POST, "/api/v1/deliveries/{id}/items", maxBodyBytes: 1 << 20, app: app) { r, c in try DeliveryHandlers.appendItems(c, try r.deliveryID()) },
            .staff(.GET, "/api/v1/deliveries/{id}", app: app) { r, c in try DeliveryHandlers.read(c, try r.deliveryID()) },
            // Box controllers
            .box(.GET, "/api/v1/box/assignments", app: app, deferred: BoxControllerHandlers.poll),
            .box(.POST, "/api/v1/box/loading", app: app, BoxLoading.load),
            .box(.POST, "/api/v1/box/events", app: app, BoxEvents.report),
            .box(.POST, "/api/v1/box/pickups", app: app, reading: BoxPickupStore.admitStart, BoxPickup.start),
            .box(.POST, "/api/v1/box/pickups/{id}/factors", app: app, reading: BoxPickupStore.readFactors, BoxPickup.factors),
            // Sites
            .staff(.GET, "/api/v1/sites", app: app) { _, c in try SiteHandlers.list(c) },
            .staff(.POST, "/api/v1/sites", access: .supervisor, maxBodyBytes: 16 * kb, app: app) { _, c in try SiteHandlers.create(c) },
            .staff(.PUT, "/api/v1/sites/{id}/hours", access: .supervisor, maxBodyBytes: 16 * kb, app: app) { r, c in try SiteHandlers.replaceHours(c, try r.siteID()) },
            .staff(.PUT, "/api/v1/sites/{id}/pickup-settings", access: .supervisor, maxBodyBytes: 4 * kb, app: app) { r, c in try SiteHandlers.replacePickupSettings(c, try r.siteID()) },
            .staff(.GET, "/api/v1/sites/{id}/retrieval-list", app: app) { r, c in try RetrievalList.page(c, siteID: try r.siteID()) },
            .staff(.POST, "/api/v1/sites/{id}/exceptions", access: .supervisor, maxBodyBytes: 4 * kb, app: app) { r, c in try SiteHandlers.upsertException(c, try r.siteID()) },
            .staff(.DELETE, "/api/v1/sites/{id}/exceptions/{day}", access: .supervisor, app: app) { r, c in try SiteHandlers.deleteException(c, try r.siteID(), day: r.parameter("day")) },
            // Boxes and compartments
            .staff(.GET, "/api/v1/boxes", app: app) { _, c in try BoxHandlers.list(c) },
            .staff(.POST, "/api/v1/boxes", access: .supervisor, maxBodyBytes: 4 * kb, app: app) { _, c in try BoxHandlers.create(c) },
            .staff(.GET, "/api/v1/boxes/{id}", app: app) { r, c in try BoxHandlers.read(c, try r.boxID()) },
            .staff(.GET, "/api/v1/boxes/{id}/loading-list", app: app) { r, c in try LoadingList.page(c, boxID: try r.boxID()) },
            .staff(.GET, "/api/v1/boxes/{id}/forecast", app: app) { r, c in try DashboardHandlers.forecast(c, boxID: try r.boxID()) },
            .staff(.POST, "/api/v1/boxes/{id}/token", access: .supervisor, maxBodyBytes: kb, app: app) { r, c in try BoxHandlers.issueToken(c, try r.boxID()) },
            .staff(.POST, "/api/v1/boxes/{id}/compartments", access: .supervisor, maxBodyBytes: 16 * kb, app: app) { r, c in try BoxHandlers.createCompartments(c, try r.boxID()) },
            .staff(.POST, "/api/v1/boxes/{id}/compartments/{number}/block", maxBodyBytes: 4 * kb, app: app) { r, c in try BoxHandlers.block(c, try r.boxID(), try BoxHandlers.number(r)) },
            .staff(.POST, "/api/v1/boxes/{id}/compartments/{number}/unblock", maxBodyBytes: kb, app: app) { r, c in try BoxHandlers.unblock(c, try r.boxID(), try BoxHandlers.number(r)) },
            // Overview
            .staff(.GET, "/api/v1/dashboard", app: app) { _, c in try DashboardHandlers.dashboard(c) },
            // Staff accounts
            .staff(.GET, "/api/v1/users", access: .supervisor, app: app) { _, c in try UserHandlers.list(c) },
            .staff(.POST, "/api/v1/users", access: .supervisor, maxBodyBytes: 8 * kb, app: app) { _, c in try UserHandlers.create(c) },
            .staff(.PUT, "/api/v1/users/{id}/badge", access: .supervisor, maxBodyBytes: kb, app: app) { r, c in try UserHandlers.setBadge(c, try r.userID()) },
            .staff(.DELETE, "/api/v1/users/{id}/badge", access: .supervisor, app: app) { r, c in try UserHandlers.removeBadge(c, try r.userID()) },
            .staff(.POST, "/api/v1/users/{id}/disable", access: .supervisor, maxBodyBytes: kb, app: app) { r, c in try UserHandlers.disable(c, try r.userID()) },
            // SMS
            .staff(.GET, "/api/v1/sms/messages", app: app) { r, c in try SMSHandlers.messages(c, try r.queryParameters()) },
            .staff(.GET, "/api/v1/sms/status", app: app) { _, c in try SMSHandlers.status(c) },
            .staff(.GET, "/api/v1/sms/templates", app: app) { _, c in try SMSHandlers.templates(c) },
            .staff(.PUT, "/api/v1/sms/templates/{kind}/{language}", access: .supervisor, maxBodyBytes: 16 * kb, app: app) { r, c in try SMSHandlers.saveTemplate(c, kind: r.parameter("kind"), language: r.parameter("language")) },
            .staff(.POST, "/api/v1/sms/templates/{kind}/{language}/preview", access: .supervisor, maxBodyBytes: 16 * kb, app: app) { r, c in try SMSHandlers.previewTemplate(c, kind: r.parameter("kind"), language: r.parameter("language")) },
            .staff(.DELETE, "/api/v1/sms/templates/{kind}/{language}", access: .supervisor, app: app) { r, c in try SMSHandlers.deleteTemplate(c, kind: r.parameter("kind"), language: r.parameter("language")) },
            .provider(.POST, "/api/v1/sms/delivery-reports/{provider}", maxBodyBytes: 64 * kb, app: app, SMSDeliveryReports.receive),
            // Privacy and audit
            .staff(.GET, "/api/v1/privacy/erasures", access: .supervisor, app: app) { r, c in try ErasureReceipts.list(c, try r.queryParameters()) },
            .staff(.GET, "/api/v1/audit", access: .supervisor, app: app) { r, c in try AuditHandlers.list(c, try r.queryParameters()) },
        ]
    }

    static func table(for app: Application) -> [Route] {
        entries(for: app).map(\.route)
    }
}

/// The ids in a route's `{id}`: a malformed one answers as an unknown one does.
private extension Request {
    func applicationID() throws -> UUID { try ApplicationStore.id(parameter("id")) }
    func boxID() throws -> UUID { try AdminInput.id(parameter("id"), "box") }
    func siteID() throws -> UUID { try AdminInput.id(parameter("id"), "site") }
    func userID() throws -> UUID { try AdminInput.id(parameter("id"), "user") }
    func deliveryID() throws -> UUID { try AdminInput.id(parameter("id"), "delivery") }
}
