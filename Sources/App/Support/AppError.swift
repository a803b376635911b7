import Domain
import HTTPServer

/// Errors of the application with their HTTP answer, in the one error shape of openapi.yaml.
public struct AppError: HTTPResponseError, CustomStringConvertible {
    public let status: HTTPStatus
    public let code: String
    public let message: String
    public let field: String?
    public let headers: HTTPHeaders
    public let extra: [String: String]

    public init(_ status: HTTPStatus, _ code: String, _ message: String, field: String? = nil, headers: HTTPHeaders = [:], extra: [String: String] = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers
        self.extra = extra
    }

    public var description: String { "AppError(\(status.code) \(code))" }

    /// 400: a field failed validation.
    static func invalid(_ field: String, _ code: String = "invalid_field", _ message: String) -> AppError {
        AppError(.badRequest, code, message, field: field)
    }

    static let unauthenticated = AppError(.unauthorized, "unauthenticated", "Log in first.")
    static let forbidden = AppError(.forbidden, "forbidden", "Your role does not allow this.")
    static let csrf = AppError(.forbidden, "csrf_token_invalid", "The X-CSRF-Token header is missing or does not match the session.")

    /// 404 for missing objects and for objects of another authority alike.
    static func notFound(_ what: String) -> AppError {
        AppError(.notFound, "not_found", "No such \(what).")
    }

    /// 409: the object's state does not allow the action; carries the current state.
    static func illegalTransition(current: String, action: String) -> AppError {
        AppError(.conflict, "illegal_transition", "The application is \(current); \(action) is not possible in that state.", extra: ["state": current])
    }

    /// 409 for an application: its state does not allow the action.
    static func illegalTransition(current: ApplicationState, action: String) -> AppError {
        illegalTransition(current: current.rawValue, action: action)
    }

    static func conflict(_ code: String, _ message: String, field: String? = nil, extra: [String: String] = [:]) -> AppError {
        AppError(.conflict, code, message, field: field, extra: extra)
    }

    /// 409 for an application whose personal data the retention pass erased: `consequence` says what is
    /// therefore not possible.
    static func personalDataErased(_ consequence: String) -> AppError {
        AppError(.conflict, "personal_data_erased", "The personal data of this application was erased after the retention period; \(consequence).")
    }

    static func tooManyRequests(retryAfterSeconds: Int, _ message: String = "Too many requests; try again later.") -> AppError {
        AppError(.tooManyRequests, "rate_limited", message, headers: ["Retry-After": String(retryAfterSeconds)])
    }
}
