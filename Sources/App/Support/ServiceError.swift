/// A refusal of a service shared by the HTTP handlers and the operator command line (users, sites, boxes,
/// authorities, the input checks they use): what was refused and why, with a machine code and the field,
/// but no HTTP. `ErrorMapping` answers it over HTTP; the command line prints its message.
public struct ServiceError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        /// The input is wrong (a 400 over HTTP).
        case invalid
        /// No such object, or one of another authority (404).
        case notFound
        /// The object's state or a uniqueness rule does not allow it (409).
        case conflict
    }

    public let kind: Kind
    public let code: String
    /// Safe to show: never echoes personal data or secrets.
    public let message: String
    public let field: String?
    public let extra: [String: String]

    public init(_ kind: Kind, _ code: String, _ message: String, field: String? = nil, extra: [String: String] = [:]) {
        self.kind = kind
        self.code = code
        self.message = message
        self.field = field
        self.extra = extra
    }

    public var description: String { "ServiceError(\(code))" }

    static func invalid(_ field: String, _ code: String = "invalid_field", _ message: String) -> ServiceError {
        ServiceError(.invalid, code, message, field: field)
    }

    static func notFound(_ what: String) -> ServiceError {
        ServiceError(.notFound, "not_found", "No such \(what).")
    }

    static func conflict(_ code: String, _ message: String, field: String? = nil, extra: [String: String] = [:]) -> ServiceError {
        ServiceError(.conflict, code, message, field: field, extra: extra)
    }
}
