import App
import ArgumentParser
import CSystem
import Foundation
import HTTPServer
import Logging
import Metrics
import Postgres
import Prometheus

@main
struct Pickupbox: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pickupbox",
        abstract: "Back-office server for self-service document pickup boxes (Dokumentenausgabebox).",
        discussion: "Configuration comes from environment variables; run `pickupbox env` to list them.",
        subcommands: [Serve.self, Migrate.self, SeedDemo.self, AuthorityCommand.self, SiteCommand.self, UserCommand.self, BoxCommand.self, BoxSimulator.self,
                      EraseCommand.self, AuditCommand.self, EnvironmentHelp.self, VersionCommand.self, HealthCheckCommand.self]
    )
}

/// Options every command that touches the database shares.
struct CommonOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Local state directory (embedded PostgreSQL). Default: PICKUPBOX_DATA_DIR or .pickupbox")
    var dataDirectory: String?

    @Option(name: .customLong("migrations"), help: "Directory of SQL migrations. Default: PICKUPBOX_MIGRATIONS_DIR, or Migrations/ next to the binary (or in the checkout it was built in)")
    var migrationsDirectory: String?

    /// The validated configuration: environment, then flags; all problems in one error.
    func configuration(host: String? = nil, port: Int? = nil) throws -> AppConfiguration {
        var c = try AppConfiguration.load(from: ProcessInfo.processInfo.environment)
        if let host { c.host = host }
        if let port { c.port = port }
        if let d = dataDirectory { c.dataDirectory = d }
        if let m = migrationsDirectory { c.migrationsDirectory = m }
        c.build = BuildInfo.description
        let problems = c.problems()
        if !problems.isEmpty { throw AppConfiguration.Invalid(problems: problems) }
        return c
    }
}

/// Text or JSON lines (`LOG_FORMAT`) on standard error, written by the log sink's own thread; every line
/// names the instance. Lines still queued are written when the process exits.
func bootstrapLogging(_ config: AppConfiguration) -> Logger {
    let (level, format, instance) = (config.logLevel, config.logFormat, config.instance)
    LoggingSystem.bootstrap { label in
        var handler = SinkLogHandler(label: label, format: format, instance: instance, sink: config.logSink)
        handler.logLevel = level
        if format == .text { handler.metadata["instance"] = .string(instance) }
        return handler
    }
    atexit { LogSink.standardError.flush() }
    var logger = Logger(label: "pickupbox")
    logger.logLevel = level
    return logger
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Migrate the database and serve HTTP until SIGTERM or SIGINT.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Listen address (IPv4 or IPv6 literal, or localhost). Default: PICKUPBOX_HOST or 127.0.0.1")
    var host: String?

    @Option(help: "Listen port. Default: PICKUPBOX_PORT or 8080")
    var port: Int?

    @Flag(help: "Seed the demo authority first if it does not exist (make run), printing its logins once.")
    var demo = false

    func validate() throws {
        if let port, !(0...65535).contains(port) { throw ValidationError("--port must be from 0 to 65535") }
    }

    func run() throws {
        // Before any other thread exists: memory of large request bodies goes back to the kernel
        // (BENCHMARKS.md, "Memory after large bodies").
        csystem_tune_malloc(2, 128 * 1024, 128 * 1024)
        // Signals are taken synchronously by this thread (sigwait); block them before any other thread starts.
        let signals = SignalWaiter(signals: [SIGTERM, SIGINT])
        signal(SIGPIPE, SIG_IGN)
        let config = try common.configuration(host: host, port: port)
        let logger = bootstrapLogging(config)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        if config.build.migrationLevel > 0, let shipped = try? MigrationRunner(directory: config.migrationsDirectory, logger: logger).load().last?.version,
           shipped != config.build.migrationLevel {
            logger.warning("the migrations found are not the ones this binary was built with", metadata: [
                "migrations.directory": "\(config.migrationsDirectory)", "migrations.found": "\(shipped)", "migrations.built": "\(config.build.migrationLevel)"])
        }
        let database = try DatabaseBootstrap.prepare(config, logger: logger)
        defer { database.release() }
        try database.migrate(config, logger: logger)
        if demo { try SeedDemo.seed(connectionString: database.connectionString, logger: logger) }
        let app = try Application(configuration: config, connectionString: database.connectionString, logger: logger, registry: registry)
        // Least privilege (PRIVACY.md): in production the server refuses to run as a role that could rewrite the audit log.
        if let error = try DatabaseRoles.excess(of: app.pool) {
            guard config.environment != .production else {
                app.shutdown()
                throw error
            }
            logger.warning("\(error)")
        }
        try app.start()
        let shownHost = config.host.contains(":") ? "[\(config.host)]" : config.host
        logger.notice("pickupbox is serving", metadata: ["url": "http://\(shownHost):\(app.port)"])

        let trimmer = MemoryTrimmer(server: app.server, logger: logger)
        trimmer.start()
        let received = signals.wait()
        logger.notice("shutting down", metadata: ["signal": "\(received)"])
        trimmer.stop()
        app.shutdown()
        config.logSink.flush()
    }
}

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending SQL migrations and exit.")

    @OptionGroup var common: CommonOptions

    func run() throws {
        let config = try common.configuration()
        let logger = bootstrapLogging(config)
        let database = try DatabaseBootstrap.prepare(config, logger: logger)
        defer { database.release() }
        let applied = try database.migrate(config, logger: logger)
        print(applied.isEmpty ? "database is up to date" : "applied \(applied.count) migration(s): " + applied.map(\.name).joined(separator: ", "))
    }
}

struct SeedDemo: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "seed-demo", abstract: "Create the demo authority, site, box (456 compartments), logins and applications, once.")

    @OptionGroup var common: CommonOptions

    func run() throws {
        let config = try common.configuration()
        let logger = bootstrapLogging(config)
        let database = try DatabaseBootstrap.prepare(config, logger: logger)
        defer { database.release() }
        try database.migrate(config, logger: logger)
        try Self.seed(connectionString: database.connectionString, logger: logger)
    }

    /// Prints the new logins to standard output (never to the log), or says the demo exists.
    static func seed(connectionString: String, logger: Logger) throws {
        guard let created = try DemoSeed.run(connectionString: connectionString, logger: logger) else {
            print("The demo authority '\(DemoSeed.authoritySlug)' exists already; its passwords and box token were shown when it was created.")
            return
        }
        print("""

            Demo authority '\(DemoSeed.authoritySlug)' created. These passwords and the box token are shown only now:
            """)
        for c in created.credentials {
            print("  authority \(DemoSeed.authoritySlug)   username \(c.username.padding(toLength: 16, withPad: " ", startingAt: 0)) password \(c.password)   (\(c.role))")
        }
        print("  box \"\(created.boxName)\"   box token \(created.boxToken)")
        print("""
              Web app: log in at the server's address (below). Box panel: /box-panel with the box token.
            """)
        fflush(nil)  // stdout may be a file (fully buffered): show the logins now, not at exit
    }
}

struct EnvironmentHelp: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "env", abstract: "List the environment variables pickupbox reads.")

    func run() throws {
        for v in AppConfiguration.variables { print(v.name.padding(toLength: 36, withPad: " ", startingAt: 0) + v.meaning) }
    }
}

/// Blocks the given signals in the calling thread (and so in every thread started after it) and
/// waits for one with sigwait: no handler runs in signal context.
struct SignalWaiter {
    private var set = sigset_t()

    init(signals: [Int32]) {
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    func wait() -> Int32 {
        var s = set
        var received: Int32 = 0
        sigwait(&s, &received)
        return received
    }
}
