#if canImport(Glibc)
import Glibc
#endif

/// Ports on 127.0.0.1 for tests.
public enum LoopbackPort {
    /// A port nobody listens on: bound to learn a free number, then closed. Connecting to it is refused,
    /// and a server started with it right away gets it (tests that need a fixed port for a child process).
    /// Another socket may take it in between: for a refused port use `ReservedPort`, for a child server port 0.
    public static func unused() -> Int { ReservedPort().port }  // released at once
}

/// A port on 127.0.0.1 where nothing listens, held for as long as this object lives: a socket bound to it
/// without `listen()`, so a connection to it is refused, and no other socket (a server, a client's ephemeral
/// port) can take it meanwhile. Keep it alive while the port is used (`withExtendedLifetime`); closed on release.
public final class ReservedPort: Sendable {
    public let port: Int
    private let fd: Int32

    public init() {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}
