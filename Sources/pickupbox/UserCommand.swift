import App
import ArgumentParser
import Foundation

/// `pickupbox user create`: a staff account; the password comes from standard input only, so it
/// never appears in the process list or the shell history.
struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user", abstract: "Manage staff accounts.", subcommands: [Create.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a staff account of an existing authority; prints its id.",
            discussion: "The password is read from standard input (one line; at a terminal without echo), e.g.\n  printf '%s\\n' \"$PASSWORD\" | pickupbox user create … --password-stdin"
        )

        @OptionGroup var common: CommonOptions

        @Option(help: "The authority's slug (the authority must exist).")
        var authority: String

        @Option(help: "Login name: 2–63 of a-z, 0-9, '.', '_', '-'.")
        var username: String

        @Option(name: .customLong("display-name"), help: "Name shown in the frontend.")
        var displayName: String

        @Option(help: "supervisor or caseworker.")
        var role: String

        @Flag(name: .customLong("password-stdin"), help: "Read the password (12+ characters) from standard input. Required.")
        var passwordStdin = false

        func validate() throws {
            guard passwordStdin else { throw ValidationError("Pass --password-stdin: the password is only ever read from standard input.") }
            guard Role(rawValue: role) != nil else { throw ValidationError("--role must be supervisor or caseworker.") }
        }

        func run() throws {
            let password = try PasswordInput.fromStandardInput()
            let id = try OperatorDatabase.run(common) { pool in
                let authorityID = try AuthorityAdmin.id(pool: pool, slug: authority)
                return try UserAdmin.create(pool: pool, authorityID: authorityID, username: username, displayName: displayName, role: role, password: password)
            }
            print(id.uuidString.lowercased())
        }
    }
}
