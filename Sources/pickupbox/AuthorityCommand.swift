import App
import ArgumentParser
import Foundation

/// `pickupbox authority create`: a new tenant (foreigners' authority or citizens' office).
struct AuthorityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "authority", abstract: "Manage authorities (tenants).", subcommands: [Create.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an authority; prints its id.")

        @OptionGroup var common: CommonOptions

        @Option(help: "Short name staff type at login: 2–63 of a-z, 0-9 and '-', e.g. dortmund.")
        var slug: String

        @Option(help: "Full name, e.g. \"Ausländerbehörde Dortmund\".")
        var name: String

        func run() throws {
            let id = try OperatorDatabase.run(common) { try AuthorityAdmin.create(pool: $0, slug: slug, name: name) }
            print(id.uuidString.lowercased())
        }
    }
}
