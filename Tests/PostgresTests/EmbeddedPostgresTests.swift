@testable import EmbeddedPostgres
import Foundation
import Postgres
import PostgresTestSupport
import Testing

@Suite("EmbeddedPostgres")
struct EmbeddedPostgresTests {
    @Test func findsTheServerBinaries() throws {
        let bin = try EmbeddedPostgres.binDirectory()
        #expect(FileManager.default.isExecutableFile(atPath: bin + "/initdb"))
        #expect(FileManager.default.isExecutableFile(atPath: bin + "/pg_ctl"))
    }

    @Test func startingAnAlreadyStartedClusterReusesIt() throws {
        let cluster = try TestPostgres.shared()
        guard let embedded = cluster.embedded else { return }  // DATABASE_URL: nothing embedded to reuse
        let before = try PostgresConnection.connect(embedded.connectionString(), logger: Fixtures.logger)
        defer { before.close() }
        let startTime = try before.query("SELECT pg_postmaster_start_time()").first?.decode(Date.self, at: 0)
        try embedded.start()
        #expect(!before.isBroken)
        let after = try PostgresConnection.connect(embedded.connectionString(), logger: Fixtures.logger)
        defer { after.close() }
        #expect(try after.query("SELECT pg_postmaster_start_time()").first?.decode(Date.self, at: 0) == startTime)
        #expect(try after.query("SELECT current_database()").first?.decode(String.self, at: 0) == "pickupbox")
    }

    @Test func createDatabaseRejectsUnsafeNames() throws {
        let embedded = EmbeddedPostgres(directory: TestPostgres.scratchDirectory("unused"), logger: Fixtures.logger)
        let error = #expect(throws: PostgresError.self) { try embedded.createDatabase("x\"; DROP") }
        #expect(error?.kind == .launcher)
    }

    @Test func connectionStringUsesTheUnixSocket() {
        let embedded = EmbeddedPostgres(directory: TestPostgres.scratchDirectory("unused"), logger: Fixtures.logger)
        let string = embedded.connectionString(database: "abc")
        #expect(string.hasPrefix("host=/"))
        #expect(string.hasSuffix("port=5432 user=postgres dbname=abc"))
    }
}

@Suite("Server tools inherit nothing")
struct CommandRunnerDescriptorTests {
    /// pg_ctl's server outlives the call: a descriptor of ours that it inherited, like the write end of a pipe a
    /// test reads to its end, would stay open as long as PostgreSQL runs (a test hung so once).
    @Test func aSpawnedToolSeesOnlyStandardInputOutputAndError() throws {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)  // without O_CLOEXEC, as Foundation's Pipe makes them
        defer { ends.forEach { close($0) } }
        let output = try CommandRunner().check("/bin/ls", ["/proc/self/fd"], what: "ls")
        let open = Set(output.text.split(whereSeparator: \.isNewline).compactMap { Int32($0) })
        #expect(open.isDisjoint(with: ends), "inherited: \(open.intersection(ends))")
        // 0, 1, 2 and the directory ls itself opened to list them.
        #expect(open.allSatisfy { $0 <= 3 }, "\(open.sorted())")
    }

    /// A tool starts with no signal blocked or ignored, as from a shell, whatever the spawning thread had:
    /// `serve` blocks SIGTERM and SIGINT in every thread and ignores SIGPIPE. SIGHUP and SIGQUIT stand for
    /// the ignored ones here: other tests of this process set SIGPIPE's disposition, which is the process's.
    @Test func aSpawnedTool_startsWithNoSignalBlockedOrIgnored() throws {
        var blocked = sigset_t(), previous = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGTERM)
        sigaddset(&blocked, SIGINT)
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        let hangUp = signal(SIGHUP, SIG_IGN), quit = signal(SIGQUIT, SIG_IGN)
        defer { signal(SIGHUP, hangUp); signal(SIGQUIT, quit) }
        let output = try CommandRunner().check("/bin/grep", ["-E", "^Sig(Blk|Ign):", "/proc/self/status"], what: "grep")
        let masks = Dictionary(uniqueKeysWithValues: output.text.split(whereSeparator: \.isNewline).map { line in
            let parts = line.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
            return (parts[0], UInt64(parts.count > 1 ? parts[1] : "", radix: 16) ?? .max)
        })
        #expect(masks["SigBlk"] == 0, "\(output.text)")
        let ignoredHere = UInt64(1) << (SIGHUP - 1) | UInt64(1) << (SIGQUIT - 1)
        #expect(masks["SigIgn"].map { $0 & ignoredHere } == 0, "\(output.text)")
    }

    /// A tool's exit code as a shell gives it: its own, or 128 + the signal that ended it.
    @Test(arguments: [("exit 3", 3), ("exit 0", 0), ("kill -9 $$", 128 + 9), ("kill -15 $$", 128 + 15)] as [(String, Int32)])
    func aToolsExitCode_orTheSignalThatEndedIt(_ script: String, expected: Int32) throws {
        #expect(try CommandRunner().run("/bin/sh", ["-c", script]).status == expected)
    }
}
