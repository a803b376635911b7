import HTTPServer
import Logging

/// A live server on an ephemeral loopback port.
enum TestServer {
    static func make(routes: [Route], configure: (inout ServerConfiguration) -> Void = { _ in },
                     errorMapper: (@Sendable (any Error, Request) -> Response?)? = nil) throws -> HTTPServer {
        var config = ServerConfiguration()
        config.port = 0
        config.eventLoops = 2
        config.workerThreads = 4
        config.accessLog = false
        configure(&config)
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let server = HTTPServer(configuration: config, router: Router(routes), logger: logger, errorMapper: errorMapper)
        try server.start()
        return server
    }
}
