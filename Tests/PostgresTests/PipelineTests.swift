import Foundation
import Glibc
import Postgres
import PostgresTestSupport
import Testing

/// `PostgresPipeline` against the real server: statements go out without waiting, their answers come
/// back in order to the right completion, a failure stays in its segment, and a lost connection fails
/// what waits. The tests drive it as an event loop does: `poll` the socket, `receive`, `flush`.
@Suite("Pipelined connection")
struct PipelineTests {
    typealias Outcome = Result<PostgresRows, PostgresError>

    static func pipeline(_ connectionString: String, statementTimeoutMilliseconds: Int? = nil) throws -> PostgresPipeline {
        try PostgresPipeline.connect(
            PostgresConfiguration(connectionString: connectionString, statementTimeoutMilliseconds: statementTimeoutMilliseconds),
            applicationName: "pickupbox-pipeline-test", logger: Fixtures.logger)
    }

    /// Flushes and reads until `done` holds or the pipeline broke, at most `seconds`.
    static func drive(_ pipeline: PostgresPipeline, seconds: Double = 10, until done: () -> Bool) {
        let deadline = Date(timeIntervalSinceNow: seconds)
        pipeline.flush()
        while !done(), !pipeline.isBroken, Date() < deadline {
            var descriptor = pollfd(fd: pipeline.socket, events: Int16(POLLIN | (pipeline.wantsWrite ? POLLOUT : 0)), revents: 0)
            guard poll(&descriptor, 1, 100) >= 0 else { return }
            if descriptor.revents & Int16(POLLOUT) != 0 { pipeline.flush() }
            if descriptor.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 { pipeline.receive() }
        }
    }

    @Test func manyStatementsInFlight_answerInOrder_eachToItsCompletion() throws {
        let pipeline = try Self.pipeline(try TestPostgres.makeDatabase())
        defer { pipeline.close(reason: "test done") }
        var answers: [Int: Int] = [:]
        var order: [Int] = []
        for i in 0..<300 {
            let sent = pipeline.send("SELECT \(i)::int8 * 2 AS n, pg_backend_pid() AS pid", sentAt: UInt64(i)) { outcome in
                order.append(i)
                answers[i] = try? outcome.get().first?.decode(Int.self, column: "n")
            }
            #expect(sent)
        }
        #expect(pipeline.inFlight == 300)
        #expect(pipeline.oldestSentAt == 0)
        Self.drive(pipeline) { order.count == 300 }
        #expect(order == Array(0..<300))
        #expect(answers.count == 300)
        #expect(answers.allSatisfy { $0.value == $0.key * 2 })
        #expect(pipeline.inFlight == 0)
        #expect(pipeline.oldestSentAt == nil)
        #expect(!pipeline.isBroken)
    }

    @Test func aFailingStatement_failsInItsSegmentOnly_andTheNextSegmentsRun() throws {
        let pipeline = try Self.pipeline(try TestPostgres.makeDatabase())
        defer { pipeline.close(reason: "test done") }
        var outcomes: [Int: Outcome] = [:]
        // One segment each (a flush ends one), all in flight together.
        for (i, divisor) in [1, 0, 2, 0, 4].enumerated() {
            #expect(pipeline.send("SELECT 8 / \(divisor)::int AS q", sentAt: 0) { outcomes[i] = $0 })
            pipeline.flush()
        }
        // A statement whose SQL does not even prepare fails in its segment too, and is prepared afresh next time.
        #expect(pipeline.send("SELECT no_such_column FROM pg_class LIMIT 1", sentAt: 0) { outcomes[5] = $0 })
        pipeline.flush()
        #expect(pipeline.send("SELECT 9 AS q", sentAt: 0) { outcomes[6] = $0 })
        Self.drive(pipeline) { outcomes.count == 7 }
        #expect(outcomes.count == 7)
        func quotient(_ i: Int) -> Int? { try? outcomes[i]?.get().first?.decode(Int.self, column: "q") }
        #expect(quotient(0) == 8 && quotient(2) == 4 && quotient(4) == 2 && quotient(6) == 9)
        for i in [1, 3] {
            guard case .failure(let error)? = outcomes[i] else { Issue.record("statement \(i) should fail"); continue }
            #expect(error.sqlState == "22012", "division by zero: \(error)")
            #expect(!error.isConnectionProblem)
        }
        guard case .failure(let undefined)? = outcomes[5] else { Issue.record("the undefined column should fail"); return }
        #expect(undefined.sqlState == "42703", "\(undefined)")
        #expect(!pipeline.isBroken)
    }

