#if canImport(Glibc)
import Glibc
#endif
import CSystem
import Logging
import Synchronization

/// Accepting connections: the global and per-address caps, TLS sessions, and watching the socket.
extension EventLoop {
    func acceptConnections(now: UInt64) {
        guard let l = listener else { return }
        for _ in 0..<256 {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = csystem_accept4_addr(l.fd, &storage, &length, CSYSTEM_SOCK_NONBLOCK | CSYSTEM_SOCK_CLOEXEC)
            if fd < 0 {
                let err = csystem_errno()
                if err == EINTR || err == ECONNABORTED { continue }
                if err == EMFILE || err == ENFILE { pauseAccepting(l, errno: err, now: now) }
                return
            }
            let open = core.openConnections.wrappingAdd(1, ordering: .relaxed).newValue
            if open > core.configuration.maxConnections {
                core.openConnections.wrappingSubtract(1, ordering: .relaxed)
                core.rejectedConnections.wrappingAdd(1, ordering: .relaxed)
                // A TLS client could not read a plain answer: it is only closed.
                if tls == nil { ServerCore.overloaded.withUnsafeBytes { _ = send(fd, $0.baseAddress, $0.count, CSYSTEM_MSG_NOSIGNAL) } }
                closeDescriptor(fd)
                continue
            }
            takeConnection(fd, &storage, now: now)
        }
    }

    /// Takes a connection within the global cap: the per-address cap, TLS, and epoll.
    private func takeConnection(_ fd: Int32, _ storage: inout sockaddr_storage, now: UInt64) {
        let remoteAddress = formatAddress(&storage)
        var addressKey: String?
        let trustedProxy = core.configuration.isExemptFromAddressLimit?(remoteAddress) == true
        if let perAddress = core.addressConnections, !trustedProxy {
            let key = AddressConnections.key(&storage, formatted: remoteAddress)
            guard perAddress.admit(key) else {
                refuseOverAddressLimit(fd)
                return
            }
            addressKey = key
        }
        var session: TLSSession?
        if let tls {
            session = TLSSession(context: tls, fd: fd)
            guard session != nil else {
                core.openConnections.wrappingSubtract(1, ordering: .relaxed)
                if let addressKey { core.addressConnections?.release(addressKey) }
                closeDescriptor(fd)
                return
            }
        }
        core.acceptedConnections.wrappingAdd(1, ordering: .relaxed)
        do {
            try setSocketOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        } catch {
            // Only latency suffers (Nagle's algorithm stays on): the connection is served all the same.
            core.logger.warning("cannot set TCP_NODELAY", metadata: ["errno": "\(error.errno)"])
        }
        var configuration = connectionConfiguration
        if trustedProxy { configuration.lingerBytes = Self.proxyLingerBytes }
        let machine = ConnectionStateMachine(configuration: configuration, tls: session != nil, now: now)
        let connection = Connection(fd: fd, remoteAddress: remoteAddress, addressKey: addressKey, machine: machine, tls: session)
        connections[fd] = connection
        // Edge-triggered, registered once: no epoll_ctl per request. Reads drain to EAGAIN.
        do {
            try epollControl(epfd, CSYSTEM_EPOLL_CTL_ADD, fd, events: CSYSTEM_EPOLLIN | CSYSTEM_EPOLLOUT | CSYSTEM_EPOLLRDHUP | CSYSTEM_EPOLLET)
        } catch {
            // Unwatched, the connection would never be read (ENOMEM, or the user's epoll watch limit).
            core.logger.warning("cannot watch a new connection; closing it", metadata: ["errno": "\(error.errno)"])
            close(connection)
        }
    }

    /// One client (a flood of slow connections) must not take the places of all others.
    private func refuseOverAddressLimit(_ fd: Int32) {
        core.openConnections.wrappingSubtract(1, ordering: .relaxed)
        core.rejectedConnections.wrappingAdd(1, ordering: .relaxed)
        var refusal = Response.error(.tooManyRequests, code: "too_many_connections", message: "Too many open connections from this address; close some and try again.")
        refusal.headers.set("Retry-After", "1")
        // A TLS client could not read a plain answer: it is only closed.
        if tls == nil {
            let bytes = writer.serialize(refusal, method: .GET, minorVersion: 1, keepAlive: false, requestID: requestID(from: [:]))
            bytes.withUnsafeBytes { _ = send(fd, $0.baseAddress, $0.count, CSYSTEM_MSG_NOSIGNAL) }
        }
        closeDescriptor(fd)
    }

    /// Out of descriptors: stop accepting for a moment instead of spinning on a ready listener.
    private func pauseAccepting(_ l: ListeningSocket, errno err: Int32, now: UInt64) {
        core.logger.warning("out of file descriptors; pausing accept", metadata: ["errno": "\(err)"])
        acceptPausedUntil = now + 100_000_000
        do {
            try epollControl(epfd, CSYSTEM_EPOLL_CTL_MOD, l.fd, events: 0)
        } catch {
            core.logger.warning("cannot pause accepting", metadata: ["errno": "\(error.errno)"])
        }
    }

    func resumeAccepting(now: UInt64) {
        guard let l = listener else { return }
        acceptPausedUntil = 0
        do {
            try epollControl(epfd, CSYSTEM_EPOLL_CTL_MOD, l.fd, events: CSYSTEM_EPOLLIN)
        } catch {
            core.logger.warning("cannot resume accepting; trying again", metadata: ["errno": "\(error.errno)"])
            acceptPausedUntil = now + 100_000_000
        }
    }
}
