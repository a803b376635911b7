import Crypto
import Foundation
import HTTPServer
import Logging
import Postgres

/// `/health`, `/ready` and `/metrics`.
struct OperationsHandlers: Sendable {
    let app: Application

    private static let healthy = Response.json(bytes: Array(#"{"status":"ok"}"#.utf8))

    /// The process is alive and its event loop answers. Touches nothing else.
    func health() -> Response { Self.healthy }

    /// The database answers and the newest migration of this build is applied: one prepared
    /// primary-key lookup.
    func ready() -> Response {
        do {
            let rows = try app.pool.query("SELECT version FROM schema_migrations WHERE version = \(app.latestMigration)")
            guard rows.count == 1 else {
                return .error(.serviceUnavailable, code: "migrations_pending", message: "The database schema is older than this server; run `pickupbox migrate`.")
            }
            return .json(bytes: Array(#"{"status":"ready"}"#.utf8))
        } catch let error as PostgresError where error.isConnectionProblem {
            var r = Response.error(.serviceUnavailable, code: "database_unavailable", message: "The database is not reachable.")
            r.headers.set("Retry-After", "2")
            return r
        } catch {
            app.logger.warning("readiness check failed", metadata: ["error": "\(error)"])
            return .error(.serviceUnavailable, code: "not_ready", message: "The database schema cannot be read.")
        }
    }

    /// Prometheus text exposition format 0.0.4.
    func metrics() -> Response {
        Response(status: .ok, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"], body: app.metrics.render(server: app.server, pool: app.pool, readPool: app.readPool === app.pool ? nil : app.readPool, longPollsWaiting: app.longPolls.count, erasure: app.erasurePass))
    }
}
