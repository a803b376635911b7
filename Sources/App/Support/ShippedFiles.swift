import Foundation

/// Where the files that travel with the binary are found: next to the executable, never relative to
/// the working directory (operators start `pickupbox` from anywhere; systemd starts it in `/`).
enum ShippedFiles {
    /// The directory of the running executable (symlinks resolved), and of `Bundle.main` if that differs.
    static func executableDirectories() -> [String] {
        var directories: [String] = []
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            directories.append((executable as NSString).deletingLastPathComponent)
        }
        if let main = Bundle.main.executablePath {
            let directory = (main as NSString).deletingLastPathComponent
            if !directories.contains(directory) { directories.append(directory) }
        }
        return directories
    }

    /// The SQL migrations for this binary: `Migrations/` next to it, in `../share/pickupbox/` (an
    /// installed layout), or in the checkout it was built in (`.build/<triple>/<configuration>/pickupbox`
    /// three levels below it). A folder counts when it holds the first migration.
    static func migrationsCandidates() -> [String] {
        var candidates: [String] = []
        for directory in executableDirectories() {
            var url = URL(fileURLWithPath: directory)
            candidates.append(url.appendingPathComponent("Migrations").path)
            candidates.append(url.deletingLastPathComponent().appendingPathComponent("share/pickupbox/Migrations").path)
            for _ in 0..<4 {
                url.deleteLastPathComponent()
                candidates.append(url.appendingPathComponent("Migrations").path)
            }
        }
        return candidates
    }

    static func locateMigrations() -> String? {
        migrationsCandidates().first { FileManager.default.fileExists(atPath: $0 + "/0001_create_authority.sql") }
    }
}

/// The migrations shipped with this binary, for the command line (`pickupbox version`).
public enum ShippedMigrations {
    /// The folder `AppConfiguration` uses when `PICKUPBOX_MIGRATIONS_DIR` is unset, or nil.
    public static var directory: String? { ShippedFiles.locateMigrations() }
}
