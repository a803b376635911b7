#if canImport(Glibc)
import Glibc
#endif
import CSystem
import Foundation
import Postgres

/// Runs the PostgreSQL server tools with `posix_spawn`, capturing their output.
struct CommandRunner: Sendable {
    struct Output {
        var status: Int32
        var text: String

        /// The last `count` non-empty lines, for error messages.
        func tail(_ count: Int = 8) -> String {
            text.split(separator: "\n").suffix(count).joined(separator: "\n")
        }
    }

    /// When set, commands run as this user through `runuser -u <user> --` (we are root).
    var runAsUser: String?

    /// Runs `executable` with `arguments`; does not throw on a non-zero exit status.
    ///
    /// Uses `posix_spawn` and `waitpid` rather than Foundation `Process`: `Process.waitUntilExit` depends on
    /// Dispatch and a run loop, and hung when every thread of the cooperative pool was blocked (as in parallel
    /// tests). Output goes to a temporary file, not a pipe, because the server started by `pg_ctl` inherits
    /// the descriptors and would keep a pipe open.
    func run(_ executable: String, _ arguments: [String]) throws -> Output {
        // `env -C /`: the postgres user may not be allowed into our working directory (initdb complains).
        let argv = (runAsUser.map { [Self.runuserPath, "-u", $0, "--"] } ?? []) + ["/usr/bin/env", "-C", "/", executable]
        let outputPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("pickupbox-command-\(UUID().uuidString).log").path
        defer { unlink(outputPath) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of ours: pg_ctl's server lives on, and a descriptor it inherited (a pipe another thread
        // is reading to its end, a socket) would stay open as long as PostgreSQL runs. A test's
        // `readDataToEndOfFile` on a child's pipe hung so, when the shared test cluster started meanwhile.
        csystem_spawn_closefrom(&actions, 3)
        // Signals as from a shell: `serve` blocks SIGTERM and SIGINT in every thread (it takes them with
        // sigwait) and ignores SIGPIPE, and a child inherits both. Without this, initdb and pg_ctl ran with
        // SIGTERM blocked, and a test's `kill -15` of a spawned shell depended on which thread spawned it.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), every = sigset_t()
        sigemptyset(&none)
        sigfillset(&every)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &every)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var pid: pid_t = 0
        // argv for posix_spawn: NULL-terminated copies, freed after the child has been waited for.
        let cArguments: [UnsafeMutablePointer<CChar>?] = (argv + arguments).map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        let spawned = posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, environ)
        guard spawned == 0 else {
            throw PostgresError(.launcher, reason: "cannot run \(argv[0]): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else {
                throw PostgresError(.launcher, reason: "waitpid for \(executable) failed: errno \(errno)")
            }
        }
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return Output(status: WaitStatus.exitCode(status), text: text)
    }

    /// Runs the command and throws `.launcher` with the tail of its output unless it exits with 0.
    @discardableResult
    func check(_ executable: String, _ arguments: [String], what: String) throws -> Output {
        let output = try run(executable, arguments)
        guard output.status == 0 else {
            throw PostgresError(
                .launcher, reason: "\(what) failed (exit status \(output.status)):\n\(output.tail())"
            )
        }
        return output
    }

    static var runuserPath: String {
        ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"]
            .first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/sbin/runuser"
    }

    /// Finds `name` on `PATH`.
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// What `waitpid` reported, as a shell reports it: the exit code, or 128 + the number of the signal that
/// ended the process. `WIFEXITED` and `WEXITSTATUS` are C macros, which Swift cannot call: the exit code
/// is in bits 8…15 when the low 7 bits (the signal) are 0.
public enum WaitStatus {
    public static func exitCode(_ status: Int32) -> Int32 {
        (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }
}
