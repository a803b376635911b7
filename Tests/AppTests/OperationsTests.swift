import App
import Foundation
import HTTPServer
import HTTPTestSupport
import Logging
import Postgres
import PostgresTestSupport
import SMSGateway
import Testing

@Suite("Operations endpoints")
struct OperationsTests {
    @Test func readURL_isAStandbyOfDatabaseURL_andRefusedWithoutIt() throws {
        #expect(throws: AppConfiguration.Invalid.self) { try AppConfiguration.load(from: ["DATABASE_READ_URL": "host=/standby dbname=x"]) }
        let both = try AppConfiguration.load(from: ["DATABASE_URL": "host=/a,/b dbname=x target_session_attrs=read-write", "DATABASE_READ_URL": "host=/b dbname=x"])
        #expect(both.databaseReadURL == "host=/b dbname=x")
    }

    @Test func healthAnswersWithoutTheDatabase() throws {
        let app = try AppFixture.make(AppFixture.makeConfiguration(), connectionString: "host=/nonexistent-pickupbox port=1 dbname=x connect_timeout=1")
        defer { app.shutdown() }
        let reply = try #require(try TestClient(port: app.port).request("GET", "/health"))
        #expect(reply.status == 200)
        #expect(reply.text == #"{"status":"ok"}"#)
    }

    @Test func readyIs200_whenMigrated() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let reply = try #require(try TestClient(port: app.port).request("GET", "/ready"))
        #expect(reply.status == 200)
        #expect(reply.text == #"{"status":"ready"}"#)
    }

    @Test func readyIs503_whenMigrationsArePending() throws {
        let app = try AppFixture.make(migrate: false)
        defer { app.shutdown() }
        let reply = try #require(try TestClient(port: app.port).request("GET", "/ready"))
        #expect(reply.status == 503)
        #expect(reply.text.contains("not_ready") || reply.text.contains("migrations_pending"))
    }

    @Test func readyIs503_andProcessSurvives_whenDatabaseUnreachable() throws {
        let app = try AppFixture.make(AppFixture.makeConfiguration(), connectionString: "host=/nonexistent-pickupbox port=1 dbname=x connect_timeout=1")
        defer { app.shutdown() }
        let client = try TestClient(port: app.port)
        for _ in 0..<3 {
            let reply = try #require(client.request("GET", "/ready"))
            #expect(reply.status == 503)
            #expect(reply.text.contains("database_unavailable"))
            #expect(reply.header("Retry-After") == "2")
        }
        #expect(client.request("GET", "/health")?.status == 200)
    }

    @Test func answers503_whenThePoolIsExhausted() throws {
        let app = try AppFixture.make { c in
            c.databasePoolSize = 1
            c.databasePoolTimeout = .milliseconds(200)
        }
        defer { app.shutdown() }
        let holding = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            try? app.pool.withConnection { _ in
                holding.signal()
                release.wait()
            }
        }
        holding.wait()
        let reply = try #require(try TestClient(port: app.port).request("GET", "/ready"))
        release.signal()
        #expect(reply.status == 503)
        #expect(reply.text.contains("database_unavailable"))
        // And it recovers once the connection is back.
        var after = 0
        for _ in 0..<50 where after != 200 {
            after = try TestClient(port: app.port).request("GET", "/ready")?.status ?? 0
            usleep(20_000)
        }
        #expect(after == 200)
    }

    @Test func metricsCountRequestsByRouteAndStatus_andShowThePool() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let client = try TestClient(port: app.port)
        for _ in 0..<3 { _ = client.request("GET", "/health") }
        _ = client.request("GET", "/no/such/path?secret=0171123")
        _ = client.request("GET", "/ready")
        let reply = try #require(client.request("GET", "/metrics"))
        #expect(reply.status == 200)
        #expect(reply.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let text = reply.text
        #expect(text.contains(#"http_requests_total{method="GET",route="/health",status="200"} 3"#))
        #expect(text.contains(#"http_requests_total{method="GET",route="unmatched",status="404"} 1"#))
        #expect(text.contains("http_request_duration_seconds_bucket"))
        #expect(text.contains("http_open_connections 1"))
        #expect(text.contains("db_pool_size 4"))
        #expect(text.contains("db_pool_in_use"))
        #expect(text.contains("db_pool_waiting 0"))
        // Raw paths and query strings never become label values.
        #expect(!text.contains("0171123"))
        #expect(!text.contains("/no/such/path"))
    }

    @Test func metricsRequireTheToken_whenConfigured() throws {
        let app = try AppFixture.make { c in c.metricsToken = "s3cret-token" }
        defer { app.shutdown() }
        let client = try TestClient(port: app.port)
        #expect(client.request("GET", "/metrics")?.status == 401)
        #expect(client.request("GET", "/metrics", headers: ["Authorization: Bearer wrong"])?.status == 401)
        #expect(client.request("GET", "/metrics", headers: ["Authorization: Bearer s3cret-token"])?.status == 200)
    }
}

