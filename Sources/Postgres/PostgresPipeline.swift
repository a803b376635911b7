import CLibPQ
import Foundation
import Logging

/// One connection in libpq's pipeline mode, non-blocking, owned by an event loop: statements are sent
/// without waiting for the ones before them, their results come back in order, and each goes to its
/// completion. No thread waits on the database and no thread is woken to hand an answer on.
///
/// The statements sent between two `flush()` calls (an event loop's round) form one segment with one
/// sync point: they go out in one write and run in one implicit transaction (each still reads with its
/// own snapshot, as under READ COMMITTED). When one fails, the server skips the rest of its segment:
/// those fail with `abortedReason` (or with the error of a statement that did not prepare), and the
/// owner may ask them again. The next segment is not affected.
///
/// The owner drives it from one thread: it watches `socket` for reading (and for writing while
/// `wantsWrite`), calls `receive()` when the socket is readable and `flush()` after queueing (or when
/// the socket is writable). When `isBroken` turns true, it stops watching the socket and calls `close`.
/// It keeps the descriptor's number from when it started watching: when reading or writing fails,
/// libpq closes the socket itself, and `socket` reads -1 from then on.
///
/// libpq 15's `PQpipelineSync` also writes what is queued (`PQsendPipelineSync`, which does not, came with
/// 17), so the sync point is set in `flush()`, once per segment.
///
/// `@unchecked Sendable`: it is made on a thread that may block (connecting does) and handed whole to
/// the thread that owns it from then on; it is never used from two threads at once.
public final class PostgresPipeline: @unchecked Sendable {
    public typealias Completion = (Result<PostgresRows, PostgresError>) -> Void

    /// What the next results belong to, in the order they were sent.
    private enum Expectation {
        /// `PQsendPrepare`: one result, then NULL.
        case prepare(sql: String)
        /// A statement: its result, then NULL.
        case statement(Completion, sentAt: UInt64)
        /// `PQpipelineSync`: one `PGRES_PIPELINE_SYNC` result, no NULL after it.
        case sync
    }

    private let connection: PostgresConnection
    private var expected: [Expectation] = []
    private var head = 0
    /// The first result of the statement being received (a statement sends one; a second is ignored).
    private var current: Result<PostgresRows, PostgresError>?
    /// Why the server aborted the rest of a segment (a statement that did not prepare): the statement
    /// after it fails with this error, not as a lost connection.
    private var abortCause: PostgresError?
    /// SQL text → prepared statement name, on this connection.
    private var prepared: [String: String] = [:]
    /// Names are never reused, also after a statement failed to prepare.
    private var preparedCount = 0
    public private(set) var isBroken = false
    /// True while libpq holds bytes it could not write yet: watch the socket for writing.
    public private(set) var wantsWrite = false
    /// Statements sent whose results have not all arrived.
    public private(set) var inFlight = 0
    /// Statements were sent since the last sync point.
    private var unsynced = false

    /// The reason of the error of a statement the server skipped because an earlier one of its segment failed.
    public static let abortedReason = "query failed: an earlier statement of its segment failed"


    private init(connection: PostgresConnection) {
        self.connection = connection
    }

    deinit {
        close(reason: "the pipeline was released")
    }

    /// Opens a connection with `configuration`'s settings and puts it in non-blocking pipeline mode.
    /// Blocks while connecting (up to the configuration's connect time-out): call it off the event loop.
    public static func connect(_ configuration: PostgresConfiguration, applicationName: String, logger: Logger) throws -> PostgresPipeline {
        let connection = try PostgresConnection.connect(
            configuration.connectionString,
            connectTimeoutSeconds: configuration.connectTimeoutSeconds,
            statementTimeoutMilliseconds: configuration.statementTimeoutMilliseconds,
            applicationName: applicationName,
            synchronousCommit: configuration.synchronousCommit,
            logger: logger
        )
        guard let handle = connection.handle, PQsetnonblocking(handle, 1) == 0, PQenterPipelineMode(handle) == 1 else {
            connection.close()
            throw PostgresError(.connectionFailed, reason: "could not put the connection in non-blocking pipeline mode")
        }
        return PostgresPipeline(connection: connection)
    }

    /// The socket to watch, or -1 once closed.
    public var socket: Int32 { connection.socket }

    /// When the oldest statement still waiting for its result was sent (the owner's clock), or nil.
    public var oldestSentAt: UInt64? {
        for expectation in expected[head...] {
            if case .statement(_, let sentAt) = expectation { return sentAt }
        }
        return nil
    }

