#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import HTTPTestSupport

/// Fixed ports for child servers come from below the kernel's ephemeral range (no client connection is
/// given one meanwhile), are not handed out twice in a row, and are never one another socket holds.
@Suite("Loopback ports for child servers", .serialized)
struct LoopbackPortTests {
    /// A socket bound (not listening) to `port`, or nil when it could not be bound.
    static func hold(_ port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { close(fd); return nil }
        return fd
    }

    @Test func portsComeFromBelowTheEphemeralRange_andAreFreeToListenOn() throws {
        let ports = (0..<40).map { _ in LoopbackPort.unused() }
        let belowEphemeral = LoopbackPort.ephemeralStart() >= LoopbackPort.fixedRange.upperBound
        #expect(ports.allSatisfy { LoopbackPort.fixedRange.contains($0) } == belowEphemeral)
        #expect(Set(ports).count == ports.count)
        for port in ports.prefix(5) {
            let fd = try #require(Self.hold(port))
            #expect(listen(fd, 1) == 0)
            close(fd)
        }
    }

    @Test func aPortAnotherSocketHolds_isNotHandedOut() throws {
        let first = LoopbackPort.unused()
        // The next ports of the range, held: the next answer is none of them.
        let held = (1...32).compactMap { offset -> (Int, Int32)? in
            let port = first + offset
            return Self.hold(port).map { (port, $0) }
        }
        defer { for (_, fd) in held { close(fd) } }
        #expect(held.count >= 16)
        let next = LoopbackPort.unused()
        #expect(!held.map(\.0).contains(next))
        #expect(LoopbackPort.canBind(next))
    }
}