    @Test func inOneSegment_theStatementsAfterAFailureAreSkipped_andSaySo() throws {
        let pipeline = try Self.pipeline(try TestPostgres.makeDatabase())
        defer { pipeline.close(reason: "test done") }
        var outcomes: [Int: Outcome] = [:]
        for (i, divisor) in [1, 0, 2].enumerated() {
            #expect(pipeline.send("SELECT 8 / \(divisor)::int AS q", sentAt: 0) { outcomes[i] = $0 })
        }
        // A statement to prepare after the failure is skipped as well (and prepared when next used).
        #expect(pipeline.send("SELECT no_such_column FROM pg_class LIMIT 1", sentAt: 0) { outcomes[3] = $0 })
        pipeline.flush()
        #expect(pipeline.send("SELECT 8 / \(4)::int AS q", sentAt: 0) { outcomes[4] = $0 })
        Self.drive(pipeline) { outcomes.count == 5 }
        func quotient(_ i: Int) -> Int? { try? outcomes[i]?.get().first?.decode(Int.self, column: "q") }
        #expect(quotient(0) == 8)
        guard case .failure(let failed)? = outcomes[1], case .failure(let skipped)? = outcomes[2], case .failure(let unprepared)? = outcomes[3] else {
            Issue.record("the division by zero and what follows it in its segment should fail: \(outcomes)")
            return
        }
        #expect(failed.sqlState == "22012")
        #expect(skipped.reason == PostgresPipeline.abortedReason)
        #expect(unprepared.reason == PostgresPipeline.abortedReason, "\(unprepared)")
        // The next segment runs as if nothing happened.
        #expect(quotient(4) == 2)
        #expect(!pipeline.isBroken)
    }

    @Test func aTerminatedBackend_breaksThePipeline_andCloseFailsWhatWaits() throws {
        let database = try TestPostgres.makeDatabase()
        let pipeline = try Self.pipeline(database)
        var first: Outcome?
        #expect(pipeline.send("SELECT 1 AS n", sentAt: 0) { first = $0 })
        Self.drive(pipeline) { first != nil }
        #expect((try? first?.get().count) == 1)
        #expect(try Fixtures.terminateBackends(connectionString: database, applicationName: "pickupbox-pipeline-test") == 1)
        // The server's goodbye arrives without a statement waiting: reading it breaks the pipeline.
        Self.drive(pipeline, seconds: 5) { false }
        #expect(pipeline.isBroken)
        #expect(!pipeline.send("SELECT 2", sentAt: 0) { _ in Issue.record("a broken pipeline takes no statement") })

        // Statements waiting when the owner gives up on a connection fail as a lost connection.
        let second = try Self.pipeline(database)
        var waiting: [Outcome] = []
        #expect(second.send("SELECT pg_sleep(5)", sentAt: 0) { waiting.append($0) })
        #expect(second.send("SELECT 3", sentAt: 0) { waiting.append($0) })
        second.flush()
        second.close(reason: "no answer within the statement time-out")
        #expect(waiting.count == 2)
        for outcome in waiting {
            guard case .failure(let error) = outcome else { Issue.record("should fail"); continue }
            #expect(error.kind == .connectionLost)
            #expect(error.reason.contains("statement time-out"))
        }
        #expect(second.socket == -1)
    }

    @Test func theStatementTimeout_failsTheSlowStatement_andTheNextOneRuns() throws {
        let pipeline = try Self.pipeline(try TestPostgres.makeDatabase(), statementTimeoutMilliseconds: 200)
        defer { pipeline.close(reason: "test done") }
        var outcomes: [Outcome] = []
        #expect(pipeline.send("SELECT pg_sleep(2)", sentAt: 0) { outcomes.append($0) })
        pipeline.flush()
        #expect(pipeline.send("SELECT 7 AS n", sentAt: 0) { outcomes.append($0) })
        Self.drive(pipeline) { outcomes.count == 2 }
        #expect(outcomes.count == 2)
        if case .failure(let error)? = outcomes.first {
            #expect(error.sqlState == "57014", "query_canceled: \(error)")
        } else {
            Issue.record("the slow statement should time out")
        }
        #expect((try? outcomes.last?.get().first?.decode(Int.self, column: "n")) == 7)
    }
}
