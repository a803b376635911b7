import Foundation
import HTTPServer
import Logging
import Postgres
import Prometheus
import SMSGateway

/// One pickupbox server process: database pool, notification listener, HTTP server, metrics.
/// Stateless apart from caches: every piece of shared state lives in PostgreSQL, so several
/// processes behind a load balancer behave as one.
public final class Application: Sendable {
    public let configuration: AppConfiguration
    public let pool: PostgresPool
    /// Reads that may lag a moment (the public status lookup, the dashboard's aggregates): a pool on
    /// `DATABASE_READ_URL`, a hot standby, when set; otherwise `pool` itself.
    public let readPool: PostgresPool
    public let listener: PostgresListener
    public let logger: Logger
    let metrics: AppMetrics
    let sessions: SessionStore
    let throttle: LoginThrottle
    /// Key for keyed hashes (CANs, PINs); never stored in the database.
    let secretKey: [UInt8]
    /// Encrypts the SMS texts in the outbox (they carry PINs); derived from the secret key.
    let smsCipher: TextCipher
    let statusLimiter: RateLimiter
    /// Public site data (hours, exceptions, pickup settings) for the status check, kept for a minute.
    let publicSites = SiteHoursCache()
    /// What earlier admissions of a pickup's first step read, per box token (checked by the step's call).
    let boxAdmissions = BoxAdmissions()
    /// The browser frontend's files.
    let web: WebAssets
    /// Parked long polls of box controllers, woken by NOTIFY.
    let longPolls: LongPollRegistry
    /// Moves documents past their pickup deadline to `retrieval_due`.
    let deadlines: DeadlineScheduler
    /// Erases personal data on schedule (PRIVACY.md#erasure-on-schedule).
    let erasurePass: ErasurePass
    let erasure: ErasureScheduler
    /// Seals committed audit events into their authority's hash chain (PRIVACY.md#the-audit-log).
    let auditSealer: AuditSealer
    /// Sends the SMS outbox; nil when `SMS_DISPATCHER=off`.
    let smsDispatcher: SMSDispatcher?
    /// The newest migration version this build knows; `/ready` checks that it is applied.
    let latestMigration: Int
    private let serverBox: ServerBox

    /// Holds the server, which is built after `self` because its routes capture the application.
    private final class ServerBox: @unchecked Sendable {
        // Written once in init before the application is shared, then only read.
        var server: HTTPServer?
    }

    public init(configuration: AppConfiguration, connectionString: String, logger: Logger, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) throws {
        self.configuration = configuration
        self.logger = logger
        self.pool = PostgresPool(
            configuration: PostgresConfiguration(connectionString: connectionString, poolSize: configuration.databasePoolSize, checkoutTimeout: configuration.databasePoolTimeout),
            logger: logger
        )
        self.readPool = configuration.databaseReadURL.map { url in
            PostgresPool(configuration: PostgresConfiguration(connectionString: url, poolSize: configuration.databasePoolSize, checkoutTimeout: configuration.databasePoolTimeout,
                                                              applicationName: "pickupbox-read"), logger: logger)
        } ?? pool
        self.listener = PostgresListener(connectionString: connectionString, logger: logger)
        self.metrics = AppMetrics(registry: registry, instance: configuration.instance, build: configuration.build, smsHourlyCap: configuration.sms.hourlyCap)
        self.sessions = SessionStore(pool: pool, secureCookie: configuration.cookieSecure)
        self.throttle = LoginThrottle(failuresPerAccount: configuration.loginFailuresPerAccount, failuresPerAddress: configuration.loginFailuresPerAddress)
        self.secretKey = try configuration.secretKey ?? configuration.developmentSecretKey()
        self.smsCipher = TextCipher(secret: secretKey, previous: configuration.previousSecretKey, label: SMSOutbox.cipherLabel)
        self.statusLimiter = RateLimiter(perMinute: configuration.statusRateLimitPerMinute)
        self.longPolls = LongPollRegistry(logger: logger)
        self.deadlines = DeadlineScheduler(pool: pool, logger: logger, interval: configuration.deadlineCheckSeconds, sms: configuration.sms, cipher: smsCipher, metrics: metrics)
        self.erasurePass = ErasurePass(pool: pool, configuration: configuration, cipher: smsCipher, logger: logger)
        self.erasure = ErasureScheduler(pass: erasurePass, interval: configuration.erasureIntervalSeconds, logger: logger)
        self.auditSealer = AuditSealer(pool: pool, logger: logger)
        self.smsDispatcher = try Application.makeSMSDispatcher(configuration, connectionString: connectionString, cipher: smsCipher, logger: logger, metrics: metrics)
        self.web = try WebAssets.load(override: configuration.webDirectory)
        self.latestMigration = try MigrationRunner(directory: configuration.migrationsDirectory, logger: logger).load().map(\.version).max() ?? 0
        self.serverBox = ServerBox()
        let metrics = self.metrics
        serverBox.server = HTTPServer(
            configuration: configuration.serverConfiguration,
            router: Router(Routes.table(for: self)),
            logger: logger,
            errorMapper: { error, request in ErrorMapping.response(for: error, request: request, logger: logger) },
            observer: { metrics.record($0) }
        )
    }

