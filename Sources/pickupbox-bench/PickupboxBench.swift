import ArgumentParser
import Foundation
import HTTPServer
import HTTPTestSupport
import Logging

/// Load tools of `make bench` that are better written against our own HTTP server than in Python.
@main
struct PickupboxBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pickupbox-bench",
        abstract: "Benchmark helpers for make bench (loopback only).",
        subcommands: [SMSGatewayCommand.self, AccessLogCommand.self, JSONCommand.self]
    )
}

/// A webhook-shaped SMS gateway on 127.0.0.1 that accepts everything and counts per reference, so the
/// benchmark can check "each exactly once". `GET /stats` on the stats port answers the counts as JSON.
struct SMSGatewayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sms-gateway", abstract: "A loopback SMS gateway that counts what it receives.")

    @Option(help: "Port of the gateway (POST /sms).") var port: Int = 18090
    @Option(help: "Port of the statistics endpoint (GET /stats).") var statsPort: Int = 18091
    @Option(help: "Bearer token the gateway expects.") var token: String = "bench-token"
    @Option(help: "Stop by itself after this many seconds.") var seconds: Int = 600

    func run() throws {
        let gateway = try RecordingGateway(token: token, workerThreads: 8, port: port)
        var configuration = ServerConfiguration()
        configuration.port = statsPort
        configuration.eventLoops = 1
        configuration.workerThreads = 1
        configuration.accessLog = false
        var logger = Logger(label: "bench-stats")
        logger.logLevel = .critical
        let stats = HTTPServer(configuration: configuration, router: Router([
            Route(.GET, "/stats") { _ in
                let counts = gateway.acceptedCounts
                let attempts = gateway.attempts.values.reduce(0, +)
                let duplicates = counts.values.filter { $0 > 1 }.count
                let body = #"{"accepted":\#(counts.values.reduce(0, +)),"distinct":\#(counts.count),"duplicates":\#(duplicates),"requests":\#(attempts),"unauthorized":\#(gateway.unauthorizedRequests)}"#
                return .json(bytes: Array(body.utf8))
            },
        ]), logger: logger)
        try stats.start()
        print("sms-gateway listening on 127.0.0.1:\(gateway.port) (stats on \(stats.port))")
        FileHandle.standardOutput.synchronizeFile()
        Thread.sleep(forTimeInterval: TimeInterval(seconds))
        stats.shutdown()
        gateway.shutdown()
    }
}
