import Foundation
import Logging

/// LISTEN/NOTIFY on a dedicated connection and a dedicated thread.
///
/// The thread waits with `poll()` on the connection's socket and a wake-up `eventfd`, reads with
/// `PQconsumeInput` and hands each notification to the channel's subscribers on that thread (keep handlers
/// short). After a lost connection it reconnects with capped backoff (100 ms … 2 s), LISTENs again on every
/// channel and sends `.reconnected` to every subscriber, because notifications may have been missed.
public final class PostgresListener: Sendable {
    /// What a subscriber receives.
    public enum Event: Sendable, Equatable {
        /// A `NOTIFY channel, 'payload'`.
        case notification(channel: String, payload: String)
        /// The connection was re-established; resynchronise, notifications may have been lost.
        case reconnected
    }

    /// `application_name` of the listener's connection, to find it in `pg_stat_activity`.
    public static let applicationName = "pickupbox-listener"

    private let connectionString: String
    private let logger: Logger
    let state = ListenerState()
    /// A non-blocking pipe: `shutdown()` and `subscribe` write a byte to wake the thread out of `poll()`.
    private let wakeReadDescriptor: Int32
    private let wakeWriteDescriptor: Int32

    /// Creates a listener; nothing happens until `start()`.
    public init(connectionString: String, logger: Logger) {
        self.connectionString = connectionString
        self.logger = logger
        var descriptors: [Int32] = [-1, -1]
        precondition(pipe(&descriptors) == 0, "pipe failed: errno \(errno)")
        for descriptor in descriptors {
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        }
        self.wakeReadDescriptor = descriptors[0]
        self.wakeWriteDescriptor = descriptors[1]
    }

    deinit {
        Glibc.close(wakeReadDescriptor)
        Glibc.close(wakeWriteDescriptor)
    }

    /// Subscribes `handler` to `channel` (validated as `[a-z_][a-z0-9_]{0,62}`; invalid names trap, they are
    /// programmer errors). LISTEN is issued for the first subscriber of a channel; when the listener is
    /// started, this waits until LISTEN is in effect (at most ~2 s, e.g. while the server is down), so a
    /// NOTIFY sent afterwards is delivered. Returns an id for `unsubscribe`.
    public func subscribe(channel: String, _ handler: @escaping @Sendable (Event) -> Void) -> UInt64 {
        precondition(Self.isValidChannel(channel), "invalid LISTEN channel name")
        let (id, generation) = state.withLock { state in
            state.nextID += 1
            state.subscriptions[state.nextID] = ListenerState.Subscription(channel: channel, handler: handler)
            state.requestedGeneration += 1
            return (state.nextID, state.requestedGeneration)
        }
        wake()
        waitUntilApplied(generation)
        return id
    }

    /// Removes a subscription; UNLISTENs the channel when it was the last one.
    public func unsubscribe(_ id: UInt64) {
        let generation = state.withLock { state in
            state.subscriptions[id] = nil
            state.requestedGeneration += 1
            return state.requestedGeneration
        }
        wake()
        waitUntilApplied(generation)
    }

    /// Starts the listener thread. Calling it twice does nothing.
    public func start() {
        let shouldStart = state.withLock { state in
            guard !state.started else { return false }
            state.started = true
            return true
        }
        guard shouldStart else { return }
        let thread = Thread { [self] in
            ListenerLoop(listener: self, connectionString: connectionString, logger: logger).run()
            state.withLock { $0.finished = true }
            state.condition.broadcast()
        }
        thread.name = "postgres-listener"
        thread.start()
    }

    /// Stops the thread and closes the connection; returns within about a second.
    public func shutdown() {
        let running = state.withLock { state in
            state.stopping = true
            return state.started && !state.finished
        }
        wake()
        guard running else { return }
        let deadline = Date(timeIntervalSinceNow: 3)
        state.condition.lock()
        while !state.finished, state.condition.wait(until: deadline) {}
        state.condition.unlock()
    }

    static func isValidChannel(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= 63 else { return false }
        let isLower = { (byte: UInt8) in byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") }
        let isDigit = { (byte: UInt8) in byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        guard isLower(first) || first == UInt8(ascii: "_") else { return false }
        return bytes.allSatisfy { isLower($0) || isDigit($0) || $0 == UInt8(ascii: "_") }
    }

    /// Wakes the thread out of `poll()`.
    func wake() {
        var byte: UInt8 = 1
        _ = Glibc.write(wakeWriteDescriptor, &byte, 1)  // a full pipe already means "wake up"
    }

    /// Empties the wake-up pipe.
    func drainWake() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while Glibc.read(wakeReadDescriptor, &buffer, buffer.count) > 0 {}
    }

    var wakeFD: Int32 { wakeReadDescriptor }

    private func waitUntilApplied(_ generation: UInt64) {
        if Thread.current.name == "postgres-listener" { return }  // called from a handler: cannot wait
        let deadline = Date(timeIntervalSinceNow: 2)
        state.condition.lock()
        defer { state.condition.unlock() }
        while state.started, !state.stopping, !state.connected || state.appliedGeneration < generation {
            if !state.condition.wait(until: deadline) { return }
        }
    }
}

/// The listener's shared state, guarded by `condition`.
///
/// `@unchecked Sendable`: the variables are only touched while `condition` is locked.
final class ListenerState: @unchecked Sendable {
    struct Subscription {
        let channel: String
        let handler: @Sendable (PostgresListener.Event) -> Void
    }

    let condition = NSCondition()
    var subscriptions: [UInt64: Subscription] = [:]
    var nextID: UInt64 = 0
    var requestedGeneration: UInt64 = 0
    var appliedGeneration: UInt64 = 0
    var connected = false
    var started = false
    var stopping = false
    var finished = false

    func withLock<T>(_ body: (ListenerState) throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body(self)
    }
}
