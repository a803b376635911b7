import HTTPServer

/// One row of the route table: the HTTP route and who may call it.
public struct AppRoute: Sendable {
    public let access: Access
    public let route: Route

    /// A route anyone may call.
    static func open(_ method: HTTPMethod, _ pattern: String, access: Access = .public, execution: Execution = .worker, maxBodyBytes: Int? = nil,
                     _ handler: @escaping @Sendable (Request) throws -> Response) -> AppRoute {
        AppRoute(access: access, route: Route(method, pattern, maxBodyBytes: maxBodyBytes, execution: execution, handler))
    }

    /// A route for staff: the session cookie is required; `.supervisor` also requires that role;
    /// every method but GET/HEAD requires the session's CSRF token in `X-CSRF-Token`.
    /// Box tokens (Authorization: Bearer) are not looked at, so they never reach these routes.
    static func staff(_ method: HTTPMethod, _ pattern: String, access: Access = .caseworker, maxBodyBytes: Int? = nil, app: Application,
                      _ handler: @escaping @Sendable (Request, StaffContext) throws -> Response) -> AppRoute {
        precondition(access == .caseworker || access == .supervisor, "staff routes are for caseworkers or supervisors")
        let guarded: @Sendable (Request) throws -> Response = { request in
            guard let user = try app.sessions.principal(for: request) else { throw AppError.unauthenticated }
            if access == .supervisor && user.role != .supervisor { throw AppError.forbidden }
            if method != .GET && method != .HEAD {
                guard let token = request.headers["X-CSRF-Token"], constantTimeEquals(Array(token.utf8), Array(user.csrfToken.utf8)) else {
                    throw AppError.csrf
                }
            }
            // Staff answers can be large (a box's grid, lists): gzip when the browser takes it.
            return try handler(request, StaffContext(app: app, request: request, user: user)).compressed(for: request)
        }
        return AppRoute(access: access, route: Route(method, pattern, maxBodyBytes: maxBodyBytes, handler: .respond(guarded)))
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
