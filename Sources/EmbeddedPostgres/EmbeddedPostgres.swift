import Foundation
import Logging
import Postgres

/// A private PostgreSQL cluster made with the installed `initdb` and `pg_ctl`, reachable only through a unix
/// socket (no TCP). Data in `<directory>/data`, socket in `<directory>/run`, log in `<directory>/postgres.log`.
///
/// As root (CI), the tools run as the `postgres` user through `runuser`, because initdb refuses root. When the
/// postgres user cannot enter `directory` (e.g. a checkout under `mktemp -d`) or the socket path would be too
/// long, the cluster lives in `/var/tmp/pickupbox-postgres-<hash>` instead, and `directory` becomes a symlink
/// to it when it did not exist yet.
public struct EmbeddedPostgres: Sendable {
    /// `fsync=off`, `synchronous_commit=off`, `full_page_writes=off`: only for tests, never for `serve`.
    public var fastUnsafe: Bool = false

    let logger: Logger
    let layout: Layout
    let postgresUser: PostgresUser?
    let isRoot: Bool
    var runner: CommandRunner { CommandRunner(runAsUser: isRoot ? "postgres" : nil) }

    /// The unix-socket port (only names the socket file; nothing listens on TCP).
    public static let port = 5432

    /// A cluster in `directory` (e.g. `<project>/.pickupbox/postgres`); nothing happens until `start()`.
    public init(directory: String, logger: Logger) {
        self.logger = logger
        self.isRoot = geteuid() == 0
        self.postgresUser = isRoot ? PostgresUser.lookUp() : nil
        self.layout = Layout(directory: directory, postgresUser: postgresUser)
    }

    /// Creates the cluster on first use, starts it unless it is already running, and creates the
    /// database `pickupbox` if it is missing. Returns true when this call started the server; false when
    /// it was running already. A `postmaster.pid` whose process is not this cluster's postmaster (gone,
    /// a zombie, or its pid reused after a restart of the machine or container) is recognised as left by
    /// a crash and removed, with the socket's lock file. Processes that share the cluster use `acquire()`.
    @discardableResult
    public func start() throws -> Bool {
        let bin = try Self.binDirectory()
        try prepareDirectories()
        if !FileManager.default.fileExists(atPath: layout.dataDirectory + "/PG_VERSION") {
            logger.info("creating PostgreSQL cluster", metadata: ["postgres.directory": "\(layout.base)"])
            var arguments = ["-D", layout.dataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]
            if fastUnsafe { arguments.append("--no-sync") }
            try runner.check(bin + "/initdb", arguments, what: "initdb")
        }
        let startedHere: Bool
        if runningPostmaster() != nil {
            logger.debug("reusing running PostgreSQL cluster", metadata: ["postgres.directory": "\(layout.base)"])
            startedHere = false
        } else {
            startedHere = true
            removeStaleLockFiles()
            var output = try runner.run(bin + "/pg_ctl", [
                "start", "-w", "-t", "60", "-D", layout.dataDirectory, "-l", layout.logFile, "-o", serverOptions,
            ])
            // Right after a crash the old server's children may hold its shared memory for a moment.
            for _ in 0..<5 where output.status != 0 && runningPostmaster() == nil {
                Thread.sleep(forTimeInterval: 1)
                removeStaleLockFiles()
                output = try runner.run(bin + "/pg_ctl", [
                    "start", "-w", "-t", "60", "-D", layout.dataDirectory, "-l", layout.logFile, "-o", serverOptions,
                ])
            }
            guard output.status == 0 else {
                throw PostgresError(.launcher, reason: """
                    pg_ctl start failed (exit status \(output.status)); a stale postmaster.pid or a second server \
                    on the same data directory are common causes.
                    \(output.tail())
                    postgres.log:
                    \(logTail())
                    """)
            }
            logger.info("PostgreSQL started", metadata: ["postgres.socket": "\(layout.socketDirectory)"])
        }
        try createDatabase("pickupbox")
        return startedHere
    }

    /// Stops the server (`pg_ctl stop -m fast`); does nothing when it is not running.
    public func stop() throws {
        let bin = try Self.binDirectory()
        guard runningPostmaster() != nil else { return }
        try runner.check(bin + "/pg_ctl", ["stop", "-m", "fast", "-w", "-t", "60", "-D", layout.dataDirectory], what: "pg_ctl stop")
    }

    /// Restarts the server (`pg_ctl restart -m fast`, or `-m immediate`: no clean shutdown, crash recovery
    /// at start, as after a power cut): existing connections break.
    public func restart(immediate: Bool = false) throws {
        let bin = try Self.binDirectory()
        try runner.check(bin + "/pg_ctl", [
            "restart", "-m", immediate ? "immediate" : "fast", "-w", "-t", "60", "-D", layout.dataDirectory, "-l", layout.logFile, "-o", serverOptions,
        ], what: "pg_ctl restart")
    }

    /// Runs a PostgreSQL server tool (`pg_ctl`, `pg_basebackup`, …) from `binDirectory()`, as the
    /// `postgres` user when we are root; returns its exit status and output. For tests and drills.
    public func runTool(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let output = try runner.run(try Self.binDirectory() + "/" + name, arguments)
        return (output.status, output.text)
    }

