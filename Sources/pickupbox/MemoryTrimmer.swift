import CSystem
import Foundation
import HTTPServer
import Logging
import Synchronization

/// Gives the memory that large request bodies left in malloc's arenas back to the kernel
/// (`malloc_trim`), once the server is quiet again: trimming locks the arenas for up to a few tens of
/// milliseconds, which must not fall on requests being served. Together with `csystem_tune_malloc`
/// (see BENCHMARKS.md, "Memory after large bodies").
final class MemoryTrimmer: Sendable {
    private let server: HTTPServer
    private let logger: Logger
    private let stopped = Atomic<Bool>(false)
    private let interval: Duration

    init(server: HTTPServer, logger: Logger, interval: Duration = .seconds(5)) {
        self.server = server
        self.logger = logger
        self.interval = interval
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "pickupbox-memory-trim"
        thread.start()
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
    }

    private func run() {
        var trimmedAt = server.largeBodiesReceived
        while !stopped.load(ordering: .relaxed) {
            Thread.sleep(forTimeInterval: Double(interval.components.seconds))
            let received = server.largeBodiesReceived
            guard received != trimmedAt, server.busyWorkers == 0, server.queuedRequests == 0 else { continue }
            let started = ContinuousClock.now
            csystem_trim_malloc()
            trimmedAt = received
            let took = ContinuousClock.now - started
            logger.debug("returned free memory to the kernel", metadata: ["duration_ms": "\(took.components.seconds * 1000 + took.components.attoseconds / 1_000_000_000_000_000)"])
        }
    }
}
