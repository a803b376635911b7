#if canImport(Glibc)
import EmbeddedPostgres
import Glibc
#endif
import Foundation
import Postgres
import PostgresTestSupport
import Testing

/// The embedded cluster after a crash: a `postmaster.pid` whose process is gone — a zombie, or the pid
/// reused by another process after a container restart — must not stop the launcher (docs/ARCHITECTURE.md#faults).
@Suite("Embedded PostgreSQL recovers by itself", .serialized)
struct EmbeddedRecoveryTests {
    static let directory = TestPostgres.scratchDirectory("test-postgres-recovery")

    static func cluster() -> EmbeddedPostgres {
        var embedded = EmbeddedPostgres(directory: directory, logger: Fixtures.logger)
        embedded.fastUnsafe = true
        return embedded
    }

    static var dataDirectory: String {
        let base = (try? FileManager.default.destinationOfSymbolicLink(atPath: directory)) ?? directory
        return base + "/data"
    }

    /// Kills the postmaster with SIGKILL and waits until no process of the cluster is left.
    static func killPostmaster() throws {
        let pidFile = dataDirectory + "/postmaster.pid"
        let text = try String(contentsOfFile: pidFile, encoding: .utf8)
        let pid = try #require(text.split(separator: "\n").first.flatMap { pid_t($0) })
        kill(pid, SIGKILL)
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, !processes(inDirectory: dataDirectory).isEmpty { usleep(50_000) }
        #expect(processes(inDirectory: dataDirectory).isEmpty, "the cluster's processes should be gone")
    }

    /// Live processes whose working directory is `directory` (the postmaster and its children).
    static func processes(inDirectory directory: String) -> [pid_t] {
        let resolved = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
        return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { name -> pid_t? in
            guard let pid = pid_t(name), let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(name)/cwd"),
                  cwd == resolved else { return nil }
            return pid
        }
    }

    /// Puts `pid` into the first line of `postmaster.pid`, as a crash leaves it when the pid is reused.
    static func forgePostmasterPid(_ pid: pid_t) throws {
        let path = dataDirectory + "/postmaster.pid"
        var lines = try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n")
        lines[0] = String(pid)
        try lines.joined(separator: "\n").write(toFile: path, atomically: false, encoding: .utf8)
    }

    @Test func startsDespiteAPostmasterPidOfALiveProcessThatIsNotPostgres() throws {
        let embedded = Self.cluster()
        try embedded.start()
        defer { try? embedded.stop() }
        try Self.killPostmaster()
        // Our own pid: alive, and certainly not this cluster's postmaster.
        try Self.forgePostmasterPid(getpid())
        try embedded.start()
        let connection = try PostgresConnection.connect(embedded.connectionString(), logger: Fixtures.logger)
        defer { connection.close() }
        #expect(try connection.query("SELECT 1").first?.decode(Int.self, at: 0) == 1)
    }

    @Test func startsDespiteAPostmasterPidOfAZombie() throws {
        let embedded = Self.cluster()
        try embedded.start()
        defer { try? embedded.stop() }
        try Self.killPostmaster()
        // A child that exited and was not reaped yet: kill(pid, 0) still succeeds for it.
        var zombie: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
        defer { argv.forEach { free($0) } }
        #expect(posix_spawn(&zombie, "/bin/true", nil, nil, argv, environ) == 0)
        defer { var status: Int32 = 0; waitpid(zombie, &status, 0) }
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline, !((try? String(contentsOfFile: "/proc/\(zombie)/stat", encoding: .utf8))?.contains(") Z ") ?? false) { usleep(10_000) }
        try Self.forgePostmasterPid(zombie)
        try embedded.start()
        let connection = try PostgresConnection.connect(embedded.connectionString(), logger: Fixtures.logger)
        defer { connection.close() }
        #expect(try connection.query("SELECT 1").first?.decode(Int.self, at: 0) == 1)
    }

    @Test func theLastLeaseStopsTheCluster_whoeverStartedIt() throws {
        let embedded = Self.cluster()
        // Running before anyone holds a lease: an orphan of a process that was killed.
        try embedded.start()
        let first = try embedded.acquire()
        let second = try embedded.acquire()
        first.release()
        #expect(!Self.processes(inDirectory: Self.dataDirectory).isEmpty, "another lease holder still uses it")
        second.release()
        #expect(Self.processes(inDirectory: Self.dataDirectory).isEmpty, "the last lease stops the cluster")
        #expect(!FileManager.default.fileExists(atPath: Self.dataDirectory + "/postmaster.pid"))
    }
}
