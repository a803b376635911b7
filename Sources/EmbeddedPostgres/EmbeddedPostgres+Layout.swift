import Crypto
import Foundation
import Logging
import Postgres

extension EmbeddedPostgres {
    /// Where the cluster's files live, decided once from the requested directory without side effects.
    struct Layout: Sendable, Equatable {
        /// The requested directory, absolute.
        var requested: String
        /// The directory holding `data/`, `run/` (usually) and `postgres.log`.
        var base: String
        /// The unix socket directory.
        var socketDirectory: String
        /// Why the fallback directory is used, for one log line; nil when it is not.
        var fallbackReason: String?
        /// Create `requested` as a symlink to `base`, because it does not exist yet.
        var linkRequested: Bool

        var dataDirectory: String { base + "/data" }
        var logFile: String { base + "/postgres.log" }

        /// Longest unix socket path: `sun_path` has 108 bytes including the terminating NUL.
        static let maximumSocketPathLength = 107

        init(directory: String, postgresUser: PostgresUser?) {
            let requested = URL(fileURLWithPath: directory).standardizedFileURL.path
            let fallback = "/var/tmp/pickupbox-postgres-" + String(Crypto.hex(Crypto.sha256(Array(requested.utf8))).prefix(12))
            self.requested = requested
            self.linkRequested = false
            self.fallbackReason = nil
            var base = requested
            if let destination = try? FileManager.default.destinationOfSymbolicLink(atPath: requested) {
                base = URL(fileURLWithPath: destination, relativeTo: URL(fileURLWithPath: requested).deletingLastPathComponent())
                    .standardizedFileURL.path
            }
            if let postgresUser, !Self.isEnterable(base, by: postgresUser) {
                fallbackReason = "a parent of \(requested) is not enterable by the postgres user"
                linkRequested = !FileManager.default.fileExists(atPath: requested)
                    && (try? FileManager.default.destinationOfSymbolicLink(atPath: requested)) == nil
                base = fallback
            }
            self.base = base
            self.socketDirectory = base + "/run"
            if (socketDirectory + "/.s.PGSQL.5432").utf8.count > Self.maximumSocketPathLength {
                socketDirectory = fallback + "/run"
                fallbackReason = fallbackReason ?? "the socket path under \(requested) is longer than 107 bytes"
            }
        }

        /// True when `postgresUser` may search every existing directory on the way to `path` (mode bits only;
        /// directories we still have to create get mode 755).
        static func isEnterable(_ path: String, by user: PostgresUser) -> Bool {
            var current = "/"
            for component in path.split(separator: "/") {
                current = current == "/" ? "/" + component : current + "/" + component
                var info = stat()
                guard stat(current, &info) == 0 else { return true }  // created later, by us
                guard (info.st_mode & S_IFMT) == S_IFDIR else { return false }
                let mode = info.st_mode
                let enterable = info.st_uid == user.uid ? mode & S_IXUSR != 0
                    : info.st_gid == user.gid ? mode & S_IXGRP != 0
                    : mode & S_IXOTH != 0
                if !enterable { return false }
            }
            return true
        }
    }

    /// The `postgres` system user that runs the server when we are root.
    struct PostgresUser: Sendable, Equatable {
        var uid: uid_t
        var gid: gid_t

        /// nil when the user does not exist.
        static func lookUp() -> PostgresUser? {
            guard let entry = getpwnam("postgres") else { return nil }
            return PostgresUser(uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
        }
    }

    /// Creates `path` (and parents, mode 755), then gives it to the postgres user when we are root.
    func makeDirectory(_ path: String, mode: mode_t) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw PostgresError(.launcher, reason: "cannot create directory \(path): \(error.localizedDescription)")
        }
        try giveToPostgres(path)
        guard chmod(path, mode) == 0 else {
            throw PostgresError(.launcher, reason: "cannot chmod \(path): errno \(errno)")
        }
    }

    func giveToPostgres(_ path: String) throws {
        guard let postgresUser else { return }
        guard chown(path, postgresUser.uid, postgresUser.gid) == 0 else {
            throw PostgresError(.launcher, reason: "cannot chown \(path) to postgres: errno \(errno)")
        }
    }

    /// Creates the directories, the log file and, for the fallback, the symlink at the requested place.
    func prepareDirectories() throws {
        if isRoot, postgresUser == nil {
            throw PostgresError(.launcher, reason: "running as root, but there is no `postgres` user to run the server (install the Debian package `postgresql`)")
        }
        if let reason = layout.fallbackReason {
            logger.info("embedded PostgreSQL uses a fallback directory", metadata: [
                "postgres.directory": "\(layout.base)", "postgres.socket": "\(layout.socketDirectory)",
                "postgres.reason": "\(reason)",
            ])
        }
        try makeDirectory(layout.base, mode: 0o700)
        try makeDirectory(layout.dataDirectory, mode: 0o700)
        try makeDirectory(layout.socketDirectory, mode: 0o755)
        if layout.socketDirectory != layout.base + "/run" {
            try giveToPostgres(URL(fileURLWithPath: layout.socketDirectory).deletingLastPathComponent().path)
        }
        if !FileManager.default.fileExists(atPath: layout.logFile) {
            _ = FileManager.default.createFile(atPath: layout.logFile, contents: nil)
        }
        try giveToPostgres(layout.logFile)
        if layout.linkRequested, !FileManager.default.fileExists(atPath: layout.requested) {
            let parent = URL(fileURLWithPath: layout.requested).deletingLastPathComponent().path
            try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            try? FileManager.default.createSymbolicLink(atPath: layout.requested, withDestinationPath: layout.base)
        }
    }
}
