@testable import App
import Foundation
import HTTPTestSupport
import Postgres
import PostgresTestSupport
import Testing

/// `deploy/nginx.conf` run by Debian's nginx (installed by `make`), rendered from the file itself with
/// only the upstream's servers (two local `pickupbox serve` processes instead of compose's `resolve`,
/// which needs nginx ≥ 1.27.3) and the listen address changed.
final class NginxProxy {
    let port: Int
    let directory: String
    private let process = Process()

    static let binary = "/usr/sbin/nginx"

    /// The deployment's config with a static upstream and a loopback listen address; every other line as it is.
    static func render(_ config: String, upstreams: [Int], listenPort: Int) throws -> String {
        var lines: [String] = []
        var replaced = (resolver: false, server: false, listen: false)
        for line in config.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("resolver ") { replaced.resolver = true; continue }
            if trimmed.hasPrefix("server ") && trimmed.hasSuffix(" resolve;") {
                replaced.server = true
                lines += upstreams.map { "    server 127.0.0.1:\($0);" }
                continue
            }
            if trimmed.hasPrefix("listen ") {
                replaced.listen = true
                lines.append("    listen 127.0.0.1:\(listenPort);")
                continue
            }
            lines.append(line)
        }
        try #require(replaced.resolver && replaced.server && replaced.listen, "deploy/nginx.conf no longer has the resolver, `server … resolve;` and listen lines this test renders")
        return lines.joined(separator: "\n")
    }

    init(upstreams: [Int]) throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "Debian's nginx is missing: `make test` installs it (apt-get install nginx)")
        port = LoopbackPort.unused()
        directory = NSTemporaryDirectory() + "pickupbox-nginx-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        let site = try Self.render(try String(contentsOfFile: packageRoot + "/deploy/nginx.conf", encoding: .utf8), upstreams: upstreams, listenPort: port)
        try site.write(toFile: directory + "/pickupbox.conf", atomically: true, encoding: .utf8)
        let d = directory
        try """
            pid \(d)/nginx.pid;
            error_log \(d)/error.log warn;
            worker_processes 1;
            events { worker_connections 1024; }
            http {
                access_log \(d)/access.log;
                client_body_temp_path \(d)/body;
                proxy_temp_path \(d)/proxy;
                fastcgi_temp_path \(d)/fastcgi;
                uwsgi_temp_path \(d)/uwsgi;
                scgi_temp_path \(d)/scgi;
                include \(d)/pickupbox.conf;
            }
            """.write(toFile: d + "/nginx.conf", atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["-p", d, "-c", d + "/nginx.conf", "-e", d + "/error.log", "-g", "daemon off;"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let up = SMSFixture.wait(seconds: 10) { process.isRunning && (try? TestClient(port: port, timeout: 1)) != nil }
        try #require(up, "nginx did not start: \((try? String(contentsOfFile: d + "/error.log", encoding: .utf8)) ?? "")")
    }

    /// nginx's error log so far (for failure messages).
    var errorLog: String { (try? String(contentsOfFile: directory + "/error.log", encoding: .utf8)) ?? "" }

    func stop() {
        if process.isRunning { process.terminate() }
        _ = SMSFixture.wait(seconds: 5) { !process.isRunning }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// The compose file's shape on loopback: nginx in front of two stateless `pickupbox serve` processes on
/// one PostgreSQL database, plus an in-process application on the same database for fixtures.
final class ProxyTopology {
    let database: String
    let app: Application
    let replicas: [ServerProcess]
    let proxy: NginxProxy
    let town: AuthorityFixture

    init(environment: [String: String] = [:]) throws {
        let database = try TestPostgres.makeDatabase()
        self.database = database
        let config = AppFixture.makeConfiguration()
        try MigrationRunner(directory: config.migrationsDirectory, logger: AppFixture.logger).migrate(connectionString: database)
        app = try AppFixture.make(config, connectionString: database)
        var env = ["TRUSTED_PROXIES": "127.0.0.1/32", "STATUS_RATE_LIMIT": "1000000"]
        for (k, v) in environment { env[k] = v }
        var replicas: [ServerProcess] = []
        for i in 0..<2 {
            replicas.append(try ServerProcess(connectionString: database, environment: env.merging(["PICKUPBOX_INSTANCE": "replica-\(i)"]) { a, _ in a }))
        }
        self.replicas = replicas
        for replica in replicas { try #require(replica.waitUntilReady(), "a replica did not become ready") }
        proxy = try NginxProxy(upstreams: replicas.map(\.port))
        town = try AuthorityFixture.make(app)
        try town.openAllWeek(app)
    }

    func stop() {
        proxy.stop()
        for replica in replicas { replica.stop() }
        app.shutdown()
    }
}
