import Testing
@testable import HTTPServer

/// A body that came with its head: the route's admission runs with the handler, in one step for the loop
/// (`admissionWithHandler` → `admitAndDispatch`); every other body waits for the admission as before.
@Suite("Connection state machine: the admission with the handler, for a body that came with its head")
struct ConnectionStateMachineAdmissionTests {
    static let post = "POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"

    /// Head and body read; the route is known and has an admission.
    static func bodyWithHead(_ text: String = post + "hello") -> MachineHarness {
        var h = MachineHarness.make()
        _ = h.readable()
        #expect(h.received(text) == "route POST /u")
        #expect(h.routed() == "decideAccess")
        return h
    }

    @Test func takesTheBody_andRunsAdmissionAndHandlerInOneStep_whenTheBodyCameWithTheHead() {
        var h = Self.bodyWithHead()
        #expect(h.machine.bodyArrivedWithHead)
        #expect(h.send(.admissionWithHandler(now: h.now)) == "admitAndDispatch 5 bytes")
        #expect(h.machine.phase == .admittingWithBody)
        #expect(h.machine.input.isEmpty)
        #expect(h.send(.handlerStarted(parked: false)) == "wait")
        // Nothing more is read while the admission decides, and no time-out applies.
        #expect(h.readable() == "wait")
        #expect(h.timer(after: 10_000) == "wait")
        #expect(h.machine.keepsAlive(after: .answer))
        #expect(h.answered() == "write")
        #expect(h.wroteAll() == "read")
        #expect(h.machine.phase == .idle)
        #expect(h.machine.sequence == 1)
    }

    @Test func closesAndLingers_whenTheAdmissionWithTheHandlerRefuses() {
        var h = Self.bodyWithHead()
        #expect(h.send(.admissionWithHandler(now: h.now)) == "admitAndDispatch 5 bytes")
        #expect(h.send(.handlerStarted(parked: false)) == "wait")
        #expect(!h.machine.keepsAlive(after: .refusal))
        #expect(h.answered("401", .refusal) == "write")
        #expect(h.wroteAll() == "linger")
        #expect(h.machine.phase == .lingering)
    }

    @Test func answersThePipelinedNextRequest_onlyAfterTheFirstAnswerIsWritten() {
        var h = Self.bodyWithHead(Self.post + "hello" + "GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(h.machine.bodyArrivedWithHead)
        #expect(h.send(.admissionWithHandler(now: h.now)) == "admitAndDispatch 5 bytes")
        #expect(h.send(.handlerStarted(parked: false)) == "wait")
        #expect(h.machine.input.count > 0, "the second request waits unparsed")
        #expect(h.answered("A") == "write")
        #expect(h.wroteAll() == "route GET /b")
    }

    @Test func answersAndThenCloses_whenTheClientClosedItsSideMeanwhile() {
        var h = Self.bodyWithHead()
        #expect(h.send(.admissionWithHandler(now: h.now)) == "admitAndDispatch 5 bytes")
        #expect(h.send(.handlerStarted(parked: false)) == "wait")
        #expect(h.send(.endOfStream(now: h.now)) == "wait")
        #expect(!h.machine.keepsAlive(after: .answer))
        #expect(h.answered() == "write")
        #expect(h.wroteAll() == "close")
    }

    @Test(arguments: [
        // Part of the body is still to come.
        post + "hel",
        // The client waits for "100 Continue" (even one that sent the body anyway).
        "POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello",
        // Chunked: its end is known only once it is parsed.
        "POST /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    ])
    func waitsForTheAdmission_whenTheBodyDidNotComeWholeWithItsHead_orWithoutContentLength(_ text: String) {
        let h = Self.bodyWithHead(text)
        #expect(!h.machine.bodyArrivedWithHead)
    }

    @Test func readsTheBodyAsBefore_afterTheAdmissionAlone() {
        var h = Self.bodyWithHead(Self.post + "hel")
        #expect(h.send(.admissionStarted) == "wait")
        #expect(h.machine.phase == .admitting)
        #expect(h.send(.accessGranted(now: h.now)) == "wait")
        #expect(h.readable() == "read")
        #expect(h.received("lo") == "dispatch 5 bytes")
    }
}
