import App
import ArgumentParser
import Foundation
import Logging
import Postgres

/// What this binary is: its version (set here at a release), the commit it was built from and the
/// migration level it expects (both written before every build by `Plugins/BuildInfo`).
enum BuildInfo {
    static let version = "0.15.0"
    static var commit: String { GeneratedBuildInfo.commit }
    /// The working tree had uncommitted changes to tracked files when it was built.
    static var modified: Bool { GeneratedBuildInfo.modified }
    /// The newest migration in the checkout the binary was built from.
    static var migrationLevel: Int { GeneratedBuildInfo.migrationLevel }

    static var description: BuildDescription {
        BuildDescription(version: version, commit: commit + (modified ? "-modified" : ""), migrationLevel: migrationLevel)
    }
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the version, the commit it was built from and the migration level it expects."
    )

    @Option(name: .customLong("migrations"), help: "Directory of SQL migrations to compare with. Default: PICKUPBOX_MIGRATIONS_DIR or the ones shipped with the binary")
    var migrationsDirectory: String?

    func run() throws {
        print("pickupbox \(BuildInfo.version)")
        print("commit      \(BuildInfo.description.commit)")
        print("migrations  \(BuildInfo.migrationLevel) (the newest this build expects)")
        let directory = migrationsDirectory ?? ProcessInfo.processInfo.environment["PICKUPBOX_MIGRATIONS_DIR"] ?? ShippedMigrations.directory
        guard let directory else {
            print("shipped     none found next to the binary (give --migrations)")
            throw ExitCode(1)
        }
        var quiet = Logger(label: "pickupbox.version")
        quiet.logLevel = .critical
        let found = try MigrationRunner(directory: directory, logger: quiet).load().map(\.version).max() ?? 0
        print("shipped     \(found) in \(directory)")
        if found != BuildInfo.migrationLevel {
            print("warning: the migrations next to the binary (\(found)) are not the ones it was built with (\(BuildInfo.migrationLevel))")
            throw ExitCode(1)
        }
    }
}
