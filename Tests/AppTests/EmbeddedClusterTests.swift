#if canImport(Glibc)
import Glibc
#endif
import EmbeddedPostgres
import Foundation
import HTTPTestSupport
import PostgresTestSupport
import Testing

/// `pickupbox serve` with its embedded PostgreSQL, killed with SIGKILL and started again on the same
/// data directory: no manual step, and the cluster is stopped when the server stops (docs/ARCHITECTURE.md#faults).
@Suite("Embedded PostgreSQL across a crash of the server")
struct EmbeddedClusterTests {
    /// A server on the embedded cluster under `dataDirectory`, on port 0: it names the bound port in its "serving"
    /// line (a notice), which `ready` reads from the pipe.
    static func serve(_ dataDirectory: String) throws -> (Process, Pipe) {
        try CommandLineTests.launch(["serve", "--data-dir", dataDirectory, "--port", "0"], environment: [
            "PATH": "/usr/bin:/bin", "PICKUPBOX_SECRET_KEY": String(repeating: "07", count: 32), "LOG_LEVEL": "notice",
            "ACCESS_LOG": "off", "SMS_DISPATCHER": "off", "PICKUPBOX_MIGRATIONS_DIR": packageRoot + "/Migrations",
        ])
    }

    /// The server named its port within 60 s, and `/ready` answers 200 there within 60 s more.
    static func ready(_ process: Process, _ pipe: Pipe) -> Bool {
        guard let port = CommandLineTests.servingPort(of: process, reading: pipe.fileHandleForReading, seconds: 60).port else { return false }
        return SMSFixture.wait(seconds: 60) {
            guard process.isRunning, let client = try? TestClient(port: port, timeout: 1) else { return false }
            return client.request("GET", "/ready")?.status == 200
        }
    }

    /// Waits for the process to end and returns its exit status (nil: still running after 30 s). Reaps it
    /// here: Foundation does not always notice a child that was killed.
    static func exitStatus(_ process: Process) -> Int32? {
        let pid = process.processIdentifier
        var result: Int32?
        _ = SMSFixture.wait(seconds: 30) {
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { result = WaitStatus.exitCode(status) }
            // Foundation reaped it first: its status is the signal's number when a signal ended it.
            if reaped < 0 && errno == ECHILD && !process.isRunning {
                result = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
            }
            return result != nil
        }
        return result
    }

    /// The postmaster of the cluster under `dataDirectory`, when one runs (alive, not a zombie).
    static func postmaster(_ dataDirectory: String) -> pid_t? {
        let base = dataDirectory + "/postgres"
        let resolved = (try? FileManager.default.destinationOfSymbolicLink(atPath: base)) ?? base
        guard let text = try? String(contentsOfFile: resolved + "/data/postmaster.pid", encoding: .utf8),
              let pid = text.split(separator: "\n").first.flatMap({ pid_t($0) }),
              let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), !stat.contains(") Z ") else { return nil }
        return pid
    }

    @Test func serverKilledWithSIGKILL_restartsOnTheSameData_andItsSIGTERMStopsTheCluster() throws {
        let dataDirectory = TestPostgres.scratchDirectory("crash-" + UUID().uuidString.prefix(8).lowercased())
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let (first, firstOutput) = try Self.serve(dataDirectory)
        #expect(Self.ready(first, firstOutput))
        kill(first.processIdentifier, SIGKILL)
        #expect(Self.exitStatus(first) == 128 + SIGKILL)
        let orphan = try #require(Self.postmaster(dataDirectory), "the cluster outlives a server killed with SIGKILL")

        let (second, secondOutput) = try Self.serve(dataDirectory)
        #expect(Self.ready(second, secondOutput), "the restarted server uses the cluster without manual steps")
        #expect(Self.postmaster(dataDirectory) == orphan, "the running cluster is adopted, not started twice")
        second.terminate()
        #expect(Self.exitStatus(second) == 0)
        #expect(Self.postmaster(dataDirectory) == nil, "the server stops the cluster it ran, although another process started it")

        // And once more from a cold cluster: started and stopped by the same server.
        let (third, thirdOutput) = try Self.serve(dataDirectory)
        #expect(Self.ready(third, thirdOutput))
        third.terminate()
        #expect(Self.exitStatus(third) == 0)
        #expect(Self.postmaster(dataDirectory) == nil)
    }
}
