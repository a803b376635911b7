/// Settings for a `PostgresPool`, read and validated once at start-up by the caller.
public struct PostgresConfiguration: Sendable {
    /// libpq conninfo (`host=/x port=5432 dbname=y`) or a `postgres://` URL.
    public var connectionString: String
    /// Maximum number of open connections; opened lazily.
    public var poolSize: Int
    /// How long a checkout waits for a free connection before throwing `.poolTimeout`.
    public var checkoutTimeout: Duration
    /// libpq `connect_timeout` (libpq treats values below 2 as 2).
    public var connectTimeoutSeconds: Int
    /// `statement_timeout` set at connect through `options`; nil leaves the server default.
    public var statementTimeoutMilliseconds: Int?
    /// `application_name`, visible in `pg_stat_activity`.
    public var applicationName: String
    /// false: `synchronous_commit=off` for every connection of the pool — a commit returns before its WAL
    /// is flushed. A crash of PostgreSQL (not of the client) can lose the last ~0.6 s of commits; nothing is
    /// ever corrupted. For work that tolerates that (the SMS dispatcher's bookkeeping), not for user writes.
    public var synchronousCommit: Bool

    /// Creates a configuration; see the properties for the meaning of each value.
    public init(
        connectionString: String,
        poolSize: Int = 10,
        checkoutTimeout: Duration = .seconds(5),
        connectTimeoutSeconds: Int = 5,
        statementTimeoutMilliseconds: Int? = 30_000,
        applicationName: String = "pickupbox",
        synchronousCommit: Bool = true
    ) {
        self.connectionString = connectionString
        self.poolSize = poolSize
        self.checkoutTimeout = checkoutTimeout
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.statementTimeoutMilliseconds = statementTimeoutMilliseconds
        self.applicationName = applicationName
        self.synchronousCommit = synchronousCommit
    }
}
