import Domain
import HTTPServer
import Logging
import Postgres

/// The one place where errors of the lower modules become HTTP answers.
enum ErrorMapping {
    static func response(for error: any Error, request: Request, logger: Logger) -> Response? {
        if let refusal = error as? ServiceError { return AppError(refusal).response }
        if let transition = error as? IllegalTransition {
            // The lifecycle refused the event, or the row left its state since it was read (a lost race).
            return AppError(.conflict, "illegal_transition", transition.description, extra: ["state": transition.state.rawValue]).response
        }
        if let pg = error as? PostgresError {
            if pg.isConnectionProblem {
                // The database is down, restarting or saturated: tell the client to retry, don't crash.
                logger.warning("database unavailable", metadata: ["request.id": "\(request.requestID)", "http.route": "\(request.route)", "error": "\(pg)"])
                var r = Response.error(.serviceUnavailable, code: "database_unavailable", message: "The database is not reachable right now; try again shortly.")
                r.headers.set("Retry-After", "2")
                return r
            }
            // PostgresError's description never carries parameters or row data.
            logger.error("database error", metadata: ["request.id": "\(request.requestID)", "http.route": "\(request.route)", "error": "\(pg)"])
        }
        return nil
    }
}

extension AppError {
    /// A service's refusal as an HTTP answer: invalid → 400, not found → 404, conflict → 409; code, message,
    /// field and extra members unchanged.
    init(_ refusal: ServiceError) {
        let status: HTTPStatus = switch refusal.kind {
        case .invalid: .badRequest
        case .notFound: .notFound
        case .conflict: .conflict
        }
        self.init(status, refusal.code, refusal.message, field: refusal.field, extra: refusal.extra)
    }
}
