import App
import ArgumentParser
import Foundation

/// `pickupbox site create`: a pickup location of an authority (weekly hours are set over the API).
struct SiteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "site", abstract: "Manage sites.", subcommands: [Create.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a site of an existing authority; prints its id.")

        @OptionGroup var common: CommonOptions

        @Option(help: "The authority's slug.")
        var authority: String

        @Option(help: "Name of the site, unique within the authority.")
        var name: String

        @Option(help: "Postal address.")
        var address: String

        @Option(help: "Land for public holidays: BW BY BE BB HB HH HE MV NI NW RP SL SN ST SH TH.")
        var land: String

        @Option(name: .customLong("time-zone"), help: "IANA time zone. Default: Europe/Berlin")
        var timeZone: String?

        @Option(name: .customLong("deadline-kind"), help: "working_days (default) or calendar_days.")
        var deadlineKind: String?

        @Option(name: .customLong("deadline-days"), help: "Pickup deadline, 1–60 days. Default: 10")
        var deadlineDays: Int?

        func run() throws {
            let id = try OperatorDatabase.run(common) { pool in
                let authorityID = try AuthorityAdmin.id(pool: pool, slug: authority)
                return try SiteAdmin.create(pool: pool, authorityID: authorityID, name: name, address: address, land: land,
                                            timeZone: timeZone, deadlineKind: deadlineKind, deadlineDays: deadlineDays)
            }
            print(id.uuidString.lowercased())
        }
    }
}
