import CLibPQ
import DecimalParsing
import Foundation
import Logging

/// Owns one `PGconn*` and runs statements on it with libpq's blocking API.
///
/// `@unchecked Sendable`: libpq connections must not be used from two threads at once. The type is only
/// ever used by one owner at a time — the pool hands a connection to exactly one caller and takes it back
/// before handing it out again; the listener keeps its connection on its own thread. Nothing here is
/// guarded by a lock, so do not share one connection between threads concurrently.
public final class PostgresConnection: @unchecked Sendable {
    /// Internal for `PostgresPipeline`, which takes a connection over whole.
    private(set) var handle: OpaquePointer?
    let logger: Logger
    private let noticeSink: NoticeSink
    /// SQL text → prepared statement name, for this connection only.
    private var preparedStatements: [String: String] = [:]
    static let preparedStatementLimit = 512

    private init(handle: OpaquePointer, logger: Logger) {
        self.handle = handle
        self.logger = logger
        self.noticeSink = NoticeSink(logger: logger)
        // libpq prints NOTICEs to stderr by default; route them to the logger instead (without their text,
        // which may contain data).
        PQsetNoticeProcessor(handle, { context, _ in
            guard let context else { return }
            Unmanaged<NoticeSink>.fromOpaque(context).takeUnretainedValue().logger.debug("postgres notice received")
        }, Unmanaged.passUnretained(noticeSink).toOpaque())
    }

    deinit {
        close()
    }

    /// Opens a connection. `connectionString` is libpq conninfo or a `postgres://` URL; the other settings are
    /// added to it (and override the same keys in it). Every connection uses UTC, ISO dates and hex `bytea`.
    public static func connect(
        _ connectionString: String,
        connectTimeoutSeconds: Int = 5,
        statementTimeoutMilliseconds: Int? = nil,
        applicationName: String = "pickupbox",
        synchronousCommit: Bool = true,
        logger: Logger
    ) throws -> PostgresConnection {
        // jit=off: our queries are short or aggregate a few hundred thousand rows at most; compiling them
        // cost more than it saved (the dashboard's 30-day occupancy: 416 ms with JIT, 146 ms without).
        var options = "-c TimeZone=UTC -c DateStyle=ISO -c bytea_output=hex -c extra_float_digits=1 -c jit=off"
        if let statementTimeoutMilliseconds {
            options += " -c statement_timeout=\(statementTimeoutMilliseconds)"
        }
        if !synchronousCommit {
            options += " -c synchronous_commit=off"
        }
        // dbname comes first so that expand_dbname turns the conninfo/URL into settings; later keys win.
        let parameters: [(String, String)] = [
            ("dbname", connectionString),
            ("connect_timeout", String(connectTimeoutSeconds)),
            ("application_name", applicationName),
            ("client_encoding", "UTF8"),
            ("options", options),
        ]
        let handle = try withCStringArray(parameters.map(\.0)) { keywords in
            try withCStringArray(parameters.map(\.1)) { values in
                guard let handle = PQconnectdbParams(keywords, values, 1) else {
                    throw PostgresError(.connectionFailed, reason: "libpq could not allocate a connection")
                }
                return handle
            }
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = firstLine(PQerrorMessage(handle))
            PQfinish(handle)
            throw PostgresError(.connectionFailed, reason: "could not connect: \(message)", serverMessage: message)
        }
        return PostgresConnection(handle: handle, logger: logger)
    }

    /// True when the connection is closed or libpq considers it unusable.
    public var isBroken: Bool {
        guard let handle else { return true }
        return PQstatus(handle) != CONNECTION_OK
    }

    /// The socket descriptor, or -1 when closed. For `poll`, never for I/O.
    public var socket: Int32 {
        guard let handle else { return -1 }
        return PQsocket(handle)
    }

    /// Closes the connection; calling it again does nothing.
    public func close() {
        guard let handle else { return }
        self.handle = nil
        PQfinish(handle)
    }

