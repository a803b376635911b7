#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// A loopback TCP server that speaks just enough of the PostgreSQL protocol (v3) for libpq to connect,
/// then answers every query with a message libpq does not expect, followed by ReadyForQuery. libpq
/// reports that as an error without SQLSTATE while `PQstatus` still reads OK — the client-side failure
/// that a PostgreSQL restart produces under load, made reproducible (tests only).
public final class MisbehavingPostgres: Sendable {
    public let port: Int
    private let listenFD: Int32
    private let counters = Mutex((accepted: 0, closedByClient: 0, queries: 0))
    private let stopped = Atomic<Bool>(false)

    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 64) == 0 else {
            let e = errno
            Glibc.close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: e) ?? .EIO)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        port = Int(UInt16(bigEndian: address.sin_port))
        listenFD = fd
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "misbehaving-postgres"
        thread.start()
    }

    /// libpq conninfo for this server (no TLS or GSS negotiation).
    public var connectionString: String {
        "host=127.0.0.1 port=\(port) user=postgres dbname=fake sslmode=disable gssencmode=disable"
    }

    /// Connections accepted, connections the client closed (Terminate or EOF), queries answered wrongly.
    public var statistics: (accepted: Int, closedByClient: Int, queries: Int) { counters.withLock { $0 } }

    public func stop() {
        stopped.store(true, ordering: .relaxed)
        shutdown(listenFD, Int32(SHUT_RDWR))
        Glibc.close(listenFD)
    }

    private func acceptLoop() {
        while !stopped.load(ordering: .relaxed) {
            let client = accept(listenFD, nil, nil)
            if client < 0 { if errno == EINTR { continue } else { return } }
            counters.withLock { $0.accepted += 1 }
            let thread = Thread { [self] in serve(client) }
            thread.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer { Glibc.close(fd) }
        // Startup: SSLRequest / GSSENCRequest are declined with 'N'; then the StartupMessage.
        while true {
            guard let length = readInt32(fd), length >= 8, length < 10_000, let body = readExactly(fd, Int(length) - 4) else { return clientGone() }
            let code = body.prefix(4).reduce(0) { $0 << 8 | Int($1) }
            if code == 80_877_103 || code == 80_877_104 {
                write(fd, [UInt8(ascii: "N")])
                continue
            }
            break
        }
        var hello: [UInt8] = []
        hello += message("R", int32(0))  // AuthenticationOk
        for (name, value) in [("server_version", "15.0"), ("client_encoding", "UTF8"), ("standard_conforming_strings", "on"),
                              ("integer_datetimes", "on"), ("DateStyle", "ISO, MDY"), ("TimeZone", "UTC")] {
            hello += message("S", Array(name.utf8) + [0] + Array(value.utf8) + [0])
        }
        hello += message("K", int32(4242) + int32(1))
        hello += message("Z", [UInt8(ascii: "I")])
        write(fd, hello)
        while true {
            guard let type = readExactly(fd, 1)?.first, let length = readInt32(fd), length >= 4, length < 1 << 24,
                  readExactly(fd, Int(length) - 4) != nil else { return clientGone() }
            switch type {
            case UInt8(ascii: "X"):
                return clientGone()
            case UInt8(ascii: "Q"), UInt8(ascii: "S"):
                // A message type that does not exist, then ReadyForQuery: libpq builds an error result without
                // SQLSTATE ("unexpected response from server") and the connection still reads CONNECTION_OK.
                counters.withLock { $0.queries += 1 }
                write(fd, message("!", []) + message("Z", [UInt8(ascii: "I")]))
            default:
                continue  // Parse, Bind, Describe, Execute: answered at Sync
            }
        }
    }

    private func clientGone() {
        counters.withLock { $0.closedByClient += 1 }
    }

    private func message(_ type: Character, _ payload: [UInt8]) -> [UInt8] {
        [type.asciiValue!] + int32(Int32(payload.count + 4)) + payload
    }

    private func int32(_ value: Int32) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    private func readInt32(_ fd: Int32) -> Int32? {
        guard let bytes = readExactly(fd, 4) else { return nil }
        return bytes.reduce(Int32(0)) { $0 << 8 | Int32($1) }
    }

    private func readExactly(_ fd: Int32, _ count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let n = out.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + offset, count - offset, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            offset += n
        }
        return out
    }

    private func write(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }
}
