#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import Testing
import HTTPServer
import HTTPTestSupport

/// A route's admission through a live server: run with the handler, in one worker job, when the body came
/// with the head; on its own, before a byte of the body is read, when the body comes later.
@Suite("Live server: the admission before the body, and with the handler")
struct AdmissionLiveTests {
    /// What one server's route did.
    final class Counts: Sendable {
        let admissions = Atomic<Int>(0)
        let handlers = Atomic<Int>(0)
    }

    /// - Parameter gate: the admission waits for it (at most 5 s) before it decides.
    static func make(_ counts: Counts, gate: DispatchSemaphore? = nil) throws -> HTTPServer {
        let admission = Admission(
            screen: { $0.headers["Authorization"] == nil ? .error(.unauthorized, code: "no_token", message: "No token.") : nil },
            admit: { request in
                counts.admissions.add(1, ordering: .relaxed)
                _ = gate?.wait(timeout: .now() + 5)
                guard request.headers["Authorization"] == "Bearer good", request.body.isEmpty else {
                    throw HTTPError(.unauthorized, code: "bad_token", message: "Unknown token.")
                }
                return "box-7"
            }
        )
        let route = Route(.POST, "/box", admission: admission) { request in
            counts.handlers.add(1, ordering: .relaxed)
            return .text("\(request.admitted as? String ?? "none") \(String(decoding: request.body, as: UTF8.self))")
        }
        return try TestServer.make(routes: [route])
    }

    static func head(token: String, length: Int = 5) -> String {
        "POST /box HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\nContent-Length: \(length)\r\n\r\n"
    }

    static func waitUntil(_ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(5)
        while !condition() && Date() < deadline { usleep(1_000) }
    }

    @Test func runsTheAdmissionAndTheHandlerInOneWorkerJob_whenTheBodyCameWithTheHead() throws {
        let counts = Counts()
        let server = try Self.make(counts)
        defer { server.shutdown() }
        let client = try TestClient(port: server.port)
        for i in 1...3 {
            let jobs = server.workerJobs
            client.send(Self.head(token: "good") + "hello")
            let reply = try #require(client.readResponse())
            #expect(reply.status == 200)
            #expect(reply.text == "box-7 hello")
            #expect(reply.header("Connection") == nil)
            #expect(server.workerJobs - jobs == 1)
            #expect(counts.admissions.load(ordering: .relaxed) == i)
            #expect(counts.handlers.load(ordering: .relaxed) == i)
        }
    }

    @Test func refusesBeforeTheBody_whenTheBodyComesLater_andReadsItOnceAdmitted() throws {
        let counts = Counts()
        let server = try Self.make(counts)
        defer { server.shutdown() }
        let refused = try TestClient(port: server.port)
        refused.send(Self.head(token: "bad"))
        let refusal = try #require(refused.readResponse())
        #expect(refusal.status == 401)
        #expect(refusal.text.contains("bad_token"))
        #expect(refusal.header("Connection") == "close")
        #expect(refused.isClosedByPeer())
        #expect(counts.handlers.load(ordering: .relaxed) == 0)

        let admitted = try TestClient(port: server.port)
        let jobs = server.workerJobs
        admitted.send(Self.head(token: "good"))
        // The admission decides on the head alone; the body follows it.
        Self.waitUntil { counts.admissions.load(ordering: .relaxed) == 2 }
        admitted.send("hello")
        let reply = try #require(admitted.readResponse())
        #expect(reply.text == "box-7 hello")
        #expect(server.workerJobs - jobs == 2)
        #expect(counts.handlers.load(ordering: .relaxed) == 1)
    }

    @Test func refusesABodyThatCameWithTheHead_asOneThatCameLater_andClosesWithoutRunningTheHandler() throws {
        let counts = Counts()
        let server = try Self.make(counts)
        defer { server.shutdown() }
        let later = try TestClient(port: server.port)
        later.send(Self.head(token: "bad"))
        let expected = try #require(later.readResponse())
        let together = try TestClient(port: server.port)
        together.send(Self.head(token: "bad") + "hello")
        let refusal = try #require(together.readResponse())
        #expect(refusal.status == expected.status)
        #expect(refusal.body == expected.body)
        #expect(refusal.headers.map(\.0) == expected.headers.map(\.0))
        #expect(refusal.header("Connection") == "close")
        #expect(together.isClosedByPeer())
        #expect(counts.admissions.load(ordering: .relaxed) == 2)
        #expect(counts.handlers.load(ordering: .relaxed) == 0)
    }

    @Test func runsNoHandler_whenTheClientResetTheConnectionWhileTheAdmissionDecided() throws {
        let counts = Counts()
        let gate = DispatchSemaphore(value: 0)
        let server = try Self.make(counts, gate: gate)
        defer { server.shutdown() }
        do {
            let client = try TestClient(port: server.port)
            // Closing with a zero linger time resets the connection.
            var reset = linger(l_onoff: 1, l_linger: 0)
            setsockopt(client.fd, SOL_SOCKET, SO_LINGER, &reset, socklen_t(MemoryLayout<linger>.size))
            client.send(Self.head(token: "good") + "hello")
            Self.waitUntil { counts.admissions.load(ordering: .relaxed) == 1 }
        }
        Self.waitUntil { server.openConnections == 0 }
        #expect(server.openConnections == 0)
        gate.signal()
        Self.waitUntil { server.busyWorkers == 0 }
        #expect(counts.admissions.load(ordering: .relaxed) == 1)
        #expect(counts.handlers.load(ordering: .relaxed) == 0)
    }
}
