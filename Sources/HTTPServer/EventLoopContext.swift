#if canImport(Glibc)
import Glibc
#endif
import CSystem

/// Something an event loop watches besides its connections: a descriptor of the application's own
/// (a database connection in pipeline mode). Every call comes on the loop's thread.
public protocol LoopWatcher: AnyObject {
    /// The descriptor is readable, writable or failed (level-triggered: called again while it stays so).
    func descriptorReady(readable: Bool, writable: Bool, failed: Bool)
    /// After each round of events: write what the round queued, in one go.
    func roundEnded()
    /// Now and then (the loop's sweep interval, about a second): time-outs.
    func sweep(now: UInt64)
    /// The loop is stopping: close the descriptor.
    func loopStopped()
}

/// What a handler that runs on an event loop (`Execution.eventLoop`) can use of that loop: watching a
/// descriptor, keeping per-loop objects, handing blocking work to the worker pool, and coming back to
/// the loop from another thread. Valid on the loop's thread only: `current` is nil anywhere else.
public final class EventLoopContext {
    unowned let loop: EventLoop
    private var watchers: [Int32: any LoopWatcher] = [:]
    private var attachments: [ObjectIdentifier: AnyObject] = [:]

    init(loop: EventLoop) {
        self.loop = loop
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "no thread-specific key left")
        return key
    }()

    /// The loop whose thread this is, or nil on any other thread.
    public static var current: EventLoopContext? {
        guard let pointer = pthread_getspecific(key) else { return nil }
        return Unmanaged<EventLoopContext>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// Marks the calling thread as this loop's (the loop keeps the context alive while it runs).
    func enter() {
        pthread_setspecific(Self.key, Unmanaged.passUnretained(self).toOpaque())
    }

    func leave() {
        for watcher in Array(watchers.values) { watcher.loopStopped() }
        watchers = [:]
        attachments = [:]
        pthread_setspecific(Self.key, nil)
    }

    /// The loop's index among the server's loops (0-based).
    public var index: Int { loop.index }

    /// The loop's monotonic clock, in nanoseconds.
    public var now: UInt64 { MonotonicClock.now() }

    /// This loop's object for `type`, made by `make` on first use and kept until the loop stops.
    public func attachment<T: AnyObject>(_ type: T.Type, make: () -> T) -> T {
        if let existing = attachments[ObjectIdentifier(type)] as? T { return existing }
        let made = make()
        attachments[ObjectIdentifier(type)] = made
        return made
    }

    /// This loop's object for `type`, if one was made.
    public func attachment<T: AnyObject>(_ type: T.Type) -> T? {
        attachments[ObjectIdentifier(type)] as? T
    }

    /// Watches `fd` for reading (and for writing when `writable`), level-triggered.
    public func watch(_ fd: Int32, writable: Bool, _ watcher: any LoopWatcher) throws {
        try epollControl(loop.epfd, CSYSTEM_EPOLL_CTL_ADD, fd, events: Self.events(writable: writable))
        watchers[fd] = watcher
    }

    /// Changes whether `fd` is watched for writing.
    public func update(_ fd: Int32, writable: Bool) throws {
        try epollControl(loop.epfd, CSYSTEM_EPOLL_CTL_MOD, fd, events: Self.events(writable: writable))
    }

    /// Stops watching `fd`; call it before closing the descriptor.
    public func unwatch(_ fd: Int32) {
        guard watchers.removeValue(forKey: fd) != nil else { return }
        try? epollControl(loop.epfd, CSYSTEM_EPOLL_CTL_DEL, fd, events: 0)
    }

    /// Queues `job` on the worker pool (it may block); false when the queue is full.
    public func offload(_ job: @escaping @Sendable () -> Void) -> Bool {
        loop.core.workers.trySubmit(job)
    }

    /// The loop of `context`, as something another thread may hold to come back to it.
    public var handle: EventLoopHandle { EventLoopHandle(loop: loop) }

    private static func events(writable: Bool) -> UInt32 {
        writable ? CSYSTEM_EPOLLIN | CSYSTEM_EPOLLOUT : CSYSTEM_EPOLLIN
    }

    func watcher(for fd: Int32) -> (any LoopWatcher)? {
        watchers.isEmpty ? nil : watchers[fd]
    }

    func roundEnded() {
        for watcher in watchers.values { watcher.roundEnded() }
    }

    func sweep(now: UInt64) {
        for watcher in Array(watchers.values) { watcher.sweep(now: now) }
    }
}

/// A way back to an event loop from another thread.
public struct EventLoopHandle: Sendable {
    let loop: EventLoop

    /// Runs `job` on the loop's thread, with its context, soon. Dropped if the loop has stopped.
    public func perform(_ job: @escaping @Sendable (EventLoopContext) -> Void) {
        loop.submit(.perform(job))
    }
}
