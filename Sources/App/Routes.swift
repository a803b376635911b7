import Crypto
import HTTPServer

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

    /// A route for box controllers: `Authorization: Bearer <box token>`, checked before a body is read.
    static func box(_ method: HTTPMethod, _ pattern: String, maxBodyBytes: Int? = nil, app: Application, handler: RouteHandler) -> AppRoute {
        let admission = Admission(
            screen: { request in BoxAuth.bearerToken(request) == nil ? BoxAuth.invalid.response : nil },
            admit: { request in try BoxAuth.principal(request, app) }
        )
        return AppRoute(access: .box, route: Route(method, pattern, maxBodyBytes: maxBodyBytes ?? openBodyLimit, admission: admission, handler: handler))
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

/// The route table: every route of the server, in one place.
public enum Routes {
    public static func entries(for app: Application) -> [AppRoute] {
        let ops = OperationsHandlers(app: app)
        var routes: [AppRoute] = [
            .open(.GET, "/health", execution: .eventLoop) { _ in ops.health() },
            .open(.GET, "/ready") { _ in ops.ready() },
            .open(.GET, "/metrics", access: .metrics) { req in try ops.metrics(req) },
        ]
        routes += WebRoutes.routes(app)
        routes += AuthHandlers.routes(app)
        routes += StatusHandlers.routes(app)
        routes += ApplicationPreview.routes(app)
        routes += ApplicationHandlers.routes(app)
        routes += HandoverHandlers.routes(app)
        routes += AssignmentHandlers.routes(app)
        routes += PinHandlers.routes(app)
        routes += ApprovalHandlers.routes(app)
        routes += DeliveryHandlers.routes(app)
        routes += BoxControllerHandlers.routes(app)
        routes += SiteHandlers.routes(app)
        routes += BoxHandlers.routes(app)
        routes += DashboardHandlers.routes(app)
        routes += UserHandlers.routes(app)
        routes += SMSHandlers.routes(app)
        routes += ErasureReceipts.routes(app)
        routes += AuditHandlers.routes(app)
        routes += ApplicationExport.routes(app)
        return routes
    }

    static func table(for app: Application) -> [Route] {
        entries(for: app).map(\.route)
    }
}