    /// Runs `query` as a prepared statement (cached per connection by SQL text) and returns its rows.
    @discardableResult
    public func query(_ query: PostgresQuery) throws -> PostgresRows {
        try run(query) { PostgresRows(copying: $0) }
    }

    /// Runs `query` and returns the number of rows it affected (`PQcmdTuples`; 0 for other commands).
    @discardableResult
    public func execute(_ query: PostgresQuery) throws -> Int {
        try run(query) { result in
            guard let text = PQcmdTuples(result) else { return 0 }
            return Int(decimal: String(cString: text)) ?? 0
        }
    }

    /// Runs one or more statements without parameters (simple query protocol), e.g. a migration file.
    public func simpleQuery(_ sql: String) throws {
        let handle = try openHandle()
        let result = PQexec(handle, sql)
        defer { PQclear(result) }
        try check(result, context: "statement")
    }

    /// Runs `body` inside a savepoint of the open transaction: when it throws, its work is rolled back,
    /// the transaction stays usable (e.g. to store the answer to an idempotent request) and the error
    /// is rethrown. Savepoints nest (PostgreSQL takes the newest of a name).
    public func savepoint<T>(_ body: () throws -> T) throws -> T {
        try simpleQuery("SAVEPOINT pickupbox")
        do {
            let value = try body()
            try simpleQuery("RELEASE SAVEPOINT pickupbox")
            return value
        } catch {
            // A broken connection has no transaction left to save; the original error says why.
            if !isBroken { try? simpleQuery("ROLLBACK TO SAVEPOINT pickupbox"); try? simpleQuery("RELEASE SAVEPOINT pickupbox") }
            throw error
        }
    }

