#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Postgres

/// Streaming replication between two embedded clusters on one machine, for the failover test and the
/// drill in OPERATIONS.md: PostgreSQL's own replication (`pg_basebackup -R`, `pg_ctl promote`), nothing
/// home-made. Both clusters listen on their own unix socket directory only.
extension EmbeddedPostgres {
    /// Stops the cluster if it runs and removes its data directory: the next `start()` makes a new one.
    /// For tests and drills; never for a cluster that holds data anyone needs.
    public func destroy() throws {
        if runningPostmaster() != nil { try stop() }
        if FileManager.default.fileExists(atPath: layout.dataDirectory) {
            try FileManager.default.removeItem(atPath: layout.dataDirectory)
        }
    }

    /// Makes this cluster a hot standby of `primary` and starts it: its data directory is replaced by a
    /// base backup of the running primary (`pg_basebackup -R -X stream` over the primary's socket, which
    /// also writes `primary_conninfo` and `standby.signal`), and `cluster_name` is set to `name` — the
    /// name a synchronous primary lists in `synchronous_standby_names`.
    public func startAsStandby(of primary: EmbeddedPostgres, name: String) throws {
        guard !name.isEmpty, name.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }) else {
            throw PostgresError(.launcher, reason: "invalid standby name (allowed: a-z, 0-9, _)")
        }
        try destroy()
        try prepareDirectories()
        let bin = try Self.binDirectory()
        try runner.check(bin + "/pg_basebackup", [
            "-h", primary.socketDirectory, "-p", String(Self.port), "-U", "postgres", "-D", layout.dataDirectory,
            "-R", "-X", "stream", "-c", "fast",
        ], what: "pg_basebackup")
        // The walreceiver reports cluster_name as its application_name when primary_conninfo names none.
        let configuration = layout.dataDirectory + "/postgresql.conf"
        guard let handle = FileHandle(forWritingAtPath: configuration) else {
            throw PostgresError(.launcher, reason: "cannot open \(configuration)")
        }
        handle.seekToEndOfFile()
        handle.write(Data("\ncluster_name = '\(name)'\n".utf8))
        try handle.close()
        try start()
    }

    /// `pg_ctl promote -w`: a standby stops replaying and becomes a primary that accepts writes.
    public func promote() throws {
        let bin = try Self.binDirectory()
        try runner.check(bin + "/pg_ctl", ["promote", "-w", "-t", "60", "-D", layout.dataDirectory], what: "pg_ctl promote")
    }

    /// Kills the postmaster and every process it started with SIGKILL, as a machine that fails takes
    /// them all at once (no shutdown, no last WAL sent). Returns how many processes were killed.
    @discardableResult
    public func killAll() -> Int {
        guard let postmaster = runningPostmaster() else { return 0 }
        var pids = [postmaster]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let end = stat.lastIndex(of: ")") else { continue }
            // Fields after the command: state, ppid, …
            let fields = stat[stat.index(after: end)...].split(separator: " ")
            if fields.count > 1, pid_t(fields[1]) == postmaster { pids.append(pid) }
        }
        for pid in pids { kill(pid, SIGKILL) }
        // Gone once no process of the cluster is left (the postmaster is not our child: no reaping).
        for _ in 0..<200 where pids.contains(where: { Glibc.kill($0, 0) == 0 && !isZombie($0) }) {
            usleep(10_000)
        }
        return pids.count
    }

    private func isZombie(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let end = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: end)...].trimmingCharacters(in: .whitespaces).first == "Z"
    }

    /// libpq conninfo that reaches whichever of `clusters` accepts writes: every socket as a host of
    /// one multi-host string with `target_session_attrs=read-write` (libpq tries them in order).
    public static func failoverConnectionString(_ clusters: [EmbeddedPostgres], database: String, user: String = "postgres") -> String {
        let hosts = clusters.map(\.socketDirectory).joined(separator: ",")
        let ports = clusters.map { _ in String(port) }.joined(separator: ",")
        return "host=\(hosts) port=\(ports) user=\(user) dbname=\(database) target_session_attrs=read-write"
    }
}