@Suite("Configuration")
struct ConfigurationTests {
    @Test func readsTheEnvironment() throws {
        let c = try AppConfiguration.load(from: ["PICKUPBOX_PORT": "9000", "PICKUPBOX_HOST": "::", "DB_POOL_SIZE": "8", "ACCESS_LOG": "off", "LOG_LEVEL": "debug"])
        #expect(c.port == 9000)
        #expect(c.host == "::")
        #expect(c.databasePoolSize == 8)
        #expect(c.accessLog == false)
        #expect(c.logLevel == .debug)
    }

    /// Nearly every handler on a worker queries the database: unset, the workers are as many as its
    /// connections (more would only wait for one).
    @Test func eventLoops_areHalfTheCores_unlessSet() throws {
        #expect([1, 2, 3, 4, 8, 64].map { AppConfiguration.defaultEventLoops(cores: $0) } == [1, 1, 1, 2, 4, 32])
        #expect(AppConfiguration.defaultEventLoops(cores: 0) == 1)
        #expect(try AppConfiguration.load(from: [:]).eventLoops == AppConfiguration.defaultEventLoops(cores: ProcessInfo.processInfo.activeProcessorCount))
        #expect(try AppConfiguration.load(from: ["HTTP_EVENT_LOOPS": "3"]).eventLoops == 3)
    }

    @Test func workerThreads_areAsManyAsDatabaseConnections_unlessSet() throws {
        #expect(try AppConfiguration.load(from: [:]).workerThreads == AppConfiguration.load(from: [:]).databasePoolSize)
        #expect(try AppConfiguration.load(from: ["DB_POOL_SIZE": "8"]).workerThreads == 8)
        #expect(try AppConfiguration.load(from: ["DB_POOL_SIZE": "8", "HTTP_WORKER_THREADS": "24"]).workerThreads == 24)
        #expect(throws: AppConfiguration.Invalid.self) { try AppConfiguration.load(from: ["DB_POOL_SIZE": "8", "HTTP_WORKER_THREADS": "4"]) }
    }

    @Test func listsEveryProblemInOneMessage() {
        do {
            _ = try AppConfiguration.load(from: ["PICKUPBOX_PORT": "http", "DB_POOL_SIZE": "-1", "LOG_LEVEL": "loud", "PICKUPBOX_ENV": "production"])
            Issue.record("expected an error")
        } catch let error as AppConfiguration.Invalid {
            #expect(error.problems.count == 7)
            #expect(error.description.contains("METRICS_TOKEN (or METRICS_TOKEN_FILE) is required in production"))
            #expect(error.description.contains("SMS_PROVIDER=console"))
            #expect(error.description.contains("PICKUPBOX_SECRET_KEY"))
            #expect(error.description.contains("PICKUPBOX_PORT"))
            #expect(error.description.contains("DB_POOL_SIZE"))
            #expect(error.description.contains("LOG_LEVEL"))
            #expect(error.description.contains("DATABASE_URL is required in production"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func readsTheSMSSettings_andListsTheirProblems() throws {
        let c = try AppConfiguration.load(from: [
            "SMS_PROVIDER": "seven", "SMS_TOKEN": "key", "SMS_SENDER": "Stadt", "SMS_HOURLY_CAP": "500", "SMS_QUIET_HOURS": "22:00-07:30",
            "SMS_REMINDER_DAYS": "0", "SMS_DISPATCHER": "off", "SMS_TIMEOUT_MS": "3000", "SMS_CLAIM_LEASE_SECONDS": "10",
        ])
        #expect(c.sms.gateway.provider == .seven)
        #expect(c.sms.hourlyCap == 500)
        #expect(c.sms.quietHours == QuietHours(startMinute: 22 * 60, endMinute: 7 * 60 + 30))
        #expect(c.sms.reminderDaysBefore == nil)
        #expect(c.sms.dispatcherEnabled == false)
        #expect(c.sms.gateway.configuration.totalTimeout == .seconds(3))
        do {
            _ = try AppConfiguration.load(from: ["SMS_PROVIDER": "carrier-pigeon", "SMS_QUIET_HOURS": "late", "SMS_RATE_PER_SECOND": "0", "SMS_CLAIM_LEASE_SECONDS": "10"])
            Issue.record("expected an error")
        } catch let error as AppConfiguration.Invalid {
            #expect(error.problems.count == 4, "\(error)")
            #expect(error.description.contains("SMS_PROVIDER"))
            #expect(error.description.contains("SMS_QUIET_HOURS"))
            #expect(error.description.contains("SMS_RATE_PER_SECOND"))
            #expect(error.description.contains("SMS_CLAIM_LEASE_SECONDS (10) must exceed"))
        }
        // The webhook provider without its URL cannot start.
        #expect(throws: AppConfiguration.Invalid.self) {
            _ = try Application(configuration: AppFixture.makeConfiguration { $0.sms.gateway = try! SMSEnvironment.load(["SMS_PROVIDER": "webhook"]) },
                                connectionString: "host=/nonexistent-pickupbox port=1 dbname=x", logger: AppFixture.logger)
        }
    }

