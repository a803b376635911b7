#if canImport(Glibc)
import Glibc
#endif
import CSystem
import Logging
import Synchronization

/// One epoll loop on its own thread: accepts on its own SO_REUSEPORT listener, reads, dispatches to the
/// worker pool, writes, and enforces time-outs. What each connection does next is decided by its
/// `ConnectionStateMachine`; the loop performs the actions (`EventLoop+Driver.swift`).
///
/// `@unchecked Sendable`: all stored state except `tasks`, `wakeArmed` and the eventfd is touched only
/// on the loop's thread; those three are the thread-safe way in (`submit`).
final class EventLoop: @unchecked Sendable {
    enum Task {
        case complete(ConnectionRef, UInt64, Response)
        /// The route's admission, run with its handler, refused: answered as a refusal.
        case refused(ConnectionRef, UInt64, Response)
        /// The route's admission decided on a head (see `Admission`).
        case admitted(ConnectionRef, UInt64, AdmissionOutcome)
        case shutdown(deadline: UInt64)
        /// Work another thread hands back to the loop (`EventLoopHandle.perform`).
        case perform(@Sendable (EventLoopContext) -> Void)
    }

    /// Tasks handed in, and whether the loop has stopped taking them.
    struct TaskQueue: ~Copyable {
        var items: [Task] = []
        var stopped = false
    }

    enum AdmissionOutcome {
        case admitted((any Sendable)?)
        case refused(Response)
    }

    /// A trusted reverse proxy (`isExemptFromAddressLimit`) buffers the client's whole body and then sends
    /// it on, up to its own limit (nginx: 2 MB): it is drained in full, or closing on it resets the
    /// connection mid-body and the proxy answers 502 instead of our 413.
    static let proxyLingerBytes = 16 * 1024 * 1024

    let core: ServerCore
    let index: Int
    /// TLS on this listener, or nil for plain HTTP.
    let tls: TLSContext?
    let epfd: Int32
    /// Written by other threads to wake the loop (`submit`).
    let wake: WakeDescriptor
    private var wakefd: Int32 { wake.fd }
    var listener: ListeningSocket?
    private let tasks = Mutex(TaskQueue())
    private let wakeArmed = Atomic<Bool>(false)
    var connections: [Int32: Connection] = [:]
    var writer: ResponseWriter
    var accessLine = AccessLogLine()
    /// This loop's own buffer in the log sink (made on first use).
    var accessLane: LogSink.Lane?
    var draining = false
    private var drainDeadline: UInt64 = 0
    var acceptPausedUntil: UInt64 = 0
    private var lastSweep: UInt64 = 0
    var requestCounter: UInt64 = 0
    let requestPrefix: String
    /// Limits and time-outs for each new connection.
    let connectionConfiguration: ConnectionStateMachine.Configuration
    /// A handler ran on the loop and may have answered already: run the tasks once the connection's
    /// current step is done (not in the middle of it).
    var tasksDue = false
    let scratchSize = 64 * 1024
    let scratch: UnsafeMutableRawPointer
    let finished = Mutex<Bool>(false)
    /// What handlers on this loop's thread may use of it (`EventLoopContext.current`).
    private(set) lazy var context = EventLoopContext(loop: self)

