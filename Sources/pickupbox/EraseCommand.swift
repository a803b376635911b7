import App
import ArgumentParser

/// `pickupbox erase [--dry-run]`: the erasure pass now (every server process also runs it on schedule),
/// or what it would erase. The report goes to standard output.
struct EraseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Erase the personal data the retention policy no longer allows to keep (or, with --dry-run, show what that is).",
        discussion: """
            The policy comes from RETENTION_DAYS_AFTER_CLOSE, RETENTION_DAYS_MAX, AUDIT_IP_DAYS and AUDIT_IP_TRUNCATE (see `pickupbox env`). \
            A pass writes a receipt per authority (GET /api/v1/privacy/erasures). If a server process is running a pass, nothing is done.
            """
    )

    @OptionGroup var common: CommonOptions

    @Flag(name: .customLong("dry-run"), help: "Count what the next pass would erase; change nothing.")
    var dryRun = false

    func run() throws {
        let report = try OperatorDatabase.run(common) { pool, configuration, logger in
            try ErasureReport.run(pool: pool, configuration: configuration, logger: logger, dryRun: dryRun)
        }
        print(report)
    }
}
