import Foundation
import HTTPServer
import Postgres
import Prometheus
import Foundation
import Synchronization

/// Prometheus metrics of one process: requests by route and status, latency by route, open
/// connections, worker queue, database pool. Request metrics are recorded on the event loop
/// threads, so the per-series handles are created once and cached.
final class AppMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let requestCounters = Mutex<[SeriesKey: Counter]>([:])
    private let latencyHistograms = Mutex<[Int: DurationHistogram]>([:])

    /// Integers only: hashing it costs nothing next to hashing the route pattern on every request.
    private struct SeriesKey: Hashable {
        let routeIndex: Int
        let method: HTTPMethod
        let status: Int
        let unmatchedRoute: Bool
    }
    private let openConnections: Gauge
    private let rejectedConnections: Gauge
    private let queuedRequests: Gauge
    private let busyWorkers: Gauge
    private let poolSize: Gauge
    private let poolOpen: Gauge
    private let poolInUse: Gauge
    private let poolWaiting: Gauge
    private let longPolls: Gauge
    private let boxesOffline: Gauge
    private let boxesThrottled: Gauge
    private let boxesLoadingBlocked: Gauge
    /// SMS handed to the gateway, retried later, failed for good (this process's dispatcher).
    let smsSent: Counter
    let smsRetried: Counter
    let smsFailed: Counter
    /// `loaded` reports refused at four-eyes sites because no two badges authorised the loading (alert on any).
    let fourEyesLoadingRefused: Counter
    private let smsQueued: Gauge
    private let smsSentLastHour: Gauge
    private let smsFailedLastDay: Gauge
    /// Deadline passes that ran to the end in this process, and the documents they moved to retrieval.
    let deadlinePasses: Counter
    let deadlineDocumentsMoved: Counter
    private let deadlineLastPass: Gauge
    /// Log lines dropped because the log writer fell behind (read from the sink at scrape time).
    private let logLinesDropped: Counter
    /// Public status look-ups by where they ran: `pipeline` (the event loop's own connection) or `pool`
    /// (a worker, while the pipeline connects or is full).
    private let statusLookupsPipelined: Counter
    private let statusLookupsPooled: Counter

    /// Counts one public status look-up by where its query ran.
    func countStatusLookup(pipelined: Bool) {
        (pipelined ? statusLookupsPipelined : statusLookupsPooled).increment()
    }
    private let logLinesDroppedSeen = Mutex(0)
    /// 1 when the scrape's database queries answered, 0 when they failed (alerting: database unreachable).
    private let databaseReachable: Gauge
    private let databaseReplicaLag: Gauge
    /// The erasure pass (PRIVACY.md#erasure-on-schedule), read at scrape time from the database (all processes).
    private let erasureWaiting: [ErasedTable: Gauge]
    private let erasureOldestWaiting: Gauge
    private let erasureLastPass: Gauge

    static let buckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    static func name(_ name: String, unit: String = "", help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: unit, helpText: help)
    }

    init(registry: PrometheusCollectorRegistry, instance: String = "pickupbox", build: BuildDescription = BuildDescription(), smsHourlyCap: Int = 0) {
        self.registry = registry
        // The breaker opens when sms_sent_last_hour reaches this (alert rules compare the two).
        registry.makeGauge(descriptor: Self.name("sms_hourly_cap", help: "SMS_HOURLY_CAP: messages per hour over all processes before the circuit breaker opens"))
            .set(to: Double(smsHourlyCap))
        // Constant 1; its labels tell the replicas apart and say what runs (join on it in queries).
        registry.makeGauge(descriptor: Self.name("pickupbox_build_info", help: "Always 1: the version, commit and instance name of this process"),
                           labels: [("version", build.version), ("commit", build.commit), ("instance_name", instance)]).set(to: 1.0)
        openConnections = registry.makeGauge(descriptor: Self.name("http_open_connections", help: "Open client connections"))
        rejectedConnections = registry.makeGauge(descriptor: Self.name("http_rejected_connections", help: "Connections refused because of the connection cap, since start"))
        queuedRequests = registry.makeGauge(descriptor: Self.name("http_queued_requests", help: "Requests waiting for a worker thread"))
        busyWorkers = registry.makeGauge(descriptor: Self.name("http_busy_workers", help: "Worker threads running a handler"))
        poolSize = registry.makeGauge(descriptor: Self.name("db_pool_size", help: "Configured database connections"))
        poolOpen = registry.makeGauge(descriptor: Self.name("db_pool_open", help: "Open database connections"))
        poolInUse = registry.makeGauge(descriptor: Self.name("db_pool_in_use", help: "Database connections checked out"))
        boxesOffline = registry.makeGauge(descriptor: Self.name("boxes_offline", help: "Boxes with a token that have not polled for 2 minutes (all authorities)"))
        boxesThrottled = registry.makeGauge(descriptor: Self.name("boxes_pickups_blocked", help: "Boxes refusing pickups after repeated failed attempts"))
        boxesLoadingBlocked = registry.makeGauge(descriptor: Self.name("boxes_loading_blocked", help: "Boxes refusing loading after repeated refused badges or documents"))
        longPolls = registry.makeGauge(descriptor: Self.name("box_long_polls_waiting", help: "Parked long polls of box controllers"))
        poolWaiting = registry.makeGauge(descriptor: Self.name("db_pool_waiting", help: "Threads waiting for a database connection"))
        smsSent = registry.makeCounter(descriptor: Self.name("sms_sent", unit: "total", help: "SMS handed to the gateway by this process"))
        smsRetried = registry.makeCounter(descriptor: Self.name("sms_retried", unit: "total", help: "SMS sends that failed temporarily and were queued again"))
        smsFailed = registry.makeCounter(descriptor: Self.name("sms_failed", unit: "total", help: "SMS that failed for good in this process's dispatcher"))
        fourEyesLoadingRefused = registry.makeCounter(descriptor: Self.name("box_loading_four_eyes_refused", unit: "total",
                                                                            help: "loaded reports refused at four-eyes sites without two staff badges (this process); alert on any"))
        smsQueued = registry.makeGauge(descriptor: Self.name("sms_queued", help: "SMS waiting in the outbox (all processes)"))
        smsSentLastHour = registry.makeGauge(descriptor: Self.name("sms_sent_last_hour", help: "SMS handed to the gateway in the last hour (the hourly cap counts these)"))
        smsFailedLastDay = registry.makeGauge(descriptor: Self.name("sms_failed_last_day", help: "SMS failed or expired in the last 24 hours"))
        deadlinePasses = registry.makeCounter(descriptor: Self.name("deadline_passes", unit: "total", help: "Pickup-deadline passes completed by this process (one process at a time does a pass)"))
        deadlineDocumentsMoved = registry.makeCounter(descriptor: Self.name("deadline_documents_moved", unit: "total", help: "Documents moved to retrieval because their pickup deadline passed"))
        deadlineLastPass = registry.makeGauge(descriptor: Self.name("deadline_last_pass_timestamp_seconds", help: "Unix time of this process's last deadline pass that ran without error"))
        databaseReplicaLag = registry.makeGauge(descriptor: Self.name("database_replica_lag_seconds", help: "How far DATABASE_READ_URL's standby is behind (0 when caught up, -1 when it does not answer); only with DATABASE_READ_URL"))
        databaseReachable = registry.makeGauge(descriptor: Self.name("database_reachable", help: "1 when this scrape's database queries answered, else 0"))
        logLinesDropped = registry.makeCounter(descriptor: Self.name("log_lines_dropped", unit: "total", help: "Log lines dropped because the log writer fell behind"))
        statusLookupsPipelined = registry.makeCounter(descriptor: Self.name("status_lookups", unit: "total", help: "Public status look-ups by where their query ran: the event loop's pipelined connection or the pool"),
                                                      labels: [("path", "pipeline")])
        statusLookupsPooled = registry.makeCounter(descriptor: Self.name("status_lookups", unit: "total", help: "Public status look-ups by where their query ran: the event loop's pipelined connection or the pool"),
                                                   labels: [("path", "pool")])
        erasureWaiting = Dictionary(uniqueKeysWithValues: ErasedTable.allCases.map { table in
            (table, registry.makeGauge(descriptor: Self.name("erasure_waiting_rows", help: "Rows whose personal data is due for erasure, by table (the next pass takes them)"),
                                       labels: [("table", table.rawValue)]))
        })
        erasureOldestWaiting = registry.makeGauge(descriptor: Self.name("erasure_oldest_waiting", unit: "seconds", help: "How long the row that has waited longest has been due for erasure (0: none waits)"))
        erasureLastPass = registry.makeGauge(descriptor: Self.name("erasure_last_pass_timestamp", unit: "seconds", help: "When the last erasure pass finished, Unix time (0: none yet)"))
    }

    /// Called for every answered request (on an event loop thread).
    func record(_ r: RequestRecord) {
        let key = SeriesKey(routeIndex: r.routeIndex, method: r.method, status: r.status, unmatchedRoute: r.route == "unparsed")
        let counter = requestCounters.withLock { cache -> Counter in
            if let c = cache[key] { return c }
            let c = registry.makeCounter(descriptor: Self.name("http_requests", unit: "total", help: "HTTP requests by method, route pattern and status"),
                                         labels: [("method", r.method.rawValue), ("route", r.route), ("status", String(r.status))])
            cache[key] = c
            return c
        }
        counter.increment()
        let histogram = latencyHistograms.withLock { cache -> DurationHistogram in
            let routeKey = r.routeIndex >= 0 ? r.routeIndex : (r.route == "unparsed" ? -2 : -1)
            if let h = cache[routeKey] { return h }
            let h = registry.makeDurationHistogram(
                descriptor: Self.name("http_request_duration", unit: "seconds", help: "Time from the end of the request head to the response, by route pattern"),
                labels: [("route", r.route)], buckets: Self.buckets)
            cache[routeKey] = h
            return h
        }
        histogram.recordNanoseconds(Int64(clamping: r.durationNanoseconds))
    }

    /// A deadline pass ran without error (`moved`: 0 when another process held the pass).
    func deadlinePassCompleted(moved: Int) {
        deadlinePasses.increment()
        if moved > 0 { deadlineDocumentsMoved.increment(by: Int64(moved)) }
        deadlineLastPass.set(Date().timeIntervalSince1970)
    }

    /// The exposition text, with gauges read now.
    func render(server: HTTPServer, pool: PostgresPool, readPool: PostgresPool?, longPollsWaiting: Int, erasure: ErasurePass) -> [UInt8] {
        let dropped = server.configuration.logSink.droppedLines
        logLinesDroppedSeen.withLock { seen in
            if dropped > seen { logLinesDropped.increment(by: Int64(dropped - seen)) }
            seen = max(seen, dropped)
        }
        longPolls.set(Double(longPollsWaiting))
        // Read at scrape time; if the database is unreachable the other metrics are still served.
        readDatabaseGauges(pool: pool, readPool: readPool)
        let now = Date()
        if let preview = try? pool.withConnection({ try ErasurePreview.load($0, pass: erasure, now: now) }) {
            for (table, gauge) in erasureWaiting { gauge.set(Double(preview.rows[table] ?? 0)) }
            erasureOldestWaiting.set(preview.oldestWaitingSeconds(at: now))
            erasureLastPass.set(preview.lastPassFinishedAt?.timeIntervalSince1970 ?? 0)
        }
        openConnections.set(Double(server.openConnections))
        rejectedConnections.set(Double(server.rejectedConnections))
        queuedRequests.set(Double(server.queuedRequests))
        busyWorkers.set(Double(server.busyWorkers))
        let stats = pool.statistics
        poolSize.set(Double(stats.size))
        poolOpen.set(Double(stats.open))
        poolInUse.set(Double(stats.inUse))
        poolWaiting.set(Double(stats.waiting))
        return registry.emitToBuffer()
    }

    /// Boxes, the read standby's lag and the SMS queue, each query on its own: one that fails leaves its
    /// gauges as they were (and `database_reachable` says why).
    private func readDatabaseGauges(pool: PostgresPool, readPool: PostgresPool?) {
        var reachable = false
        if let row = try? pool.query("""
            SELECT count(*) FILTER (WHERE token_hash IS NOT NULL AND (last_seen_at IS NULL OR last_seen_at < now() - interval '2 minutes'))::int8 AS offline,
                   count(*) FILTER (WHERE pickups_blocked_until > now())::int8 AS throttled,
                   count(*) FILTER (WHERE loading_blocked_until > now())::int8 AS loading_blocked
            FROM box
            """).first {
            boxesOffline.set(Double((try? row.decode(Int.self, column: "offline")) ?? 0))
            boxesThrottled.set(Double((try? row.decode(Int.self, column: "throttled")) ?? 0))
            boxesLoadingBlocked.set(Double((try? row.decode(Int.self, column: "loading_blocked")) ?? 0))
            reachable = true
        }
        databaseReachable.set(to: reachable ? 1.0 : 0.0)
        if let readPool {
            // How far the read standby is behind: 0 when it has replayed all it received (an idle primary
            // sends nothing, so the age of the last replayed commit alone would grow without any lag),
            // else the age of its last replayed commit; -1 when it does not answer.
            let lag = try? readPool.query("""
                SELECT CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                            ELSE COALESCE(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END::float8 AS lag
                """).first?.decode(Double.self, column: "lag")
            databaseReplicaLag.set(lag ?? -1)
        }
        if let row = try? pool.query("""
            SELECT (SELECT count(*) FROM sms_message WHERE status = ANY(\([SMSStatus.queued, .sending].map(\.rawValue))))::int8 AS queued,
                   (SELECT count(*) FROM sms_message WHERE sent_at > now() - interval '1 hour')::int8 AS sent,
                   (SELECT count(*) FROM sms_message WHERE status = ANY(\([SMSStatus.failed, .expired].map(\.rawValue)))
                        AND final_at > now() - interval '24 hours')::int8 AS failed
            """).first {
            smsQueued.set(Double((try? row.decode(Int.self, column: "queued")) ?? 0))
            smsSentLastHour.set(Double((try? row.decode(Int.self, column: "sent")) ?? 0))
            smsFailedLastDay.set(Double((try? row.decode(Int.self, column: "failed")) ?? 0))
        }
    }
}