    /// Queues `query` (prepared once per connection, by its SQL text) in the current segment; `flush()` sends
    /// it. `completion` runs later, from `receive()` or `close`, on the owner's thread. Returns false, without
    /// calling `completion`, when the pipeline is broken or libpq refused the statement (it is broken then).
    public func send(_ query: PostgresQuery, sentAt: UInt64, completion: @escaping Completion) -> Bool {
        guard !isBroken, let handle = connection.handle else { return false }
        var name = prepared[query.sql]
        if name == nil, prepared.count < PostgresConnection.preparedStatementLimit {
            preparedCount += 1
            let fresh = "pickupbox_pipeline_\(preparedCount)"
            guard PQsendPrepare(handle, fresh, query.sql, 0, nil) == 1 else { return brokeWhileSending() }
            expected.append(.prepare(sql: query.sql))
            prepared[query.sql] = fresh
            name = fresh
        }
        let count = Int32(query.binds.count)
        let sent = withCStringArray(query.binds) { values in
            if let name { return PQsendQueryPrepared(handle, name, count, values, nil, nil, 0) }
            return PQsendQueryParams(handle, query.sql, count, nil, values, nil, nil, 0)
        }
        guard sent == 1 else { return brokeWhileSending() }
        expected.append(.statement(completion, sentAt: sentAt))
        inFlight += 1
        unsynced = true
        return true
    }

    /// Ends the segment with a sync point and writes what libpq holds; `wantsWrite` tells whether some is
    /// left for when the socket is writable.
    public func flush() {
        guard !isBroken, let handle = connection.handle else { return }
        if unsynced {
            unsynced = false
            guard PQpipelineSync(handle) == 1 else { isBroken = true; return }
            expected.append(.sync)
        }
        let outcome = PQflush(handle)
        if outcome < 0 { isBroken = true }
        wantsWrite = outcome == 1
    }

    /// Reads what the server sent and completes every statement whose results are all in.
    public func receive() {
        guard !isBroken, let handle = connection.handle else { return }
        guard PQconsumeInput(handle) == 1 else { isBroken = true; return }
        // A completion may close the pipeline: the loop looks at `isBroken` before touching libpq again.
        while !isBroken, head < expected.count, PQisBusy(handle) == 0 {
            let result = PQgetResult(handle)
            switch expected[head] {
            case .prepare(let sql):
                guard let result else { advance(); continue }
                let status = PQresultStatus(result)
                if status != PGRES_COMMAND_OK {
                    // Not prepared: the next use prepares it again. When it failed (rather than being skipped
                    // after an earlier failure), the statement after it fails with its error.
                    if status != PGRES_PIPELINE_ABORTED { abortCause = connection.makeError(result, context: "prepare") }
                    prepared[sql] = nil
                }
                PQclear(result)
            case .statement(let completion, _):
                guard let result else {
                    let outcome = current ?? .failure(PostgresError(.connectionLost, reason: "query failed: no result arrived"))
                    current = nil
                    inFlight -= 1
                    advance()
                    completion(outcome)
                    continue
                }
                if current == nil {
                    switch PQresultStatus(result) {
                    case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
                        current = .success(PostgresRows(copying: result))
                    case PGRES_PIPELINE_ABORTED:
                        current = .failure(abortCause ?? PostgresError(.query, reason: Self.abortedReason))
                    default:
                        current = .failure(connection.makeError(result, context: "query"))
                    }
                }
                PQclear(result)
            case .sync:
                guard let result else { isBroken = true; return }
                let status = PQresultStatus(result)
                PQclear(result)
                guard status == PGRES_PIPELINE_SYNC else { isBroken = true; return }
                abortCause = nil
                advance()
            }
        }
        if !isBroken, PQstatus(handle) != CONNECTION_OK { isBroken = true }
    }

    /// Fails every statement still waiting (`connectionLost`, with `reason`) and closes the connection.
    /// Calling it again does nothing.
    public func close(reason: String) {
        isBroken = true
        let waiting = expected[head...]
        expected = []
        head = 0
        inFlight = 0
        current = nil
        connection.close()
        for expectation in waiting {
            if case .statement(let completion, _) = expectation {
                completion(.failure(PostgresError(.connectionLost, reason: "query failed: \(reason)")))
            }
        }
    }

    private func advance() {
        head += 1
        if head == expected.count {
            expected.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 256, head * 2 >= expected.count {
            expected.removeSubrange(0..<head)
            head = 0
        }
    }

    private func brokeWhileSending() -> Bool {
        isBroken = true
        return false
    }
}
