#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import Postgres
import Synchronization

extension EmbeddedPostgres {
    /// One process's use of the embedded cluster, from `acquire()`. The last lease released stops the
    /// cluster — whoever started it, so a cluster left running by a server that was killed is stopped by
    /// the next one that used it. A process that dies releases its lease with it (the kernel drops its lock).
    public final class Lease: Sendable {
        private let cluster: EmbeddedPostgres
        private let usersLock: Int32
        private let released = Atomic<Bool>(false)

        init(cluster: EmbeddedPostgres, usersLock: Int32) {
            self.cluster = cluster
            self.usersLock = usersLock
        }

        deinit {
            // Not released: the lock goes with the descriptor, and the cluster is left to the next process.
            if !released.load(ordering: .relaxed) { Glibc.close(usersLock) }
        }

        /// Ends this use; stops the cluster when no other process holds a lease. Later calls do nothing.
        public func release() {
            guard !released.exchange(true, ordering: .relaxed) else { return }
            do {
                let transition = try cluster.lockFile("pickupbox-start.lock", LOCK_EX)
                defer { Glibc.close(transition) }
                // Exclusive only when no other process holds its shared lock: then this is the last user.
                if flock(usersLock, LOCK_EX | LOCK_NB) == 0 {
                    try cluster.stop()
                    cluster.logger.info("embedded PostgreSQL stopped (no other pickupbox process uses it)")
                } else {
                    cluster.logger.info("embedded PostgreSQL left running for the other pickupbox processes using it")
                }
            } catch {
                cluster.logger.error("embedded PostgreSQL not stopped", metadata: ["error": "\(error)"])
            }
            Glibc.close(usersLock)
        }
    }

    /// Starts the cluster (see `start()`), or uses it when it runs already, and returns this process's
    /// lease on it. Starting and stopping are serialized between processes by a lock file, so a process
    /// never stops the cluster while another one starts using it.
    public func acquire() throws -> Lease {
        try prepareDirectories()
        let transition = try lockFile("pickupbox-start.lock", LOCK_EX)
        defer { Glibc.close(transition) }
        let users = try lockFile("pickupbox-users.lock", LOCK_SH)
        do {
            try start()
        } catch {
            Glibc.close(users)
            throw error
        }
        return Lease(cluster: self, usersLock: users)
    }

    /// Opens `name` in the cluster's directory (close-on-exec: the server that pg_ctl starts must not
    /// inherit it) and locks it with `operation`, waiting for it.
    func lockFile(_ name: String, _ operation: Int32) throws -> Int32 {
        let path = layout.base + "/" + name
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PostgresError(.launcher, reason: "cannot open \(path): errno \(errno)") }
        while flock(fd, operation) != 0 {
            guard errno == EINTR else {
                let e = errno
                Glibc.close(fd)
                throw PostgresError(.launcher, reason: "cannot lock \(path): errno \(e)")
            }
        }
        return fd
    }
}
