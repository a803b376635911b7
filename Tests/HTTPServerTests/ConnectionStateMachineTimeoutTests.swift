import Testing
@testable import HTTPServer

/// The connection's time-outs, a client that goes away, write backpressure and graceful shutdown, without
/// a socket (`MachineHarness`; its time-outs: header 100 ns, body idle 50, body 300, keep-alive 1,000).
@Suite("Connection state machine: time-outs, peer close, backpressure, draining")
struct ConnectionStateMachineTimeoutTests {
    static let get = ConnectionStateMachineTests.get

    /// A POST whose body (of `length` bytes) may come.
    static func bodyExpected(length: Int = 100) -> MachineHarness {
        var h = MachineHarness.make()
        _ = h.readable()
        _ = h.received("POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: \(length)\r\n\r\n")
        _ = h.routed()
        _ = h.send(.accessGranted(now: h.now))
        return h
    }

    @Test func closesAnIdleKeepAliveConnection_afterItsTimeout() {
        var h = MachineHarness.make()
        #expect(h.timer(after: 1_000) == "wait")
        #expect(h.timer(after: 1) == "close")
    }

    @Test func answers408_whenTheHeadersDoNotArriveInTime() {
        var h = MachineHarness.make()
        _ = h.readable()
        #expect(h.received("GET /a HT") == "wait")
        #expect(h.machine.phase == .head)
        #expect(h.timer(after: 100) == "wait")
        #expect(h.timer(after: 1) == "answerError 408 request_timeout")
    }

    @Test func answers408_whenTheBodyStalls() {
        var h = Self.bodyExpected()
        #expect(h.timer(after: 50) == "wait")
        #expect(h.timer(after: 1) == "answerError 408 request_timeout")
    }

    @Test func answers408_whenTheBodyMissesItsDeadline_thoughEachByteComesInTime() {
        var h = Self.bodyExpected()
        for _ in 0..<7 {
            h.now += 40
            #expect(h.received("x") == "wait")
            #expect(h.timer(after: 0) == "wait")
        }
        h.now += 40
        #expect(h.received("x") == "wait")
        #expect(h.timer(after: 0) == "answerError 408 request_timeout")
    }

    @Test func closesWithoutAnAnswer_whenThePeerClosesMidBody() {
        var h = Self.bodyExpected(length: 10)
        #expect(h.received("abc") == "wait")
        #expect(h.send(.endOfStream(now: h.now)) == "close")
    }

    @Test func closesAParkedRequest_whenItsClientCloses_butAnswersOneBeingProcessed() {
        var parked = MachineHarness.make()
        _ = parked.readable()
        _ = parked.received(Self.get)
        _ = parked.routed()
        #expect(parked.send(.handlerStarted(parked: true)) == "wait")
        #expect(parked.send(.endOfStream(now: parked.now)) == "close")

        var working = MachineHarness.make()
        _ = working.readable()
        _ = working.received(Self.get)
        _ = working.routed()
        #expect(working.send(.handlerStarted(parked: false)) == "wait")
        #expect(working.send(.endOfStream(now: working.now)) == "wait")
        #expect(!working.machine.keepsAlive(after: .answer))
        #expect(working.answered() == "write")
        #expect(working.wroteAll() == "close")
    }

    @Test func pausesReadingPipelinedInput_whileAnAnswerWaitsForTheSocket() {
        var h = MachineHarness.make { $0.maxBufferedInput = 100 }
        _ = h.readable()
        _ = h.received(Self.get)
        _ = h.routed()
        _ = h.send(.handlerStarted(parked: false))
        #expect(h.answered() == "write")
        #expect(h.send(.writeWouldBlock(now: h.now)) == "wait")
        #expect(h.readable() == "read")
        #expect(h.received(String(repeating: "GET /b HTTP/1.1\r\nHost: x\r\n\r\n", count: 5), drained: false) == "wait")
        #expect(h.machine.input.count >= 100)
        #expect(h.writable() == "write")
        // Written: reading resumes where it stopped, then the next request is parsed.
        #expect(h.wroteAll() == "read")
        #expect(h.send(.readWouldBlock(now: h.now)) == "route GET /b")
    }

    @Test func closesAConnection_whoseAnswerMakesNoProgress() {
        var h = MachineHarness.make()
        _ = h.readable()
        _ = h.received(Self.get)
        _ = h.routed()
        _ = h.send(.handlerStarted(parked: false))
        _ = h.answered()
        #expect(h.send(.wrote(3, now: h.now)) == "write")
        #expect(h.send(.writeWouldBlock(now: h.now)) == "wait")
        #expect(h.pendingOutput == "PONSE")
        #expect(h.timer(after: 50) == "wait")
        #expect(h.timer(after: 1) == "close")
    }

    @Test func closesIdleConnectionsOnShutdown_andAnswersBusyOnesWithClose() {
        var idle = MachineHarness.make()
        #expect(idle.send(.serverDraining) == "close")

        var busy = MachineHarness.make()
        _ = busy.readable()
        _ = busy.received(Self.get)
        _ = busy.routed()
        _ = busy.send(.handlerStarted(parked: false))
        #expect(busy.send(.serverDraining) == "wait")
        #expect(!busy.machine.keepsAlive(after: .answer))
        #expect(busy.answered() == "write")
        #expect(busy.wroteAll() == "close")
    }

    @Test func dropsATLSClient_thatDoesNotFinishItsHandshake() {
        var h = MachineHarness.make(tls: true)
        #expect(h.readable() == "handshake")
        #expect(h.send(.handshakeProgressed(now: h.now)) == "wait")
        #expect(h.timer(after: 101) == "close")
    }
}
