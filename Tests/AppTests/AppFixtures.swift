import App
import Foundation
import HTTPServer
import HTTPTestSupport
import Logging
import Postgres
import PostgresTestSupport
import Testing

/// The package root, found from this file's path.
let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

enum AppFixture {
    /// Every answer the servers of these tests encode is held to JSONEncoder's bytes (`ReferenceJSON`).
    static let referenceJSONCheck: Void = ReferenceJSON.installCheck()

    /// A configuration for tests: port 0, loopback, the package's migrations.
    static func makeConfiguration(_ configure: (inout AppConfiguration) -> Void = { _ in }) -> AppConfiguration {
        var c = AppConfiguration()
        c.port = 0
        c.eventLoops = 2
        c.workerThreads = 8
        c.databasePoolSize = 4
        c.accessLog = false
        c.migrationsDirectory = packageRoot + "/Migrations"
        c.secretKey = Array(repeating: 7, count: 32)
        // Outbox rows stay queued (tests read the PIN from them); the SMS tests switch the dispatcher on.
        c.sms.dispatcherEnabled = false
        // The tests run the deadline pass and the reminders themselves (runOnce): the app's own pass, every
        // 60 s by default, could take a test's move or reminder first on a slow machine.
        c.deadlineCheckSeconds = 3600
        configure(&c)
        return c
    }

    static var logger: Logger {
        var l = Logger(label: "app-test")
        l.logLevel = .critical
        return l
    }

    /// A started application on a fresh, migrated database, running as the application role (as in
    /// production: it may not change the schema or the audit log).
    static func make(migrate: Bool = true, _ configure: (inout AppConfiguration) -> Void = { _ in }) throws -> Application {
        let config = makeConfiguration(configure)
        let connectionString = try TestPostgres.makeDatabase()
        guard migrate else { return try make(config, connectionString: connectionString) }
        return try make(config, connectionString: try migrateWithRoles(connectionString))
    }

    /// The application role of the tests (the embedded cluster's; any role logs in over its socket).
    static let applicationRole = DatabaseRoles.embeddedApplicationRole

    /// Migrates the database of `owner` (a superuser's connection) as `pickupbox migrate` does with
    /// `DATABASE_OWNER_URL`, sets up the application role, and returns the server's connection string.
    static func migrateWithRoles(_ owner: String) throws -> String {
        try MigrationRunner(directory: packageRoot + "/Migrations", logger: logger).migrate(connectionString: owner)
        let server = try #require(PostgresConnectionString.replacing(["user": applicationRole, "password": applicationRole], in: owner))
        try DatabaseRoles.grant(ownerConnectionString: owner, applicationConnectionString: server, logger: logger)
        return server
    }

    static func make(_ config: AppConfiguration, connectionString: String) throws -> Application {
        _ = referenceJSONCheck
        let app = try Application(configuration: config, connectionString: connectionString, logger: logger)
        try app.start()
        return app
    }
}
