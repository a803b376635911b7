import App
import ArgumentParser

/// `pickupbox audit verify|anchor`: the tamper-evident audit log (PRIVACY.md#the-audit-log) for the operator.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Check the audit log's hash chains, or print their heads.",
                                                    subcommands: [Verify.self, Anchor.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Walk every authority's hash chain and name the first event that does not fit (exit status 1).",
            discussion: "Recomputes each event's hash from its row. With --anchor, also checks that the chain still holds a head printed earlier by `pickupbox audit anchor`."
        )

        @OptionGroup var common: CommonOptions

        @Option(help: "Only this authority (its slug).")
        var authority: String?

        @Option(name: .customLong("anchor"), help: "A head printed by `pickupbox audit anchor`: <slug>:<position>:<hash>. Repeatable.")
        var anchors: [String] = []

        func run() throws {
            let (report, intact) = try OperatorDatabase.run(common) { pool in
                try AuditReport.verify(pool: pool, authority: authority, anchors: anchors)
            }
            print(report)
            if !intact { throw ExitCode.failure }
        }
    }

    struct Anchor: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seal what is committed and print every authority's chain head as <slug>:<position>:<hash> <time>.",
            discussion: "Write the output somewhere the database's administrators cannot change (a daily log elsewhere, a signed mail); `pickupbox audit verify --anchor …` checks it later."
        )

        @OptionGroup var common: CommonOptions

        func run() throws {
            print(try OperatorDatabase.run(common) { pool in try AuditReport.anchor(pool: pool) })
        }
    }
}