    /// Runs `body` inside `BEGIN … COMMIT` on this connection, rolling back when it throws. Unlike
    /// `PostgresPool.transaction`, nothing is retried: for work that holds a session-level lock on this
    /// connection across several transactions and resumes by itself (the erasure pass).
    public func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try simpleQuery("BEGIN")
        do {
            let value = try body(self)
            try simpleQuery("COMMIT")
            return value
        } catch {
            if !isBroken, transactionStatus != .idle { try? simpleQuery("ROLLBACK") }
            throw error
        }
    }

    // MARK: - Internals

    enum TransactionStatus { case idle, active, inTransaction, inFailedTransaction, unknown }

    var transactionStatus: TransactionStatus {
        guard let handle else { return .unknown }
        switch PQtransactionStatus(handle) {
        case PQTRANS_IDLE: return .idle
        case PQTRANS_ACTIVE: return .active
        case PQTRANS_INTRANS: return .inTransaction
        case PQTRANS_INERROR: return .inFailedTransaction
        default: return .unknown
        }
    }

    /// True when an idle connection can be handed out. An idle pool connection has no LISTEN, so anything
    /// the server sent while it was idle (the FATAL error and EOF of a terminated backend or a restart)
    /// means it is gone; libpq itself only notices when the next statement fails.
    func isUsableAfterIdle() -> Bool {
        guard let handle, PQstatus(handle) == CONNECTION_OK else { return false }
        var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) == 0
    }

    /// Reads whatever the server sent without blocking (notifications for the listener).
    /// Returns false when the connection is unusable.
    func consumePendingInput() -> Bool {
        guard let handle else { return false }
        var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        if poll(&descriptor, 1, 0) > 0 {
            if PQconsumeInput(handle) == 0 { return false }
        }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// The next queued notification after `consumePendingInput`, if any.
    func nextNotification() -> (channel: String, payload: String)? {
        guard let handle, let notification = PQnotifies(handle) else { return nil }
        defer { PQfreemem(notification) }
        let channel = String(cString: notification.pointee.relname)
        let payload = notification.pointee.extra.map { String(cString: $0) } ?? ""
        return (channel, payload)
    }

    private func openHandle() throws -> OpaquePointer {
        guard let handle else { throw PostgresError(.connectionLost, reason: "connection is closed") }
        return handle
    }

    private func run<T>(_ query: PostgresQuery, _ read: (OpaquePointer) throws -> T) throws -> T {
        let handle = try openHandle()
        let statementName = try preparedStatementName(for: query.sql, count: query.binds.count)
        let result = withCStringArray(query.binds) { values in
            if let statementName {
                return PQexecPrepared(handle, statementName, Int32(query.binds.count), values, nil, nil, 0)
            }
            return PQexecParams(handle, query.sql, Int32(query.binds.count), nil, values, nil, nil, 0)
        }
        defer { PQclear(result) }
        let checked = try check(result, context: "query")
        return try read(checked)
    }

    /// Prepares `sql` once per connection; nil when the cache is full (the caller then uses PQexecParams).
    private func preparedStatementName(for sql: String, count: Int) throws -> String? {
        if let name = preparedStatements[sql] { return name }
        guard preparedStatements.count < Self.preparedStatementLimit else { return nil }
        let handle = try openHandle()
        let name = "pickupbox_\(preparedStatements.count + 1)"
        let result = PQprepare(handle, name, sql, 0, nil)
        defer { PQclear(result) }
        try check(result, context: "prepare")
        preparedStatements[sql] = name
        return name
    }

    /// Throws a `PostgresError` unless `result` succeeded; returns the non-nil result.
    @discardableResult
    private func check(_ result: OpaquePointer?, context: String) throws -> OpaquePointer {
        if let result {
            switch PQresultStatus(result) {
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
                return result
            default:
                break
            }
        }
        throw makeError(result, context: context)
    }

    func makeError(_ result: OpaquePointer?, context: String) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let result, let ascii = code.asciiValue,
                  let value = PQresultErrorField(result, Int32(ascii)) else { return nil }
            return String(cString: value)
        }
        var error = PostgresError(
            .query,
            reason: "\(context) failed",
            sqlState: field("C"),  // PG_DIAG_SQLSTATE
            constraint: field("n"),  // PG_DIAG_CONSTRAINT_NAME
            table: field("t"),  // PG_DIAG_TABLE_NAME
            column: field("c"),  // PG_DIAG_COLUMN_NAME
            serverMessage: field("M")  // PG_DIAG_MESSAGE_PRIMARY
        )
        // The server puts a SQLSTATE on every error it sends (protocol 3). An error without one was made by
        // libpq itself — the socket broke, the stream made no sense, no result came — even when PQstatus
        // still reads OK (seen under `pg_ctl restart -m immediate`): the connection cannot be trusted.
        if isBroken || error.invalidatesConnection || error.sqlState == nil {
            error.kind = .connectionLost
            error.reason = "\(context) failed: connection to the server was lost or broke (\(error.sqlState == nil ? "client-side failure" : "server closed it"))"
            if error.serverMessage == nil, let handle {
                error.serverMessage = Self.firstLine(PQerrorMessage(handle))
            }
        }
        return error
    }

    static func firstLine(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "unknown error" }
        let text = String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.split(separator: "\n").first.map(String.init) ?? "unknown error"
    }
}

/// Holds the logger for libpq's notice processor callback; owned by the connection, outlives `PQfinish`.
private final class NoticeSink: Sendable {
    let logger: Logger
    init(logger: Logger) { self.logger = logger }
}

/// Calls `body` with a C array of C strings (nil entries stay NULL), valid only during the call.
func withCStringArray<R>(
    _ strings: [String?],
    _ body: (UnsafePointer<UnsafePointer<CChar>?>) throws -> R
) rethrows -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { $0.flatMap { strdup($0) } }
    defer { pointers.forEach { free($0) } }
    pointers.append(nil)  // keyword arrays are NULL-terminated; harmless for value arrays
    return try pointers.withUnsafeBufferPointer { buffer in
        try buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) {
            try body($0)
        }
    }
}
