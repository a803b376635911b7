#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CSystem

/// Errors of the socket layer, with errno captured where the call failed.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    public let call: String
    public let errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String { "\(call) failed: \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// One wrapper for system calls (as in swift-nio's System.swift): retries EINTR, returns nil for
/// EAGAIN/EWOULDBLOCK, throws everything else with errno.
@inline(__always)
func syscall<T: FixedWidthInteger>(_ name: String, blocking: Bool = false, _ body: () -> T) throws(SystemError) -> T? {
    while true {
        let result = body()
        if result >= 0 { return result }
        let err = csystem_errno()
        if err == EINTR { continue }
        if !blocking && (err == EAGAIN || err == EWOULDBLOCK) { return nil }
        throw SystemError(call: name, errno: err)
    }
}

/// close(2), the one way this module closes a descriptor. Not retried on EINTR: Linux has released the
/// descriptor even then, and a retry could close one that another thread was just given (swift-nio's
/// `close` does the same). EBADF means a descriptor closed twice or never opened — a programmer error,
/// which traps rather than closing someone else's descriptor by chance later.
func closeDescriptor(_ fd: Int32) {
    guard close(fd) < 0 else { return }
    let err = csystem_errno()
    precondition(err != EBADF, "close(\(fd)): bad descriptor (closed twice?)")
}

/// epoll_ctl(2) through `syscall`, with the descriptor itself as the event's data.
func epollControl(_ epfd: Int32, _ operation: Int32, _ fd: Int32, events: UInt32) throws(SystemError) {
    _ = try syscall("epoll_ctl", blocking: true) { csystem_epoll_ctl(epfd, operation, fd, events, UInt64(UInt32(bitPattern: fd))) }
}

/// setsockopt(2) of an `int` option through `syscall`.
func setSocketOption(_ fd: Int32, _ level: Int32, _ option: Int32, _ value: Int32) throws(SystemError) {
    var value = value
    _ = try syscall("setsockopt", blocking: true) { setsockopt(fd, level, option, &value, socklen_t(MemoryLayout<Int32>.size)) }
}

enum MonotonicClock {
    /// Nanoseconds on CLOCK_MONOTONIC.
    @inline(__always) static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

extension Duration {
    var nanoseconds: UInt64 {
        let (s, atto) = components
        let ns = Int64(s) * 1_000_000_000 + atto / 1_000_000_000
        return ns > 0 ? UInt64(ns) : 0
    }
}

/// A bound, listening TCP socket.
struct ListeningSocket {
    let fd: Int32
    let port: Int

    static func make(host: String, port: Int, backlog: Int32, reusePort: Bool) throws -> ListeningSocket {
        let address = host == "localhost" ? "127.0.0.1" : host
        var storage = sockaddr_storage()
        let length: socklen_t
        let family: Int32
        if address.contains(":") {
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
            guard inet_pton(AF_INET6, address, &sin6.sin6_addr) == 1 else {
                throw ServerError.invalidAddress(host)
            }
            withUnsafeMutableBytes(of: &storage) { raw in
                withUnsafeBytes(of: sin6) { raw.copyMemory(from: $0) }
            }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            family = AF_INET6
        } else {
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
            guard inet_pton(AF_INET, address, &sin.sin_addr) == 1 else {
                throw ServerError.invalidAddress(host)
            }
            withUnsafeMutableBytes(of: &storage) { raw in
                withUnsafeBytes(of: sin) { raw.copyMemory(from: $0) }
            }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            family = AF_INET
        }
        guard (0...65535).contains(port) else { throw ServerError.invalidAddress("port \(port)") }

        guard let fd = try syscall("socket", blocking: true, { socket(family, CSYSTEM_SOCK_STREAM | CSYSTEM_SOCK_NONBLOCK | CSYSTEM_SOCK_CLOEXEC, 0) }) else {
            throw SystemError(call: "socket", errno: EAGAIN)
        }
        var ok = false
        defer { if !ok { closeDescriptor(fd) } }
        try setSocketOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        if reusePort {
            try setSocketOption(fd, SOL_SOCKET, SO_REUSEPORT, 1)
        }
        if family == AF_INET6 {
            // "::" serves IPv4 too (dual stack).
            try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 0)
        }
        _ = try withUnsafePointer(to: &storage) { ptr throws(SystemError) in
            try ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(SystemError) in
                try syscall("bind", blocking: true) { bind(fd, sa, length) }
            }
        }
        _ = try syscall("listen", blocking: true) { listen(fd, backlog) }
        var bound = sockaddr_storage()
        var boundLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try withUnsafeMutablePointer(to: &bound) { ptr throws(SystemError) in
            try ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(SystemError) in
                try syscall("getsockname", blocking: true) { getsockname(fd, sa, &boundLength) }
            }
        }
        let boundPort: Int = withUnsafeBytes(of: bound) { raw in
            if family == AF_INET6 {
                return Int(UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port))
            }
            return Int(UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port))
        }
        ok = true
        return ListeningSocket(fd: fd, port: boundPort)
    }
}

/// The peer address of an accepted socket as text, without port.
func formatAddress(_ storage: inout sockaddr_storage) -> String {
    var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
    let family = Int32(storage.ss_family)
    let ok: Bool = withUnsafeBytes(of: &storage) { raw in
        if family == AF_INET {
            var addr = raw.load(as: sockaddr_in.self).sin_addr
            return inet_ntop(AF_INET, &addr, &buffer, socklen_t(buffer.count)) != nil
        } else if family == AF_INET6 {
            var addr = raw.load(as: sockaddr_in6.self).sin6_addr
            return inet_ntop(AF_INET6, &addr, &buffer, socklen_t(buffer.count)) != nil
        }
        return false
    }
    guard ok else { return "unknown" }
    let s = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return s.hasPrefix("::ffff:") ? String(s.dropFirst(7)) : s
}

/// Errors of the server's start and stop.
public enum ServerError: Error, CustomStringConvertible, Sendable {
    case invalidAddress(String)
    case alreadyStarted
    /// The TLS settings could not be loaded (certificate, key, CA file, or OpenSSL refused a setting).
    case tls(String)

    public var description: String {
        switch self {
        case .invalidAddress(let a): return "invalid listen address: \(a)"
        case .alreadyStarted: return "server already started"
        case .tls(let reason): return "TLS: \(reason)"
        }
    }
}
