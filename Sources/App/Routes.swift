import HTTPServer

/// Who may call a route. Every route has exactly one entry (DESIGN §7); the authorization
/// test walks this table.
public enum Access: String, Sendable, CaseIterable {
    /// Anyone, no credentials.
    case `public`
    /// Operators' scrapers: open, or the bearer `METRICS_TOKEN` when configured.
    case metrics
}

/// One row of the route table: the HTTP route and who may call it.
public struct AppRoute: Sendable {
    public let access: Access
    public let route: Route
}

/// The route table: every route of the server, in one place.
public enum Routes {
    public static func entries(for app: Application) -> [AppRoute] {
        let ops = OperationsHandlers(app: app)
        return [
            AppRoute(access: .public, route: Route(.GET, "/health", execution: .eventLoop) { _ in ops.health() }),
            AppRoute(access: .public, route: Route(.GET, "/ready") { _ in ops.ready() }),
            AppRoute(access: .metrics, route: Route(.GET, "/metrics") { req in try ops.metrics(req) }),
        ]
    }

    static func table(for app: Application) -> [Route] {
        entries(for: app).map(\.route)
    }
}