    /// The SMS dispatcher when this process sends (its own pool, `synchronous_commit=off`). The provider is
    /// built (and its configuration checked) even when this process does not send.
    private static func makeSMSDispatcher(_ configuration: AppConfiguration, connectionString: String, cipher smsCipher: TextCipher, logger: Logger,
                                          metrics: AppMetrics) throws -> SMSDispatcher? {
        let gateway = configuration.sms.gateway
        let makeProvider = { () throws(SMSError) -> any SMSProvider in
            try SMSProviderFactory.make(name: gateway.provider.rawValue, configuration: gateway.configuration,
                                        client: CurlHTTPClient(configuration: gateway.configuration), logger: logger)
        }
        do throws(SMSError) {
            // Without a dispatcher here, the configuration is still checked (another process may send).
            if !configuration.sms.dispatcherEnabled { _ = try makeProvider() }
            return configuration.sms.dispatcherEnabled
                ? try SMSDispatcher(pool: PostgresPool(configuration: PostgresConfiguration(
                    connectionString: connectionString, poolSize: configuration.sms.threads + 1, checkoutTimeout: configuration.databasePoolTimeout,
                    applicationName: "pickupbox-sms", synchronousCommit: false), logger: logger),
                    settings: configuration.sms, cipher: smsCipher, logger: logger, metrics: metrics, makeProvider: makeProvider) : nil
        } catch {
            throw AppConfiguration.Invalid(problems: ["SMS: \(error.reason)"])
        }
    }

    public var server: HTTPServer {
        guard let s = serverBox.server else { preconditionFailure("server is set in init") }
        return s
    }

    /// The bound port.
    public var port: Int { server.port }

    public func start() throws {
        let longPolls = self.longPolls
        _ = listener.subscribe(channel: BoxChanges.channel) { event in
            switch event {
            case .notification(_, let box): longPolls.notify(box: box)
            case .reconnected: longPolls.notifyAll()
            }
        }
        if let sms = smsDispatcher {
            _ = listener.subscribe(channel: SMSOutbox.channel) { _ in sms.wake() }
        }
        // Texts an older server left in clear are sealed before this process sends anything (the erasure
        // pass does it again, should the database be unreachable now).
        do { _ = try pool.withConnection { try SMSOutbox.sealClearTexts($0, cipher: smsCipher, logger: logger) } } catch {
            logger.warning("SMS texts left in clear by an older server not sealed yet", metadata: ["error": "\(error)"])
        }
        listener.start()
        deadlines.start()
        erasure.start()
        auditSealer.start()
        smsDispatcher?.start()
        try server.start()
    }

    /// Graceful: the HTTP server drains first, then background work and the pool stop.
    public func shutdown() {
        // Parked long polls are answered ("nothing new") so that the drain does not wait for them.
        longPolls.shutdown()
        deadlines.shutdown()
        erasure.shutdown()
        auditSealer.shutdown()
        server.shutdown()
        smsDispatcher?.shutdown()
        listener.shutdown()
        pool.shutdown()
        if readPool !== pool { readPool.shutdown() }
    }
}
