/// The one error type of the `Postgres` module.
///
/// `description` is safe to log: it names the kind, the SQLSTATE, the constraint and our own `reason`,
/// never SQL parameters and never the server's message (which may quote data, e.g. a duplicate key value).
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, coarsely.
    public enum Kind: Sendable, Equatable {
        /// Connecting failed (server down, wrong socket path, authentication).
        case connectionFailed
        /// An established connection broke (server restart, backend terminated, network).
        case connectionLost
        /// No pooled connection became free within the checkout timeout.
        case poolTimeout
        /// The pool was shut down.
        case poolClosed
        /// The server rejected a statement; see `sqlState`.
        case query
        /// A value could not be decoded into the requested Swift type.
        case decoding
        /// The migration runner refused to run or a migration failed.
        case migration
        /// The embedded PostgreSQL launcher failed (binaries missing, initdb or pg_ctl failed).
        case launcher
    }

    /// What went wrong, coarsely.
    public var kind: Kind
    /// SQLSTATE from `PG_DIAG_SQLSTATE`, e.g. `SQLState.uniqueViolation`.
    public var sqlState: String?
    /// `PG_DIAG_CONSTRAINT_NAME`, e.g. the unique index that was violated.
    public var constraint: String?
    /// `PG_DIAG_TABLE_NAME`.
    public var table: String?
    /// `PG_DIAG_COLUMN_NAME`.
    public var column: String?
    /// `PG_DIAG_MESSAGE_PRIMARY`. May contain data: never part of `description`; do not log it unredacted.
    public var serverMessage: String?
    /// Our own text, free of data, e.g. "migration 0002_x.sql changed after it was applied".
    public var reason: String

    /// Creates an error. `reason` must not contain user data.
    public init(
        _ kind: Kind,
        reason: String,
        sqlState: String? = nil,
        constraint: String? = nil,
        table: String? = nil,
        column: String? = nil,
        serverMessage: String? = nil
    ) {
        self.kind = kind
        self.reason = reason
        self.sqlState = sqlState
        self.constraint = constraint
        self.table = table
        self.column = column
        self.serverMessage = serverMessage
    }

    /// Kind, SQLSTATE, constraint and reason; never parameters nor the server message.
    public var description: String {
        var text = "PostgresError.\(kind)"
        if let sqlState { text += " [\(sqlState)]" }
        if let constraint { text += " constraint=\(constraint)" }
        text += ": \(reason)"
        return text
    }

    /// True for errors that mean "the database is not reachable right now": the App answers 503.
    public var isConnectionProblem: Bool {
        switch kind {
        case .connectionFailed, .connectionLost, .poolTimeout, .poolClosed: true
        case .query, .decoding, .migration, .launcher: false
        }
    }

    /// True when a connection that produced this error must not be reused:
    /// SQLSTATE class 08, 57P01/57P02/57P03, or libpq reporting a lost connection.
    var invalidatesConnection: Bool {
        if kind == .connectionLost || kind == .connectionFailed { return true }
        guard let sqlState else { return false }
        return sqlState.hasPrefix("08") || sqlState == SQLState.adminShutdown
            || sqlState == SQLState.crashShutdown || sqlState == SQLState.cannotConnectNow
    }

    /// True for errors after which the whole transaction may succeed when run again.
    var isRetryableTransactionFailure: Bool {
        sqlState == SQLState.serializationFailure || sqlState == SQLState.deadlockDetected
    }
}

/// SQLSTATE codes the application reacts to (PostgreSQL manual, Appendix A).
public enum SQLState {
    public static let uniqueViolation = "23505"
    public static let foreignKeyViolation = "23503"
    public static let checkViolation = "23514"
    public static let notNullViolation = "23502"
    public static let exclusionViolation = "23P01"
    public static let serializationFailure = "40001"
    public static let deadlockDetected = "40P01"
    public static let queryCanceled = "57014"
    public static let adminShutdown = "57P01"
    public static let crashShutdown = "57P02"
    public static let cannotConnectNow = "57P03"
    public static let invalidTextRepresentation = "22P02"
    public static let undefinedTable = "42P01"
    public static let insufficientPrivilege = "42501"
    public static let duplicateObject = "42710"
}