    init(core: ServerCore, index: Int, listener: ListeningSocket, tls: TLSContext? = nil) throws {
        self.core = core
        self.index = index
        self.tls = tls
        writer = ResponseWriter(strictTransportSecurity: core.configuration.strictTransportSecurity)
        connectionConfiguration = core.connectionConfiguration
        self.listener = listener
        guard let ep = try syscall("epoll_create1", blocking: true, { csystem_epoll_create() }) else { throw SystemError(call: "epoll_create1", errno: EAGAIN) }
        epfd = ep
        guard let wfd = try syscall("eventfd", blocking: true, { csystem_eventfd() }) else { throw SystemError(call: "eventfd", errno: EAGAIN) }
        wake = WakeDescriptor(wfd)
        scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchSize, alignment: 16)
        requestPrefix = String(UInt32.random(in: 0x1000_0000...UInt32.max), radix: 16) + "\(index)"
        do {
            try epollControl(epfd, CSYSTEM_EPOLL_CTL_ADD, listener.fd, events: CSYSTEM_EPOLLIN)
            try epollControl(epfd, CSYSTEM_EPOLL_CTL_ADD, wakefd, events: CSYSTEM_EPOLLIN)
        } catch {
            // A loop that cannot watch its listener would never accept: the server does not start (the
            // eventfd closes with `wake`).
            closeDescriptor(epfd)
            throw error
        }
    }

    deinit {
        scratch.deallocate()
    }

    /// Hands work to the loop from any thread. From the loop's own thread (a handler or a watcher on it
    /// answering) the task runs once the current step or round is done, without a wake-up.
    /// Once the loop has stopped, a task is dropped (what it holds is released) and the eventfd is not
    /// written; the stop is seen under the queue's lock, which the loop's exit takes.
    func submit(_ task: Task) {
        if EventLoopContext.current?.loop === self {
            tasks.withLock { $0.items.append(task) }
            tasksDue = true
            return
        }
        let mustWake = tasks.withLock { queue -> Bool in
            guard !queue.stopped else { return false }
            queue.items.append(task)
            return !wakeArmed.exchange(true, ordering: .acquiringAndReleasing)
        }
        // Outside the lock, which the loop takes for each batch (holding it across the system call made
        // both sides wait on it: 3 % of the pickup path's server CPU in futex slow paths). The eventfd
        // lives as long as this loop object, so even a loop that stopped meanwhile is written to safely.
        if mustWake { wake.signal() }
    }

    // MARK: - The loop

    func run() {
        let maxEvents: Int32 = 1024
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: Int(maxEvents))
        defer { events.deallocate() }
        let sweepMs = core.configuration.sweepIntervalMilliseconds
        lastSweep = MonotonicClock.now()
        context.enter()
        while true {
            let n = csystem_epoll_wait(epfd, events, maxEvents, sweepMs)
            if n < 0 && csystem_errno() != EINTR {
                core.logger.critical("epoll_wait failed", metadata: ["errno": "\(csystem_errno())"])
                break
            }
            var now = MonotonicClock.now()
            for i in 0..<Int(max(n, 0)) {
                let ev = events.advanced(by: i)
                let fd = Int32(truncatingIfNeeded: csystem_epoll_event_data(ev))
                let flags = csystem_epoll_event_events(ev)
                if let l = listener, fd == l.fd {
                    acceptConnections(now: now)
                } else if fd == wakefd {
                    var value: UInt64 = 0
                    _ = read(wakefd, &value, 8)
                    runTasks(now: now)
                } else if let connection = connections[fd] {
                    handle(connection, flags: flags, now: now)
                } else if let watcher = context.watcher(for: fd) {
                    watcher.descriptorReady(readable: flags & (CSYSTEM_EPOLLIN | CSYSTEM_EPOLLHUP) != 0, writable: flags & CSYSTEM_EPOLLOUT != 0,
                                            failed: flags & CSYSTEM_EPOLLERR != 0)
                }
            }
            now = MonotonicClock.now()
            if now &- lastSweep >= UInt64(sweepMs) * 1_000_000 {
                sweep(now: now)
                context.sweep(now: now)
                lastSweep = now
            }
            // Watchers write what the round queued; tasks the round left (answers given on this thread)
            // run, and may queue more: until neither is left, so nothing waits for the next epoll_wait.
            context.roundEnded()
            while tasksDue {
                tasksDue = false
                runTasks(now: now)
                context.roundEnded()
            }
            if draining && (connections.isEmpty || now >= drainDeadline) {
                break
            }
        }
        for connection in Array(connections.values) { close(connection) }
        context.leave()
        if tasksDue { tasksDue = false; runTasks(now: MonotonicClock.now()) }
        if let l = listener { closeDescriptor(l.fd); listener = nil }
        let left = tasks.withLock { queue -> [Task] in
            queue.stopped = true
            defer { queue.items = [] }
            return queue.items
        }
        _ = left  // released here, outside the lock (a connected pipeline in a `.perform` closes itself)
        closeDescriptor(epfd)
        finished.withLock { $0 = true }
    }

    func runTasks(now: UInt64) {
        wakeArmed.store(false, ordering: .releasing)
        let batch = tasks.withLock { queue -> [Task] in
            let b = queue.items
            queue.items.removeAll(keepingCapacity: true)
            return b
        }
        for task in batch {
            switch task {
            case .complete(let ref, let sequence, let response):
                let connection = ref.connection
                guard !connection.isClosed, connection.machine.sequence == sequence, connection.current != nil else { continue }
                drive(connection, answer(connection, response, .answer, now: now), now: now)
            case .refused(let ref, let sequence, let response):
                let connection = ref.connection
                guard !connection.isClosed, connection.machine.sequence == sequence, connection.current != nil else { continue }
                drive(connection, answer(connection, response, .refusal, now: now), now: now)
            case .admitted(let ref, let sequence, let outcome):
                let connection = ref.connection
                guard !connection.isClosed, connection.machine.sequence == sequence, connection.machine.phase == .admitting,
                      var current = connection.current else { continue }
                switch outcome {
                case .admitted(let value):
                    current.admitted = value
                    connection.current = current
                    drive(connection, .accessGranted(now: now), now: now)
                case .refused(let response):
                    drive(connection, answer(connection, response, .refusal, now: now), now: now)
                }
            case .shutdown(let deadline):
                beginDrain(deadline: deadline)
            case .perform(let job):
                job(context)
            }
        }
    }

    private func beginDrain(deadline: UInt64) {
        draining = true
        drainDeadline = deadline
        if let l = listener {
            // Closing removes it from the epoll set as well; the explicit DEL only makes the order certain.
            try? epollControl(epfd, CSYSTEM_EPOLL_CTL_DEL, l.fd, events: 0)
            closeDescriptor(l.fd)
            listener = nil
        }
        let now = MonotonicClock.now()
        for connection in Array(connections.values) {
            drive(connection, .serverDraining, now: now)
        }
    }
}

/// A loop's eventfd, closed when the loop object goes: `submit` writes to it outside the task queue's
/// lock, so it must stay open (and its number unused by anything else) while any thread may still be
/// in `submit`, which holds the loop.
final class WakeDescriptor: Sendable {
    let fd: Int32

    init(_ fd: Int32) { self.fd = fd }

    deinit { closeDescriptor(fd) }

    func signal() {
        var one: UInt64 = 1
        _ = write(fd, &one, 8)
    }
}
