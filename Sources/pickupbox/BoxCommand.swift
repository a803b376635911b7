import App
import ArgumentParser
import Foundation

/// `pickupbox box create`: a box at a site, with its first bearer token. The token is printed once,
/// alone on standard output (for a secrets store); only its SHA-256 is kept in the database.
struct BoxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "box", abstract: "Manage boxes.", subcommands: [Create.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a box and print its bearer token once.",
            discussion: "Standard output carries the token only; put it into the box controller's configuration. It cannot be shown again: a lost token is replaced with POST /api/v1/boxes/{id}/token."
        )

        @OptionGroup var common: CommonOptions

        @Option(help: "The authority's slug.")
        var authority: String

        @Option(help: "The site: its exact name or its id.")
        var site: String

        @Option(help: "Name of the box, unique within the authority.")
        var name: String

        @Option(name: .customLong("panel-languages"), help: "Comma-separated ISO 639-1 codes of the touch panel, e.g. de,en,ar. Default: de,en")
        var panelLanguages: String?

        func run() throws {
            let created = try OperatorDatabase.run(common) { pool in
                let authorityID = try AuthorityAdmin.id(pool: pool, slug: authority)
                let siteID = try SiteAdmin.resolve(pool: pool, authorityID: authorityID, nameOrID: site)
                let languages = panelLanguages.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
                return try BoxAdmin.create(pool: pool, authorityID: authorityID, siteID: siteID, name: name, panelLanguages: languages, issueToken: true)
            }
            OperatorDatabase.note("created box \(created.id.uuidString.lowercased()); its token follows on standard output and is not shown again")
            print(created.token ?? "")
        }
    }
}