    @Test func smsURL_mustBeHTTPS_exceptToLoopbackInDevelopment() throws {
        func problems(_ env: [String: String]) -> String {
            do { _ = try AppConfiguration.load(from: env); return "" } catch { return "\(error)" }
        }
        let production = ["PICKUPBOX_ENV": "production", "DATABASE_URL": "postgres://u:p@db/x", "PICKUPBOX_SECRET_KEY": String(repeating: "ab", count: 32),
                          "METRICS_TOKEN": "metrics-token", "SMS_PROVIDER": "webhook", "SMS_TOKEN": "t"]
        #expect(problems(production.merging(["SMS_URL": "https://sms.example.org/send"]) { $1 }) == "")
        for downgraded in ["http://sms.example.org/send", "http://127.0.0.1:9000/send", "HTTP://localhost/send", "ftp://sms.example.org", "sms.example.org"] {
            #expect(problems(production.merging(["SMS_URL": downgraded]) { $1 }).contains("SMS_URL must start with https:// in production"), "\(downgraded)")
        }
        let development = ["SMS_PROVIDER": "webhook", "SMS_TOKEN": "t"]
        for loopback in ["http://127.0.0.1:9000/send", "http://127.8.9.10/send", "http://localhost:8081/x", "http://[::1]:9000/send", "https://sms.example.org/send"] {
            #expect(problems(development.merging(["SMS_URL": loopback]) { $1 }) == "", "\(loopback)")
        }
        for remote in ["http://sms.example.org/send", "http://10.0.0.5/send", "http://127.0.0.1.example.org/x", "http://user@sms.example.org/x",
                       "http://[::2]/x", "http://localhost.example.org/x"] {
            #expect(problems(development.merging(["SMS_URL": remote]) { $1 }).contains("http:// only to a loopback address"), "\(remote)")
        }
    }

    @Test func readsSecretsFromFiles() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pickupbox-secret-\(UUID().uuidString)").path
        try "postgres://u:p@db/x\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let c = try AppConfiguration.load(from: ["DATABASE_URL_FILE": path, "PICKUPBOX_ENV": "production", "PICKUPBOX_SECRET_KEY": String(repeating: "ab", count: 32),
                                                 "METRICS_TOKEN_FILE": path,
                                                 "SMS_PROVIDER": "webhook", "SMS_URL": "https://sms.example.org/send", "SMS_TOKEN_FILE": path])
        #expect(c.databaseURL == "postgres://u:p@db/x")
        #expect(c.sms.gateway.configuration.token == "postgres://u:p@db/x")
        #expect(throws: AppConfiguration.Invalid.self) { try AppConfiguration.load(from: ["METRICS_TOKEN_FILE": "/nonexistent/file"]) }
    }
}

@Suite("Database failures become 503")
struct DatabaseFailureTests {
    @Test func clientSideDatabaseFailure_answers503WithRetryAfter_not500() throws {
        let server = try MisbehavingPostgres()
        defer { server.stop() }
        let app = try AppFixture.make(AppFixture.makeConfiguration(), connectionString: server.connectionString)
        defer { app.shutdown() }
        let client = try TestClient(port: app.port)
        let cookie = "Cookie: pickupbox_session=\(UUID().uuidString.lowercased()).\(String(repeating: "a", count: 43))"
        for _ in 0..<2 {
            let reply = try #require(client.request("GET", "/api/v1/applications", headers: [cookie]))
            #expect(reply.status == 503)
            #expect(reply.header("Retry-After") == "2")
            #expect(reply.text.contains(#""error":"database_unavailable""#))
        }
    }
}
