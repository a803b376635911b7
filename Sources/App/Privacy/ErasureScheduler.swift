import Foundation
import Logging
import Synchronization

/// Runs the ``ErasurePass`` in every server process: each checks once a minute (or at its interval, if
/// shorter) whether the last finished pass is older than `ERASURE_INTERVAL_SECONDS`; the advisory lock
/// lets one process at a time run it. A process that starts after a restart goes on where a pass stopped.
final class ErasureScheduler: Sendable {
    private let pass: ErasurePass
    private let logger: Logger
    private let interval: TimeInterval
    private let stop = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)
    private let stopping: Flag

    /// Shared with the pass, which asks it before every batch.
    private final class Flag: Sendable {
        let raised = Mutex(false)
    }

    init(pass: ErasurePass, interval: TimeInterval, logger: Logger) {
        var pass = pass
        let stopping = Flag()
        pass.stopRequested = { stopping.raised.withLock { $0 } }
        self.stopping = stopping
        self.pass = pass
        self.interval = interval
        self.logger = logger
    }

    func start() {
        let thread = Thread { [self] in
            while stop.wait(timeout: .now() + min(interval, 60)) == .timedOut {
                do {
                    _ = try pass.run(minimumInterval: interval)
                } catch is ErasurePass.Stopped {
                    break
                } catch {
                    logger.warning("erasure pass failed; the next one goes on", metadata: ["error": "\(error)"])
                }
            }
            stopped.signal()
        }
        thread.name = "pickupbox-erasure"
        thread.start()
    }

    /// Waits for a pass in progress to finish its batch (each is short).
    func shutdown() {
        stopping.raised.withLock { $0 = true }
        stop.signal()
        _ = stopped.wait(timeout: .now() + 10)
    }
}
