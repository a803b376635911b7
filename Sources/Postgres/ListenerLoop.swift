import Foundation
import Logging

/// The body of the listener thread: owns the listener's connection for its whole life.
struct ListenerLoop {
    let listener: PostgresListener
    let connectionString: String
    let logger: Logger

    private static let minimumBackoff = 0.1
    private static let maximumBackoff = 2.0

    func run() {
        var connection: PostgresConnection?
        var listening: Set<String> = []
        var hasConnectedBefore = false
        var backoff = Self.minimumBackoff
        defer { connection?.close() }

        while !isStopping {
            guard let current = connection, !current.isBroken else {
                if connection != nil {
                    logger.warning("postgres listener connection lost; reconnecting")
                    connection?.close()
                    connection = nil
                    setConnected(false)
                }
                do {
                    let fresh = try PostgresConnection.connect(
                        connectionString, connectTimeoutSeconds: 2,
                        applicationName: PostgresListener.applicationName, logger: logger
                    )
                    listening = []
                    try synchronise(fresh, listening: &listening)
                    connection = fresh
                    backoff = Self.minimumBackoff
                    setConnected(true)
                    if hasConnectedBefore {
                        logger.info("postgres listener reconnected")
                        broadcastReconnected()
                    }
                    hasConnectedBefore = true
                } catch {
                    logger.debug("postgres listener could not connect", metadata: ["error": "\(error)"])
                    sleepInterruptibly(seconds: backoff)
                    backoff = min(backoff * 2, Self.maximumBackoff)
                }
                continue
            }
            do {
                try synchronise(current, listening: &listening)
            } catch {
                current.close()  // reconnect and LISTEN afresh on the next turn
                continue
            }
            var descriptors = [
                pollfd(fd: current.socket, events: Int16(POLLIN), revents: 0),
                pollfd(fd: listener.wakeFD, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&descriptors, 2, 1000)
            if ready < 0 { continue }  // EINTR
            if descriptors[1].revents != 0 { listener.drainWake() }
            if descriptors[0].revents != 0 {
                if !current.consumePendingInput() {
                    current.close()
                    continue
                }
                while let notification = current.nextNotification() {
                    deliver(.notification(channel: notification.channel, payload: notification.payload),
                            to: notification.channel)
                }
            }
        }
    }

    private var isStopping: Bool {
        listener.state.withLock { $0.stopping }
    }

    /// Brings the set of LISTENed channels in line with the subscriptions.
    private func synchronise(_ connection: PostgresConnection, listening: inout Set<String>) throws {
        let (wanted, generation) = listener.state.withLock { state in
            (Set(state.subscriptions.values.map(\.channel)), state.requestedGeneration)
        }
        for channel in wanted.subtracting(listening) {
            try connection.simpleQuery("LISTEN \(quoteIdentifier(channel))")
            listening.insert(channel)
        }
        for channel in listening.subtracting(wanted) {
            try connection.simpleQuery("UNLISTEN \(quoteIdentifier(channel))")
            listening.remove(channel)
        }
        listener.state.withLock { state in
            state.appliedGeneration = max(state.appliedGeneration, generation)
        }
        listener.state.condition.broadcast()
    }

    private func setConnected(_ connected: Bool) {
        listener.state.withLock { $0.connected = connected }
        listener.state.condition.broadcast()
    }

    private func deliver(_ event: PostgresListener.Event, to channel: String?) {
        let handlers = listener.state.withLock { state in
            state.subscriptions.sorted { $0.key < $1.key }
                .filter { channel == nil || $0.value.channel == channel }
                .map(\.value.handler)
        }
        handlers.forEach { $0(event) }
    }

    private func broadcastReconnected() {
        deliver(.reconnected, to: nil)
    }

    /// Sleeps up to `seconds`, returning early when woken (e.g. by `shutdown()`).
    private func sleepInterruptibly(seconds: Double) {
        var descriptor = pollfd(fd: listener.wakeFD, events: Int16(POLLIN), revents: 0)
        if poll(&descriptor, 1, Int32(seconds * 1000)) > 0 { listener.drainWake() }
    }
}

/// Double-quotes an SQL identifier, doubling embedded quotes.
func quoteIdentifier(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
