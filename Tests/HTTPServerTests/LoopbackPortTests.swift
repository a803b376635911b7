#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import HTTPTestSupport

/// Fixed ports for child servers come from below the kernel's ephemeral range (no client connection is
/// given one meanwhile), are not handed out twice in a row, and are never one another socket holds.
@Suite("Loopback ports for child servers", .serialized)
struct LoopbackPortTests {
    @Test func portsComeFromBelowTheEphemeralRange_andAreFreeToListenOn() throws {
        let ports = (0..<40).map { _ in LoopbackPort.unused() }
        let belowEphemeral = LoopbackPort.ephemeralStart() >= LoopbackPort.fixedRange.upperBound
        #expect(ports.allSatisfy { LoopbackPort.fixedRange.contains($0) } == belowEphemeral)
        #expect(Set(ports).count == ports.count)
        for port in ports.prefix(5) {
            let fd = try #require(LoopbackPort.bound(port))
            #expect(listen(fd, 1) == 0)
            close(fd)
        }
    }

    @Test func aPortAnotherSocketHolds_isNotHandedOut() throws {
        let first = LoopbackPort.unused()
        // The next ports of the range, held: the next answer is none of them.
        let held = (1...32).compactMap { offset -> (Int, Int32)? in
            let port = first + offset
            return LoopbackPort.bound(port).map { (port, $0) }
        }
        defer { for (_, fd) in held { close(fd) } }
        #expect(held.count >= 16)
        let next = LoopbackPort.unused()
        #expect(!held.map(\.0).contains(next))
        #expect(LoopbackPort.canBind(next))
    }
}
