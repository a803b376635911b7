#if canImport(Glibc)
import Glibc
#endif
import CSystem

/// Reading and writing a connection's socket, directly or through TLS; each call reports what it did as
/// the machine's next event.
extension EventLoop {
    /// One non-blocking handshake step.
    func handshakeStep(_ connection: Connection, now: UInt64) -> Event {
        guard let session = connection.tls else { return .handshakeFinished(now: now) }
        switch session.handshake() {
        case .done:
            return .handshakeFinished(now: now)
        case .wantRead, .wantWrite:
            return .handshakeProgressed(now: now)
        case .bytes, .closed, .failed:
            // Plain HTTP to the TLS port, a certificate of another CA or an expired one, a bad record.
            return .ioFailed
        }
    }

    /// Reads into the scratch buffer from the socket, or through TLS.
    func receive(_ connection: Connection, now: UInt64) -> Event {
        if let session = connection.tls {
            switch session.read(into: scratch, count: scratchSize) {
            // Not drained: a TLS read returns one record, and OpenSSL may hold more (decrypted or not).
            case .bytes(let n): return .received(UnsafeRawBufferPointer(start: scratch, count: n), drained: false, now: now)
            case .closed: return .endOfStream(now: now)
            case .wantRead, .wantWrite: return .readWouldBlock(now: now)
            case .done, .failed: return .ioFailed
            }
        }
        while true {
            let n = recv(connection.fd, scratch, scratchSize, 0)
            // A short read drained the socket; data that arrives later raises a new edge (as nginx relies
            // on), so the extra recv that would only say EAGAIN is skipped.
            if n > 0 { return .received(UnsafeRawBufferPointer(start: scratch, count: n), drained: n < scratchSize, now: now) }
            if n == 0 { return .endOfStream(now: now) }
            let err = csystem_errno()
            if err == EINTR { continue }
            if err == EAGAIN || err == EWOULDBLOCK { return .readWouldBlock(now: now) }
            return .ioFailed
        }
    }

    /// Reads and drops what a lingering client still sends (from the socket, under TLS as well).
    func discard(_ connection: Connection, now: UInt64) -> Event {
        while true {
            let n = recv(connection.fd, scratch, scratchSize, 0)
            if n > 0 { return .discarded(n) }
            if n < 0 {
                let err = csystem_errno()
                if err == EINTR { continue }
                if err == EAGAIN || err == EWOULDBLOCK { return .readWouldBlock(now: now) }
            }
            return .endOfStream(now: now)
        }
    }

    /// Writes the connection's pending output to the socket, or through TLS.
    func transmit(_ connection: Connection, now: UInt64) -> Event {
        if let session = connection.tls {
            let step = connection.machine.withPendingOutput { session.write($0.baseAddress!, count: $0.count) }
            switch step {
            case .bytes(let n): return .wrote(n, now: now)
            case .wantRead, .wantWrite: return .writeWouldBlock(now: now)
            case .done, .closed, .failed: return .ioFailed
            }
        }
        while true {
            let n = connection.machine.withPendingOutput { send(connection.fd, $0.baseAddress, $0.count, CSYSTEM_MSG_NOSIGNAL) }
            if n > 0 { return .wrote(n, now: now) }
            let err = csystem_errno()
            if n < 0 && err == EINTR { continue }
            if n < 0 && (err == EAGAIN || err == EWOULDBLOCK) { return .writeWouldBlock(now: now) }
            return .ioFailed
        }
    }
}