    /// The data directory (`<base>/data`).
    public var dataDirectory: String { layout.dataDirectory }

    /// The unix socket directory.
    public var socketDirectory: String { layout.socketDirectory }

    /// libpq conninfo for `database` over the unix socket, as `user` (the cluster's superuser `postgres`
    /// by default; any role logs in without a password, the socket being private).
    public func connectionString(database: String = "pickupbox", user: String = "postgres") -> String {
        "host=\(layout.socketDirectory) port=\(Self.port) user=\(user) dbname=\(database)"
    }

    /// Creates `name` (letters a–z, digits, `_`) unless it exists.
    public func createDatabase(_ name: String) throws {
        guard !name.isEmpty, name.utf8.count <= 63,
              name.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }) else {
            throw PostgresError(.launcher, reason: "invalid database name (allowed: a-z, 0-9, _)")
        }
        let connection = try PostgresConnection.connect(connectionString(database: "postgres"), logger: logger)
        defer { connection.close() }
        let existing = try connection.query("SELECT 1 FROM pg_database WHERE datname = \(name)")
        guard existing.isEmpty else { return }
        do {
            // Quoting is enough: the name was checked above to hold only a–z, 0–9 and `_`.
            try connection.simpleQuery("CREATE DATABASE \"\(name)\"")
        } catch let error as PostgresError where error.sqlState == "42P04" || error.sqlState == SQLState.uniqueViolation {
            return  // created concurrently
        }
    }

    /// The directory holding `initdb` and `pg_ctl`: `/usr/lib/postgresql/<highest>/bin`, else
    /// `pg_config --bindir`, else `PATH`.
    public static func binDirectory() throws -> String {
        let hasTools = { (directory: String) in
            FileManager.default.isExecutableFile(atPath: directory + "/initdb")
                && FileManager.default.isExecutableFile(atPath: directory + "/pg_ctl")
        }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap { name in Double(name).map { (version: $0, name: name) } }
            .sorted { $0.version > $1.version }
        for version in versions where hasTools("\(root)/\(version.name)/bin") {
            return "\(root)/\(version.name)/bin"
        }
        if let pgConfig = CommandRunner.which("pg_config"),
           let output = try? CommandRunner(runAsUser: nil).run(pgConfig, ["--bindir"]), output.status == 0 {
            let directory = output.text.trimmingCharacters(in: .whitespacesAndNewlines)
            if hasTools(directory) { return directory }
        }
        if let initdb = CommandRunner.which("initdb") {
            let directory = URL(fileURLWithPath: initdb).deletingLastPathComponent().path
            if hasTools(directory) { return directory }
        }
        throw PostgresError(.launcher, reason: "PostgreSQL server binaries not found (initdb, pg_ctl). Install the Debian package `postgresql`: apt-get install postgresql")
    }

    // MARK: - Internals

    private var serverOptions: String {
        var options = "-k '\(layout.socketDirectory)' -c listen_addresses='' -p \(Self.port)"
        if fastUnsafe { options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off" }
        return options
    }

    /// The pid of this cluster's postmaster, or nil when it does not run. `pg_ctl status` is not enough:
    /// it believes any live process with the pid of `postmaster.pid` — also a zombie, or an unrelated
    /// process that got the pid after a restart — so the process is checked to be alive and to work in
    /// this data directory (the postmaster's working directory).
    func runningPostmaster() -> pid_t? {
        guard let text = try? String(contentsOfFile: layout.dataDirectory + "/postmaster.pid", encoding: .utf8),
              let pid = text.split(separator: "\n").first.flatMap({ pid_t($0.trimmingCharacters(in: .whitespaces)) }), pid > 0 else {
            return nil
        }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")"), stat[stat.index(after: end)...].trimmingCharacters(in: .whitespaces).first != "Z" else {
            return nil
        }
        let dataDirectory = URL(fileURLWithPath: layout.dataDirectory).resolvingSymlinksInPath().path
        guard let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd"), cwd == dataDirectory else {
            return nil
        }
        return pid
    }

    /// Removes `postmaster.pid` and the socket's lock file that a crashed server left (only called when
    /// no postmaster of this cluster runs): PostgreSQL refuses to start while their pid names a live process.
    private func removeStaleLockFiles() {
        let socket = layout.socketDirectory + "/.s.PGSQL.\(Self.port)"
        for path in [layout.dataDirectory + "/postmaster.pid", socket + ".lock", socket] where FileManager.default.fileExists(atPath: path) {
            if path.hasSuffix("postmaster.pid") {
                logger.warning("removing postmaster.pid left by a server that is gone (crash or restart)", metadata: ["postgres.directory": "\(layout.base)"])
            }
            unlink(path)
        }
    }

    private func logTail() -> String {
        guard let text = try? String(contentsOfFile: layout.logFile, encoding: .utf8) else { return "(no log)" }
        return text.split(separator: "\n").suffix(10).joined(separator: "\n")
    }
}
