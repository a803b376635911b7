#if canImport(Glibc)
import Glibc
#endif
import CSystem
import Foundation
import Testing
@testable import HTTPServer

/// close, epoll_ctl and setsockopt go through the checked wrappers in System.swift.
@Suite("System calls through the checked wrappers")
struct SystemCallTests {
    static func tcpSocket() -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        precondition(fd >= 0, "socket")
        return fd
    }

    @Test func setSocketOption_setsTheOption() throws {
        let fd = Self.tcpSocket()
        defer { closeDescriptor(fd) }
        try setSocketOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        #expect(getsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &length) == 0)
        #expect(value == 1)
    }

    @Test func setSocketOption_throwsWithErrno_forADescriptorThatIsNotASocket() throws {
        var pipeEnds: [Int32] = [0, 0]
        #expect(pipe(&pipeEnds) == 0)
        defer { closeDescriptor(pipeEnds[0]); closeDescriptor(pipeEnds[1]) }
        let error = #expect(throws: SystemError.self) { try setSocketOption(pipeEnds[0], SOL_SOCKET, SO_REUSEADDR, 1) }
        #expect(error?.call == "setsockopt")
        #expect(error?.errno == ENOTSOCK)
    }

    @Test func epollControl_addsAndRemoves_andThrowsForADescriptorItDoesNotWatch() throws {
        let epfd = csystem_epoll_create()
        #expect(epfd >= 0)
        defer { closeDescriptor(epfd) }
        let fd = Self.tcpSocket()
        defer { closeDescriptor(fd) }
        try epollControl(epfd, CSYSTEM_EPOLL_CTL_ADD, fd, events: CSYSTEM_EPOLLIN)
        let twice = #expect(throws: SystemError.self) { try epollControl(epfd, CSYSTEM_EPOLL_CTL_ADD, fd, events: CSYSTEM_EPOLLIN) }
        #expect(twice?.errno == EEXIST)
        try epollControl(epfd, CSYSTEM_EPOLL_CTL_DEL, fd, events: 0)
        let gone = #expect(throws: SystemError.self) { try epollControl(epfd, CSYSTEM_EPOLL_CTL_MOD, fd, events: CSYSTEM_EPOLLIN) }
        #expect(gone?.errno == ENOENT)
    }

    @Test func closeDescriptor_releasesTheDescriptor() {
        let fd = Self.tcpSocket()
        closeDescriptor(fd)
        #expect(fcntl(fd, F_GETFD) == -1 && errno == EBADF)
    }

    /// A double close is a programmer error: it traps instead of closing whatever got the number next.
    ///
    /// An exit test runs in its own step of `make test` (PICKUPBOX_EXIT_TESTS=1, this test alone): once one
    /// has run, Swift Testing's monitor thread waits for any child process of the test runner, and alongside
    /// the tests that start processes (`pickupbox version`, PostgreSQL) it was seen to spin on `waitid` while
    /// such a test waited for its child forever.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["PICKUPBOX_EXIT_TESTS"] == "1",
                   "runs in its own step of make test (PICKUPBOX_EXIT_TESTS=1), away from the tests that start processes"))
    func closeDescriptor_trapsOnABadDescriptor() async {
        await #expect(processExitsWith: .failure) {
            closeDescriptor(-1)
        }
    }
}
