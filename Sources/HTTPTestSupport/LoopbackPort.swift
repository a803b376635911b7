#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// Ports on 127.0.0.1 for tests.
public enum LoopbackPort {
    /// Where the fixed ports come from: below the kernel's ephemeral ports, which every outgoing connection
    /// takes one of (the tests make thousands). The browser tests, a later step of `make test`, pick theirs
    /// from 20000 up (Tests/web/support.py).
    static let fixedRange = 24_000..<32_000

    /// A port nobody listens on, for a server started with it right away (a child process, nginx, a proxy
    /// that listens again on the same port). Picked below the kernel's ephemeral range, so no client
    /// connection is given it between this check and the server's bind; each call of this process takes the
    /// next port of the range, and one that cannot be bound now is skipped. Where the ephemeral range starts
    /// lower, bound to learn a free number and closed (another socket may take it in between). For a port
    /// that must refuse connections use `ReservedPort`; for an in-process server, port 0.
    public static func unused() -> Int {
        if ephemeralStart() >= fixedRange.upperBound {
            for _ in 0..<256 {
                let port = fixedRange.lowerBound + next.add(1, ordering: .relaxed).newValue % fixedRange.count
                if canBind(port) { return port }
            }
        }
        return ReservedPort().port  // released at once
    }

    /// Starts at a random offset, so that test processes running at once rarely try the same ports.
    private static let next = Atomic<Int>(Int.random(in: 0..<fixedRange.count))

    /// The first ephemeral port (`ip_local_port_range`; Linux's default 32768 when it cannot be read).
    static func ephemeralStart() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8),
              let first = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first, let start = Int(first) else { return 32_768 }
        return start
    }

    /// Whether a socket can be bound to the port now (it is closed again at once).
    static func canBind(_ port: Int) -> Bool {
        guard let fd = bound(port) else { return false }
        close(fd)
        return true
    }

    /// A TCP socket bound (not listening) to 127.0.0.1:`port` (0: a free port the kernel picks), or nil
    /// when it could not be bound. The caller closes it.
    static func bound(_ port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            return nil
        }
        return fd
    }
}

/// A port on 127.0.0.1 where nothing listens, held for as long as this object lives: a socket bound to it
/// without `listen()`, so a connection to it is refused, and no other socket (a server, a client's ephemeral
/// port) can take it meanwhile. Keep it alive while the port is used (`withExtendedLifetime`); closed on release.
public final class ReservedPort: Sendable {
    public let port: Int
    private let fd: Int32

    public init() {
        let fd = LoopbackPort.bound(0) ?? -1
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}
