import Foundation
import HTTPServer
import Logging
import Synchronization

/// Parked long polls of box controllers. A parked poll holds no worker thread and no database
/// connection: only this entry. A NOTIFY for its box (from any server process) or its deadline
/// hands it to a small pool of threads that answer it.
final class LongPollRegistry: Sendable {
    struct Waiter: Sendable {
        let id: UInt64
        let box: String
        let deadline: Date
        /// Runs again when the box changed (re-reads the feed, answers or parks again).
        let wake: @Sendable () -> Void
        /// Answers with "nothing new" at the deadline or at shutdown.
        let expire: @Sendable () -> Void
    }

    private struct State {
        var waiters: [UInt64: Waiter] = [:]
        var byBox: [String: Set<UInt64>] = [:]
        /// Bumped by every notification for a box: a poll that read the feed before a bump re-reads it.
        var generations: [String: UInt64] = [:]
        var nextID: UInt64 = 1
        var stopped = false
        /// Timing wheel: waiter ids by their deadline's 100 ms slot (stale ids are skipped).
        var slots: [Int64: [UInt64]] = [:]
    }

    static func slot(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 10).rounded(.up)) }

    private let state = Mutex(State())
    private let condition = NSCondition()
    private let runners: WorkerPool
    private let logger: Logger

    init(logger: Logger, threads: Int = 2) {
        self.logger = logger
        self.runners = WorkerPool(threads: threads, maxQueue: 100_000, name: "pickupbox-longpoll")
        let thread = Thread { [self] in self.expireLoop() }
        thread.name = "pickupbox-longpoll-timer"
        thread.start()
    }

    /// Waiting polls now.
    var count: Int { state.withLock { $0.waiters.count } }

    func generation(_ box: String) -> UInt64 { state.withLock { $0.generations[box, default: 0] } }

    /// Parks a poll that read the feed at `seenGeneration`; if the box changed since, it runs again at once.
    /// Returns an id for `remove` (client gone).
    @discardableResult
    func park(box: String, seenGeneration: UInt64, deadline: Date, wake: @escaping @Sendable () -> Void, expire: @escaping @Sendable () -> Void) -> UInt64? {
        let (id, changed, stopped) = state.withLock { s -> (UInt64, Bool, Bool) in
            if s.stopped { return (0, false, true) }
            let id = s.nextID
            s.nextID += 1
            if s.generations[box, default: 0] != seenGeneration { return (id, true, false) }
            s.waiters[id] = Waiter(id: id, box: box, deadline: deadline, wake: wake, expire: expire)
            s.byBox[box, default: []].insert(id)
            s.slots[Self.slot(deadline), default: []].append(id)
            return (id, false, false)
        }
        if stopped { expire(); return nil }
        if changed { schedule(wake); return nil }
        return id
    }

    func remove(_ id: UInt64) {
        state.withLock { s in
            guard let w = s.waiters.removeValue(forKey: id) else { return }
            s.byBox[w.box]?.remove(id)
            if s.byBox[w.box]?.isEmpty == true { s.byBox[w.box] = nil }
        }
    }

    /// A change for `box` was committed (NOTIFY): every poll of that box reads the feed again.
    func notify(box: String) {
        let woken = state.withLock { s -> [Waiter] in
            s.generations[box, default: 0] &+= 1
            guard let ids = s.byBox.removeValue(forKey: box) else { return [] }
            return ids.compactMap { s.waiters.removeValue(forKey: $0) }
        }
        for w in woken { schedule(w.wake) }
    }

    /// After the listener reconnected, notifications may have been missed: everybody reads again.
    func notifyAll() {
        let woken = state.withLock { s -> [Waiter] in
            for box in s.byBox.keys { s.generations[box, default: 0] &+= 1 }
            s.byBox = [:]
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for w in woken { schedule(w.wake) }
    }

    /// Answers every parked poll with "nothing new" and refuses new ones (graceful shutdown).
    func shutdown() {
        let all = state.withLock { s -> [Waiter] in
            s.stopped = true
            s.byBox = [:]
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for w in all { w.expire() }
        condition.lock()
        condition.signal()
        condition.unlock()
        runners.shutdown(deadline: Date(timeIntervalSinceNow: 5))
    }

    private func schedule(_ job: @escaping @Sendable () -> Void) {
        if !runners.trySubmit(job) {
            logger.warning("long-poll runner queue full; answering inline")
            job()
        }
    }

    /// Every 100 ms: expires the polls whose deadline slot has passed. Work is proportional to the
    /// polls that are due, not to all that wait (10,000 boxes poll at once).
    private func expireLoop() {
        var lastSlot = Self.slot(Date()) - 1
        while true {
            let now = Self.slot(Date())
            let (due, stopped) = state.withLock { s -> ([Waiter], Bool) in
                var due: [Waiter] = []
                if now > lastSlot {
                    let slots = s.slots.keys.filter { $0 <= now }
                    for slot in slots {
                        for id in s.slots.removeValue(forKey: slot) ?? [] {
                            guard let w = s.waiters.removeValue(forKey: id) else { continue }
                            s.byBox[w.box]?.remove(id)
                            if s.byBox[w.box]?.isEmpty == true { s.byBox[w.box] = nil }
                            due.append(w)
                        }
                    }
                }
                return (due, s.stopped)
            }
            lastSlot = now
            for w in due { schedule(w.expire) }
            if stopped { return }
            condition.lock()
            _ = condition.wait(until: Date(timeIntervalSinceNow: 0.1))
            condition.unlock()
        }
    }
}
