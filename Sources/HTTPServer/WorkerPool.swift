import Foundation

/// Threads that run handlers which may block (libpq). Neither an event loop nor Swift's cooperative
/// pool ever waits on the database. The queue is bounded: a full queue sheds load (503) instead of
/// letting latency grow without limit.
public final class WorkerPool: Sendable {
    public typealias Job = @Sendable () -> Void

    // NSCondition guards `state`; it is only read or written while the lock is held.
    private let condition = NSCondition()
    private nonisolated(unsafe) var state = State()
    private let maxQueue: Int
    private let threadCount: Int

    private struct State {
        var jobs: [Job] = []
        var head = 0
        var running = true
        var busy = 0
        var threadsAlive = 0
        var submitted = 0
    }

    public init(threads: Int, maxQueue: Int, name: String = "pickupbox-worker") {
        precondition(threads > 0, "worker pool needs at least one thread")
        self.maxQueue = maxQueue
        self.threadCount = threads
        condition.lock()
        state.threadsAlive = threads
        condition.unlock()
        for i in 0..<threads {
            let thread = Thread { [self] in self.run() }
            thread.name = "\(name)-\(i)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Queues a job; false when the queue is full or the pool is stopping.
    public func trySubmit(_ job: @escaping Job) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard state.running, state.jobs.count - state.head < maxQueue else { return false }
        state.jobs.append(job)
        state.submitted += 1
        condition.signal()
        return true
    }

    /// Jobs waiting for a thread.
    public var queued: Int {
        condition.lock()
        defer { condition.unlock() }
        return state.jobs.count - state.head
    }

    /// Jobs accepted since the pool started.
    public var submitted: Int {
        condition.lock()
        defer { condition.unlock() }
        return state.submitted
    }

    /// Threads running a job now.
    public var busy: Int {
        condition.lock()
        defer { condition.unlock() }
        return state.busy
    }

    /// Lets queued jobs finish, then stops the threads; returns when they are gone or the deadline passed.
    public func shutdown(deadline: Date = .distantFuture) {
        condition.lock()
        state.running = false
        condition.broadcast()
        while state.threadsAlive > 0 {
            if !condition.wait(until: deadline) { break }
        }
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while state.running && state.head == state.jobs.count {
                condition.wait()
            }
            if state.head == state.jobs.count {
                // Stopping and nothing left.
                state.threadsAlive -= 1
                condition.broadcast()
                condition.unlock()
                return
            }
            let job = state.jobs[state.head]
            state.head += 1
            if state.head > 1024 && state.head * 2 > state.jobs.count {
                state.jobs.removeSubrange(0..<state.head)
                state.head = 0
            } else if state.head == state.jobs.count {
                state.jobs.removeAll(keepingCapacity: true)
                state.head = 0
            }
            state.busy += 1
            condition.unlock()
            job()
            condition.lock()
            state.busy -= 1
            condition.unlock()
        }
    }
}
