#if canImport(Glibc)
import Glibc
#endif
import CSystem
import Synchronization

/// The loop's side of `ConnectionStateMachine`: epoll events become machine events, and the machine's
/// actions become system calls, router look-ups and handler calls whose results go back in as events.
extension EventLoop {
    typealias Event = ConnectionStateMachine.Event
    typealias Action = ConnectionStateMachine.Action

    /// An epoll event on a connection's socket.
    func handle(_ connection: Connection, flags: UInt32, now: UInt64) {
        if flags & CSYSTEM_EPOLLERR != 0 {
            drive(connection, .socketFailed, now: now)
            return
        }
        let readable = flags & (CSYSTEM_EPOLLIN | CSYSTEM_EPOLLRDHUP | CSYSTEM_EPOLLHUP) != 0
        // A TLS write can wait for the socket either way; plain writes wait for EPOLLOUT only.
        let writable = flags & CSYSTEM_EPOLLOUT != 0 || connection.tls != nil
        drive(connection, .socketReady(readable: readable, writable: writable, now: now), now: now)
    }

    /// Feeds `event` to the connection's machine and performs what it answers, until it waits or closes.
    func drive(_ connection: Connection, _ event: Event?, now: UInt64) {
        var next = event
        while let event = next, !connection.isClosed {
            next = perform(connection.machine.receive(event), on: connection, now: now)
        }
        if tasksDue {
            tasksDue = false
            runTasks(now: now)
        }
    }

    /// Performs one action; returns its result as the machine's next event, or nil when there is none.
    private func perform(_ action: Action, on connection: Connection, now: UInt64) -> Event? {
        switch action {
        case .wait:
            return nil
        case .close:
            close(connection)
            return nil
        case .handshake:
            return handshakeStep(connection, now: now)
        case .read:
            return receive(connection, now: now)
        case .discard:
            return discard(connection, now: now)
        case .write:
            return transmit(connection, now: now)
        case .linger:
            connection.current = nil
            _ = Glibc.shutdown(connection.fd, Int32(SHUT_WR))
            return discard(connection, now: now)
        case .route(let head):
            return route(connection, head: head, now: now)
        case .decideAccess:
            return decideAccess(connection, now: now)
        case .dispatch(let body):
            return dispatch(connection, body: body, now: now)
        case .admitAndDispatch(let body):
            return admitAndDispatch(connection, body: body, now: now)
        case .answerError(let error):
            return answerProtocolError(connection, error, now: now)
        }
    }

    /// Closes the socket and cancels a handler still waiting to answer.
    func close(_ connection: Connection) {
        guard !connection.isClosed else { return }
        connection.isClosed = true
        connections[connection.fd] = nil
        connection.tls?.shutdown()
        closeDescriptor(connection.fd)
        core.openConnections.wrappingSubtract(1, ordering: .relaxed)
        if let key = connection.addressKey { core.addressConnections?.release(key) }
        connection.current?.responder?.cancel()
        connection.current = nil
    }

    /// The periodic time-out check, and resuming a paused accept.
    func sweep(now: UInt64) {
        if acceptPausedUntil != 0 && now >= acceptPausedUntil { resumeAccepting(now: now) }
        for connection in Array(connections.values) {
            drive(connection, .timerFired(now: now), now: now)
        }
    }
}
