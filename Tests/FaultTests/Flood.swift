#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// Thousands of hostile connections driven by one thread with non-blocking sockets: each kind sends its
/// bytes on every tick, reads and counts what the server answers, and opens a new connection when the
/// server closed one (so the pressure stays up for the whole run).
final class Flood: @unchecked Sendable {
    // @unchecked: `connections` is only touched by the driver thread (`run`); the tallies are Mutex-guarded.
    enum Kind: String, CaseIterable, Sendable {
        /// A header block one byte a second, never finished (header time-out).
        case trickleHead
        /// A body one byte a second to a public route (body deadline).
        case trickleBody
        /// A 1 MB body as fast as the socket takes it, to a staff route, without a session.
        case greedyBody
    }

    private struct Connection {
        let fd: Int32
        let kind: Kind
        let from: String
        var sent = 0
        var answered = false
    }

    let port: Int
    private let target: String
    private var connections: [Connection] = []
    /// Closed by the server: opened again after a second (each slot is one client that keeps coming back).
    private var reopen: [(at: Double, kind: Kind, from: String)] = []
    private let stats = Mutex((opened: 0, refusedAtConnect: 0, closedByServer: 0, answers: [String: Int]()))
    private static let chunk = [UInt8](repeating: 0x20, count: 64 * 1024)

    init(port: Int, statusPath: String) {
        self.port = port
        self.target = statusPath
    }

    /// Opens `count` connections of `kind` from `address` (a loopback address standing for one client).
    func open(_ count: Int, _ kind: Kind, from address: String) {
        for _ in 0..<count { if let c = connect(kind, from: address) { connections.append(c) } }
    }

    var openConnections: Int { connections.count }

    /// Drives every connection for `seconds`, a tick every 50 ms (each trickling connection sends on one
    /// tick in 20, at its own phase, as independent clients would), then closes them all.
    func run(seconds: Double) {
        let end = now() + seconds
        var tick = 0
        var buffer = [UInt8](repeating: 0, count: 4096)
        while now() < end {
            tick += 1
            for i in connections.indices.reversed() {
                var c = connections[i]
                var gone = false
                // Whatever the server said: count the status line of the first answer.
                let n = buffer.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress, 4096, Int32(MSG_DONTWAIT)) }
                if n > 0 {
                    if !c.answered, let line = String(decoding: buffer[0..<min(n, 15)], as: UTF8.self).split(separator: "\r\n").first {
                        let status = line.split(separator: " ").dropFirst().first.map(String.init) ?? "?"
                        stats.withLock { $0.answers["\(c.kind.rawValue):\(status)", default: 0] += 1 }
                        c.answered = true
                    }
                } else if n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                    gone = true
                }
                if !gone && (c.kind == .greedyBody || (tick + i) % 20 == 0) {
                    gone = !send(&c)
                }
                if gone {
                    Glibc.close(c.fd)
                    stats.withLock { $0.closedByServer += 1 }
                    reopen.append((now() + 1, c.kind, c.from))
                    connections.remove(at: i)
                } else {
                    connections[i] = c
                }
            }
            let due = now()
            while let first = reopen.first, first.at <= due {
                reopen.removeFirst()
                if let fresh = connect(first.kind, from: first.from) { connections.append(fresh) }
            }
            usleep(50_000)
        }
        for c in connections { Glibc.close(c.fd) }
        connections.removeAll()
    }

    var figures: (opened: Int, refusedAtConnect: Int, closedByServer: Int, answers: [String: Int]) { stats.withLock { $0 } }

    private func head(_ kind: Kind) -> [UInt8] {
        switch kind {
        case .trickleHead: Array("GET \(target) HTTP/1.1\r\nHost: t\r\nX-Slow: ".utf8)
        case .trickleBody: Array("POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n".utf8)
        case .greedyBody: Array("POST /api/v1/deliveries HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n".utf8)
        }
    }

    /// The next bytes; false when the server has closed the connection.
    private func send(_ c: inout Connection) -> Bool {
        let prefix = head(c.kind)
        var bytes: ArraySlice<UInt8>
        if c.sent < prefix.count {
            bytes = prefix[c.sent...]
        } else if c.kind == .greedyBody {
            bytes = Self.chunk[...].prefix(1_000_000 - (c.sent - prefix.count))
            if bytes.isEmpty { return true }
        } else {
            bytes = [UInt8(ascii: "a")][...]
        }
        let n = bytes.withUnsafeBytes { Glibc.send(c.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        if n > 0 { c.sent += n; return true }
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
    }

    private func connect(_ kind: Kind, from address: String) -> Connection? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, address, &local.sin_addr)
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = in_port_t(UInt16(port)).bigEndian
        inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr)
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        let connected = withUnsafePointer(to: &remote) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, connected == 0 else {
            Glibc.close(fd)
            stats.withLock { $0.refusedAtConnect += 1 }
            return nil
        }
        stats.withLock { $0.opened += 1 }
        return Connection(fd: fd, kind: kind, from: address)
    }
}
