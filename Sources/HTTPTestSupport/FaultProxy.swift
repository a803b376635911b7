#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HTTPServer
import Synchronization

/// A TCP proxy on 127.0.0.1 in front of a loopback server, for fault tests: per connection it relays,
/// loses the reply (the server handled the request, the client never hears of it), drops the request, or
/// resets; and it can refuse connections altogether (tests and the fault suite only).
public final class FaultProxy: Sendable {
    public enum Mode: Sendable {
        /// Relay both ways.
        case pass
        /// Forward the request; once the server's reply starts, close the client's connection without it.
        case loseReply
        /// Take the request and close without forwarding or answering.
        case dropRequest
        /// Take the request and reset the connection (RST).
        case reset
    }

    public let port: Int
    private let upstreamPort: Int
    private let script: @Sendable (_ connection: Int) -> Mode
    private let state = Mutex((listenFD: Int32(-1), connections: 0, refusing: false, stopped: false, open: Set<Int32>(),
                                loops: [Int32: DispatchSemaphore]()))

    /// `script(n)` decides for the n-th accepted connection (from 1).
    public init(upstreamPort: Int, script: @escaping @Sendable (_ connection: Int) -> Mode = { _ in .pass }) throws {
        self.upstreamPort = upstreamPort
        self.script = script
        let port = LoopbackPort.unused()
        self.port = port
        try listen()
    }

    /// Connections accepted so far.
    public var connections: Int { state.withLock { $0.connections } }

    /// Breaks every open connection (clients with keep-alive connections must connect again, and meet
    /// the current script or refusal).
    public func disconnectAll() {
        // Under the lock: a connection still in the set is not closed yet, so its number is its own.
        state.withLock { for fd in $0.open { shutdown(fd, Int32(SHUT_RDWR)) } }
    }

    /// Refuses new connections (the port is closed: connect gets ECONNREFUSED) until `refuse(false)`.
    public func refuse(_ refusing: Bool) throws {
        let fd = state.withLock { s -> Int32 in
            s.refusing = refusing
            defer { if refusing { s.listenFD = -1 } }
            return refusing ? s.listenFD : -1
        }
        if refusing {
            closeListener(fd)
        } else {
            try listen()
        }
    }

    public func stop() {
        let fd = state.withLock { s -> Int32 in
            s.stopped = true
            defer { s.listenFD = -1 }
            return s.listenFD
        }
        if fd >= 0 { closeListener(fd) }
    }

    /// Shuts the listener down and waits until its accept loop has closed it: a number closed here while
    /// the loop still called `accept` on it could belong to another test's socket by then.
    private func closeListener(_ fd: Int32) {
        let done = state.withLock { $0.loops[fd] }
        shutdown(fd, Int32(SHUT_RDWR))
        _ = done?.wait(timeout: .now() + 10)
    }

    private func listen() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, Glibc.listen(fd, 128) == 0 else {
            let e = errno
            Glibc.close(fd)
            throw SystemError(call: "bind", errno: e)
        }
        let done = DispatchSemaphore(value: 0)
        state.withLock { $0.listenFD = fd; $0.loops[fd] = done }
        let thread = Thread { [self] in
            acceptLoop(fd)
            state.withLock { _ = $0.loops.removeValue(forKey: fd) }
            Glibc.close(fd)
            done.signal()
        }
        thread.name = "fault-proxy"
        thread.start()
    }

    private func acceptLoop(_ listenFD: Int32) {
        while true {
            let client = accept(listenFD, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            let n = state.withLock { s -> Int in
                s.connections += 1
                s.open.insert(client)
                return s.connections
            }
            let mode = script(n)
            let thread = Thread { [self] in handle(client, mode) }
            thread.start()
        }
    }

    /// Leaves the set of open connections, then closes: `disconnectAll` only shuts down what is in the set.
    private func close(_ client: Int32) {
        state.withLock { _ = $0.open.remove(client) }
        Glibc.close(client)
    }

    private func handle(_ client: Int32, _ mode: Mode) {
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        switch mode {
        case .dropRequest, .reset:
            var buffer = [UInt8](repeating: 0, count: 65536)
            _ = recv(client, &buffer, buffer.count, 0)
            if case .reset = mode {
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            }
            close(client)
        case .pass, .loseReply:
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(upstreamPort)
            let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard connected == 0 else {
                Glibc.close(upstream)
                close(client)
                return
            }
            setsockopt(upstream, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let loseReply: Bool
            if case .loseReply = mode { loseReply = true } else { loseReply = false }
            // Ends when the client's side is shut down below (recv returns 0); both sockets are closed only
            // after it has ended, so it never touches a number that is someone else's by then.
            let forwarded = DispatchSemaphore(value: 0)
            let forward = Thread {
                Self.relay(from: client, to: upstream)
                shutdown(upstream, Int32(SHUT_WR))
                forwarded.signal()
            }
            forward.start()
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = recv(upstream, &buffer, buffer.count, 0)
                if n <= 0 { break }
                // The server has answered; the client is told nothing.
                if loseReply { break }
                if !Self.sendAll(client, buffer, n) { break }
            }
            shutdown(client, Int32(SHUT_RDWR))
            shutdown(upstream, Int32(SHUT_RDWR))
            forwarded.wait()
            close(client)
            Glibc.close(upstream)
        }
    }

    private static func relay(from: Int32, to: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(from, &buffer, buffer.count, 0)
            if n <= 0 { return }
            if !sendAll(to, buffer, n) { return }
        }
    }

    private static func sendAll(_ fd: Int32, _ buffer: [UInt8], _ count: Int) -> Bool {
        var offset = 0
        while offset < count {
            let sent = buffer.withUnsafeBytes { send(fd, $0.baseAddress! + offset, count - offset, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    private static func loopback(_ port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
