import Testing
@testable import HTTPServer

/// The connection's protocol without a socket: events in, actions out (`MachineHarness`).
@Suite("Connection state machine: requests, keep-alive, pipelining, access before the body")
struct ConnectionStateMachineTests {
    static let get = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"

    @Test func keepsTheConnectionOpen_afterAnAnswerToAKeepAliveRequest() {
        var h = MachineHarness.make()
        #expect(h.readable() == "read")
        #expect(h.received(Self.get) == "route GET /a")
        #expect(h.routed() == "dispatch 0 bytes")
        #expect(h.send(.handlerStarted(parked: false)) == "wait")
        #expect(h.machine.keepsAlive(after: .answer))
        #expect(h.answered() == "write")
        #expect(h.wroteAll() == "wait")
        #expect(h.machine.phase == .idle)
        #expect(h.machine.sequence == 1)
    }

    @Test func closesAfterTheAnswer_whenTheRequestAsksToClose() {
        var h = MachineHarness.make()
        _ = h.readable()
        #expect(h.received("GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") == "route GET /a")
        #expect(h.routed() == "dispatch 0 bytes")
        #expect(h.send(.handlerStarted(parked: false)) == "wait")
        #expect(!h.machine.keepsAlive(after: .answer))
        #expect(h.answered() == "write")
        #expect(h.wroteAll() == "close")
    }

    @Test func answersPipelinedRequestsInOrder_parsingTheNextOnlyWhenTheAnswerIsWritten() {
        var h = MachineHarness.make()
        _ = h.readable()
        #expect(h.received(Self.get + "GET /b HTTP/1.1\r\nHost: x\r\n\r\n") == "route GET /a")
        #expect(h.routed() == "dispatch 0 bytes")
        #expect(h.send(.handlerStarted(parked: false)) == "wait")
        #expect(h.machine.input.count > 0, "the second request waits unparsed")
        #expect(h.answered("A") == "write")
        // The socket is full: the next request waits until the first answer has left.
        #expect(h.send(.writeWouldBlock(now: h.now)) == "wait")
        #expect(h.writable() == "write")
        #expect(h.wroteAll() == "route GET /b")
        #expect(h.routed() == "dispatch 0 bytes")
        #expect(h.send(.handlerStarted(parked: false)) == "wait")
        #expect(h.answered("B") == "write")
        #expect(h.pendingOutput == "B")
        #expect(h.wroteAll() == "wait")
        #expect(h.machine.sequence == 2)
    }

    @Test func decidesAccessFromTheHead_beforeReadingTheBody_andLingersAfterARefusal() {
        var h = MachineHarness.make()
        _ = h.readable()
        #expect(h.received("POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n") == "route POST /u")
        #expect(h.routed() == "decideAccess")
        #expect(!h.machine.keepsAlive(after: .refusal))
        #expect(h.answered("403", .refusal) == "write")
        // Our side shuts down; what the client still sends is dropped, up to `lingerBytes`.
        #expect(h.wroteAll() == "linger")
        #expect(h.machine.phase == .lingering)
        #expect(h.send(.discarded(600)) == "discard")
        #expect(h.send(.readWouldBlock(now: h.now)) == "wait")
        #expect(h.readable() == "discard")
        #expect(h.send(.discarded(500)) == "close")
    }

    @Test func closesALingeringConnection_afterTheLingerTime() {
        var h = MachineHarness.make()
        _ = h.readable()
        _ = h.received("POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
        _ = h.routed()
        _ = h.answered("401", .refusal)
        #expect(h.wroteAll() == "linger")
        #expect(h.send(.readWouldBlock(now: h.now)) == "wait")
        #expect(h.timer(after: 200) == "wait")
        #expect(h.timer(after: 1) == "close")
    }

    @Test func sends100Continue_onlyAfterTheAdmissionGrantedAccess() {
        var h = MachineHarness.make()
        _ = h.readable()
        #expect(h.received("POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n") == "route POST /u")
        #expect(h.routed() == "decideAccess")
        #expect(h.send(.admissionStarted) == "wait")
        #expect(h.machine.phase == .admitting)
        #expect(!h.machine.hasPendingOutput)
        // Nothing of the body is read while the admission decides.
        #expect(h.readable() == "wait")
        #expect(h.send(.accessGranted(now: h.now)) == "write")
        #expect(h.pendingOutput == "HTTP/1.1 100 Continue\r\n\r\n")
        #expect(h.wroteAll() == "read")
        #expect(h.received("hello") == "dispatch 5 bytes")
    }

    @Test func servesABodyThatCameBeforeTheClientClosed_onceAdmitted_thenCloses() {
        var h = MachineHarness.make()
        _ = h.readable()
        #expect(h.received("POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello") == "route POST /u")
        #expect(h.routed() == "decideAccess")
        #expect(h.send(.admissionStarted) == "wait")
        #expect(h.send(.endOfStream(now: h.now)) == "wait")
        #expect(h.send(.accessGranted(now: h.now)) == "dispatch 5 bytes")
        #expect(h.send(.handlerStarted(parked: false)) == "wait")
        #expect(!h.machine.keepsAlive(after: .answer))
        #expect(h.answered() == "write")
        #expect(h.wroteAll() == "close")
    }

    @Test func refusesAnOversizeBody_fromItsContentLength_withoutReadingIt() {
        var h = MachineHarness.make()
        _ = h.readable()
        #expect(h.received("POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\nExpect: 100-continue\r\n\r\n") == "route POST /u")
        #expect(h.routed(bodyLimit: 1_000) == "answerError 413 body_too_large")
        #expect(h.answered("413", .refusal) == "write")
        #expect(!h.pendingOutput.contains("100 Continue"))
        #expect(h.wroteAll() == "linger")
    }

    @Test func answersAMalformedRequest_andLingersInsteadOfReadingOn() {
        var h = MachineHarness.make()
        _ = h.readable()
        #expect(h.received("GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").hasPrefix("answerError 400 "))
        #expect(h.answered("400", .refusal) == "write")
        #expect(h.wroteAll() == "linger")
    }

    @Test func answersARequestWhoseClientClosedItsSendingSide_thenCloses() {
        var h = MachineHarness.make()
        #expect(h.readable() == "read")
        #expect(h.received(Self.get, drained: false) == "read")
        #expect(h.send(.endOfStream(now: h.now)) == "route GET /a")
        #expect(h.routed() == "dispatch 0 bytes")
        #expect(h.send(.handlerStarted(parked: false)) == "wait")
        #expect(!h.machine.keepsAlive(after: .answer))
        #expect(h.answered() == "write")
        #expect(h.wroteAll() == "close")
    }

    @Test func closesAnIdleConnection_whenTheClientCloses() {
        var h = MachineHarness.make()
        #expect(h.readable() == "read")
        #expect(h.send(.endOfStream(now: h.now)) == "close")
    }

    @Test func handshakesFirst_overTLS_thenReadsWhatCameWithIt() {
        var h = MachineHarness.make(tls: true)
        #expect(h.machine.phase == .handshake)
        #expect(h.readable() == "handshake")
        #expect(h.send(.handshakeProgressed(now: h.now)) == "wait")
        #expect(h.writable() == "handshake")
        #expect(h.send(.handshakeFinished(now: h.now)) == "read")
        #expect(h.received(Self.get) == "route GET /a")
    }
}
