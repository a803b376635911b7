#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import Synchronization
import Testing
@testable import HTTPServer
import HTTPTestSupport

@Suite("Live server on a loopback port")
struct LiveServerTests {
    static let echo: [Route] = [
        Route(.GET, "/hello", execution: .eventLoop) { _ in .text("hello") },
        Route(.POST, "/echo") { req in Response(status: .ok, headers: ["Content-Type": "application/octet-stream"], body: req.body) },
        Route(.POST, "/small", maxBodyBytes: 10) { req in .text("\(req.body.count)") },
        Route(.GET, "/items/{id}") { req in .text("item \(req.parameter("id"))") },
        Route(.GET, "/slow") { _ in usleep(300_000); return .text("slow") },
        Route(.GET, "/fail") { _ in throw NSError(domain: "secret-detail", code: 1) },
        Route(.GET, "/teapot") { _ in throw HTTPError(.conflict, code: "illegal_transition", message: "No.", field: "state") },
    ]

    @Test func keepsConnectionAliveAcrossRequests() throws {
        let server = try TestServer.make(routes: Self.echo)
        defer { server.shutdown() }
        let client = try TestClient(port: server.port)
        for i in 0..<20 {
            let reply = try #require(client.request("GET", "/items/\(i)"))
            #expect(reply.status == 200)
            #expect(reply.text == "item \(i)")
            #expect(reply.header("Connection") == nil)
        }
    }

    @Test func answersPipelinedRequestsInOrder() throws {
        let server = try TestServer.make(routes: Self.echo)
        defer { server.shutdown() }
        let client = try TestClient(port: server.port)
        var burst = ""
        for i in 0..<10 { burst += "GET /items/\(i) HTTP/1.1\r\nHost: x\r\n\r\n" }
        burst += "GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
        client.send(burst)
        for i in 0..<10 { #expect(client.readResponse()?.text == "item \(i)") }
        #expect(client.readResponse()?.text == "slow")
        #expect(client.readResponse()?.text == "hello")
    }

    @Test func addsDateLengthAndSecurityHeaders_withoutServerVersion() throws {
        let server = try TestServer.make(routes: Self.echo)
        defer { server.shutdown() }
        let client = try TestClient(port: server.port)
        let reply = try #require(client.request("GET", "/hello", headers: ["X-Request-Id: abc-123"]))
        #expect(reply.header("Date")?.hasSuffix("GMT") == true)
        #expect(reply.header("Content-Length") == "5")
        #expect(reply.header("X-Content-Type-Options") == "nosniff")
        #expect(reply.header("Referrer-Policy") == "no-referrer")
        #expect(reply.header("Cache-Control") == "no-store")
        #expect(reply.header("X-Request-Id") == "abc-123")
        #expect(reply.header("Server") == nil)
        let generated = try #require(client.request("GET", "/hello", headers: ["X-Request-Id: bad id\u{1}"]))
        #expect(generated.header("X-Request-Id")?.isEmpty == false)
        #expect(generated.header("X-Request-Id") != "bad id")
    }

    @Test func readsContentLengthAndChunkedBodies() throws {
        let server = try TestServer.make(routes: Self.echo)
        defer { server.shutdown() }
        let client = try TestClient(port: server.port)
        #expect(client.request("POST", "/echo", body: "abc")?.text == "abc")
        client.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
        #expect(client.readResponse()?.text == "abcde")
    }

    @Test func sends100Continue_beforeTheBody() throws {
        let server = try TestServer.make(routes: Self.echo)
        defer { server.shutdown() }
        let client = try TestClient(port: server.port)
        client.send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        #expect(client.readResponse()?.status == 100)
        client.send("body")
        #expect(client.readResponse()?.text == "body")
    }

    @Test func refusesExpect100Continue_withTooLargeBody_withoutReadingIt() throws {
        let server = try TestServer.make(routes: Self.echo)
        defer { server.shutdown() }
        let client = try TestClient(port: server.port)
        client.send("POST /small HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n")
        let reply = try #require(client.readResponse())
        #expect(reply.status == 413)
        #expect(reply.text.contains("\"error\":\"body_too_large\""))
        #expect(client.isClosedByPeer())
    }

    @Test func answersHeadWithoutBody() throws {
        let server = try TestServer.make(routes: Self.echo)
        defer { server.shutdown() }
        let client = try TestClient(port: server.port)
        let reply = try #require(client.request("HEAD", "/hello"))
        #expect(reply.status == 200)
        #expect(reply.header("Content-Length") == "5")
        #expect(reply.body.isEmpty)
        // The connection is still in sync.
        #expect(client.request("GET", "/hello")?.text == "hello")
    }

    @Test func closesAfterConnectionClose_andServesHTTP10() throws {
        let server = try TestServer.make(routes: Self.echo)
        defer { server.shutdown() }
        let a = try TestClient(port: server.port)
        let reply = try #require(a.request("GET", "/hello", headers: ["Connection: close"]))
        #expect(reply.header("Connection") == "close")
        #expect(a.isClosedByPeer())

        let b = try TestClient(port: server.port)
        b.send("GET /hello HTTP/1.0\r\n\r\n")
        let r10 = try #require(b.readResponse())
        #expect(r10.text == "hello")
        #expect(b.isClosedByPeer())

        let c = try TestClient(port: server.port)
        c.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(c.readResponse()?.header("Connection") == "keep-alive")
        c.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(c.readResponse()?.text == "hello")
    }

    @Test func answers404And405WithAllow_asJSON() throws {
        let server = try TestServer.make(routes: Self.echo)
        defer { server.shutdown() }
        let client = try TestClient(port: server.port)
        let missing = try #require(client.request("GET", "/nothing"))
        #expect(missing.status == 404)
        #expect(missing.header("Content-Type") == "application/json")
        #expect(missing.text == #"{"error":"not_found","message":"No such resource."}"#)
        let wrong = try #require(client.request("DELETE", "/hello"))
        #expect(wrong.status == 405)
        #expect(wrong.header("Allow") == "GET, HEAD")
    }

    @Test func rendersThrownErrors_opaque500AndTypedErrors() throws {
        let server = try TestServer.make(routes: Self.echo)
        defer { server.shutdown() }
        let client = try TestClient(port: server.port)
        let fail = try #require(client.request("GET", "/fail"))
        #expect(fail.status == 500)
        #expect(!fail.text.contains("secret-detail"))
        #expect(fail.text.contains("internal_error"))
        let typed = try #require(client.request("GET", "/teapot"))
        #expect(typed.status == 409)
        #expect(typed.text == #"{"error":"illegal_transition","message":"No.","field":"state"}"#)
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
        ("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc", 400),
        ("GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("BREW / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    ])
    func answersMalformedRequestWithJSONErrorAndCloses(_ testCase: (String, Int)) throws {
        let server = try TestServer.make(routes: Self.echo)
        defer { server.shutdown() }
        let client = try TestClient(port: server.port)
        client.send(testCase.0)
        let reply = try #require(client.readResponse())
        #expect(reply.status == testCase.1)
        #expect(reply.header("Content-Type") == "application/json")
        #expect(reply.header("Connection") == "close")
        #expect(client.isClosedByPeer())
        // The server is still fine.
        #expect(try TestClient(port: server.port).request("GET", "/hello")?.status == 200)
    }

    @Test func enforcesRequestLineHeaderAndBodyLimits() throws {
        let server = try TestServer.make(routes: Self.echo) { c in
            c.maxBodyBytes = 64
        }
        defer { server.shutdown() }
        let a = try TestClient(port: server.port)
        a.send("GET /" + String(repeating: "x", count: 9000) + " HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(a.readResponse()?.status == 414)
        let b = try TestClient(port: server.port)
        b.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "y", count: 17000) + "\r\n\r\n")
        #expect(b.readResponse()?.status == 431)
        let c = try TestClient(port: server.port)
        #expect(c.request("POST", "/echo", body: String(repeating: "z", count: 65))?.status == 413)
        let d = try TestClient(port: server.port)
        #expect(d.request("POST", "/echo", body: String(repeating: "z", count: 64))?.status == 200)
        let e = try TestClient(port: server.port)
        #expect(e.request("POST", "/small", body: String(repeating: "z", count: 11))?.status == 413)
    }

    @Test func timesOutSlowHeaders_slowBodies_andIdleConnections() throws {
        let server = try TestServer.make(routes: Self.echo) { c in
            c.headerTimeout = .milliseconds(300)
            c.bodyIdleTimeout = .milliseconds(300)
            c.keepAliveTimeout = .milliseconds(400)
        }
        defer { server.shutdown() }
        // Slowloris: a header block that never completes.
        let slow = try TestClient(port: server.port)
        slow.send("GET /hello HTTP/1.1\r\nHost: x\r\n")
        let started = Date()
        let reply = slow.readResponse()
        #expect(reply?.status == 408)
        #expect(slow.isClosedByPeer())
        #expect(Date().timeIntervalSince(started) < 2)
        // Trickling header bytes does not extend the header deadline.
        let trickle = try TestClient(port: server.port)
        trickle.send("GET /hello HTTP/1.1\r\n")
        for _ in 0..<5 { usleep(100_000); trickle.send("X: y\r\n") }
        #expect(trickle.readResponse()?.status == 408)
        // A body that stalls.
        let body = try TestClient(port: server.port)
        body.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        #expect(body.readResponse()?.status == 408)
        // An idle keep-alive connection is closed quietly.
        let idle = try TestClient(port: server.port)
        #expect(idle.request("GET", "/hello")?.status == 200)
        #expect(idle.isClosedByPeer())
    }

    @Test func timesOutABodyThatTricklesPastItsDeadline_thoughEachByteComesInTime() throws {
        let server = try TestServer.make(routes: Self.echo) { c in
            c.bodyIdleTimeout = .milliseconds(400)
            c.bodyTimeout = .milliseconds(900)
        }
        defer { server.shutdown() }
        let client = try TestClient(port: server.port)
        client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
        let started = Date()
        // The sender has its own descriptor of the socket: the client's number is free for reuse once
        // the test ends, and bytes sent to a reused number landed in another test's connection.
        let fd = dup(client.fd)
        // One byte every 150 ms: never idle long enough for the idle time-out.
        Thread.detachNewThread {
            defer { Glibc.close(fd) }
            for _ in 0..<40 {
                usleep(150_000)
                var byte: UInt8 = 120
                if Glibc.send(fd, &byte, 1, Int32(MSG_NOSIGNAL)) != 1 { return }
            }
        }
        let reply = client.readResponse()
        #expect(reply?.status == 408)
        #expect(reply?.text.contains("\"error\":\"request_timeout\"") == true)
        #expect(Date().timeIntervalSince(started) < 2.5)
        #expect(client.isClosedByPeer())
    }

    @Test func refusesConnectionsOverThePerAddressCap_butNotFromOtherOrExemptAddresses() throws {
        let server = try TestServer.make(routes: Self.echo) { c in
            c.maxConnectionsPerAddress = 3
            c.isExemptFromAddressLimit = { $0 == "127.0.0.3" }
        }
        defer { server.shutdown() }
        var held = try (0..<3).map { _ in try TestClient(port: server.port) }
        for c in held { #expect(c.request("GET", "/hello")?.status == 200) }
        let extra = try TestClient(port: server.port)
        let reply = extra.readResponse()
        #expect(reply?.status == 429)
        #expect(reply?.header("Retry-After") != nil)
        #expect(reply?.text.contains("\"error\":\"too_many_connections\"") == true)
        #expect(extra.isClosedByPeer())
        // Another address is not affected, and an exempt one (a trusted proxy) has no cap.
        #expect(try TestClient(port: server.port, source: "127.0.0.2").request("GET", "/hello")?.status == 200)
        let proxied = try (0..<5).map { _ in try TestClient(port: server.port, source: "127.0.0.3") }
        for c in proxied { #expect(c.request("GET", "/hello")?.status == 200) }
        // A closed connection frees its place.
        held.removeLast()
        #expect(Eventually.until { (try? TestClient(port: server.port).request("GET", "/hello")?.status) == 200 })
        for c in held { #expect(c.request("GET", "/hello")?.status == 200) }
    }

    @Test func slowClientsDoNotHoldWorkers() throws {
        let server = try TestServer.make(routes: Self.echo) { c in
            c.workerThreads = 1
        }
        defer { server.shutdown() }
        var slowClients: [TestClient] = []
        for _ in 0..<50 {
            let c = try TestClient(port: server.port)
            c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
            slowClients.append(c)
        }
        let fast = try TestClient(port: server.port)
        #expect(fast.request("POST", "/echo", body: "quick")?.text == "quick")
        // The worker answers before it counts itself free: wait for that, not for a slow client (which never ends).
        #expect(Eventually.until { server.busyWorkers == 0 })
    }

    @Test func refusesConnectionsOverTheCap_whileExistingOnesKeepWorking() throws {
        let server = try TestServer.make(routes: Self.echo) { c in
            c.maxConnections = 3
        }
        defer { server.shutdown() }
        let held = try (0..<3).map { _ in try TestClient(port: server.port) }
        for c in held { #expect(c.request("GET", "/hello")?.status == 200) }
        let extra = try TestClient(port: server.port)
        let reply = extra.readResponse()
        #expect(reply?.status == 503)
        #expect(extra.isClosedByPeer())
        #expect(server.rejectedConnections >= 1)
        for c in held { #expect(c.request("GET", "/hello")?.status == 200) }
    }

    @Test func shedsLoadWith503_whenTheWorkerQueueIsFull() throws {
        let gate = DispatchSemaphore(value: 0)
        let routes = [Route(.GET, "/block") { _ in gate.wait(); return .text("done") }]
        let server = try TestServer.make(routes: routes) { c in
            c.workerThreads = 1
            c.maxQueuedRequests = 1
        }
        defer { server.shutdown() }
        // Waited for by the server's own counters, not by sleeping: a busy machine may take longer.
        let a = try TestClient(port: server.port)
        a.send("GET /block HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(Eventually.until(seconds: 30) { server.busyWorkers == 1 })
        let b = try TestClient(port: server.port)
        b.send("GET /block HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(Eventually.until(seconds: 30) { server.queuedRequests == 1 })
        let c = try TestClient(port: server.port)
        let shed = try #require(c.request("GET", "/block"))
        #expect(shed.status == 503)
        #expect(shed.header("Retry-After") == "1")
        gate.signal()
        gate.signal()
        #expect(a.readResponse()?.text == "done")
        #expect(b.readResponse()?.text == "done")
    }

    @Test func answersDeferredResponseFromAnotherThread_withoutHoldingAWorker() throws {
        let held = Mutex<[Responder]>([])
        let cancelled = Atomic<Int>(0)
        let routes = [
            Route(.GET, "/wait", handler: .deferred { _, responder in
                responder.onCancel { cancelled.add(1, ordering: .relaxed) }
                held.withLock { $0.append(responder) }
            }),
            Route(.GET, "/hello") { _ in .text("hello") },
        ]
        let server = try TestServer.make(routes: routes) { c in c.workerThreads = 1 }
        defer { server.shutdown() }
        var waiterIndex = 0
        let waiters = try (0..<5).map { _ -> TestClient in
            let c = try TestClient(port: server.port)
            c.send("GET /wait?n=\(waiterIndex) HTTP/1.1\r\nHost: x\r\n\r\n")
            waiterIndex += 1
            return c
        }
        // Five parked requests and the single worker is still free.
        let other = try TestClient(port: server.port)
        #expect(other.request("GET", "/hello")?.text == "hello")
        while held.withLock({ $0.count }) < 5 { usleep(1000) }
        let responders = held.withLock { $0 }
        Thread.detachNewThread {
            for r in responders { r.respond(.text("late \((try? r.request.queryParameters()["n"]) ?? "?")")) }
        }
        for (i, c) in waiters.enumerated() {
            #expect(c.readResponse()?.text == "late \(i)")
        }
        // A second answer is ignored; a closed client cancels.
        responders[0].respond(.text("again"))
        let gone = try TestClient(port: server.port)
        gone.send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
        while held.withLock({ $0.count }) < 6 { usleep(1000) }
        shutdown(gone.fd, Int32(SHUT_RDWR))
        let deadline = Date().addingTimeInterval(2)
        while cancelled.load(ordering: .relaxed) < 1 && Date() < deadline { usleep(5000) }
        // Half-closed is answered still; a reset connection is cancelled by the loop at the latest on write.
        held.withLock { $0.last?.respond(.text("x")) }
        #expect(waiters[0].request("GET", "/hello")?.text == "hello")
    }

    @Test func drainsGracefully_finishingInFlightRequests() throws {
        let server = try TestServer.make(routes: Self.echo)
        let busy = try TestClient(port: server.port)
        busy.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        let idle = try TestClient(port: server.port)
        #expect(idle.request("GET", "/hello")?.status == 200)
        // The slow request is in flight (a worker has it) before the drain starts.
        #expect(Eventually.until { server.busyWorkers == 1 })
        let started = Date()
        server.shutdown()
        #expect(Date().timeIntervalSince(started) < 5)
        let reply = try #require(busy.readResponse())
        #expect(reply.text == "slow")
        #expect(reply.header("Connection") == "close")
        #expect(idle.isClosedByPeer())
        #expect(throws: SystemError.self) { _ = try TestClient(port: server.port) }
    }

    @Test func shutdownForceClosesAfterTimeout() throws {
        let routes = [Route(.GET, "/never", handler: .deferred { _, _ in })]
        let server = try TestServer.make(routes: routes) { c in c.shutdownTimeout = .milliseconds(300) }
        let client = try TestClient(port: server.port)
        client.send("GET /never HTTP/1.1\r\nHost: x\r\n\r\n")
        usleep(50_000)
        let started = Date()
        server.shutdown()
        #expect(Date().timeIntervalSince(started) < 3)
        #expect(client.isClosedByPeer())
    }

    @Test func listensOnIPv6Loopback() throws {
        let server = try TestServer.make(routes: Self.echo) { c in c.host = "::1" }
        defer { server.shutdown() }
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in6()
        addr.sin6_family = sa_family_t(AF_INET6)
        addr.sin6_port = in_port_t(UInt16(server.port)).bigEndian
        inet_pton(AF_INET6, "::1", &addr.sin6_addr)
        let r = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        #expect(r == 0)
        let req = Array("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)
        _ = req.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var buf = [UInt8](repeating: 0, count: 4096)
        var total: [UInt8] = []
        while true { let n = recv(fd, &buf, buf.count, 0); if n <= 0 { break }; total += buf[0..<n] }
        #expect(String(decoding: total, as: UTF8.self).hasSuffix("hello"))
    }

    @Test func refusesAnInvalidListenAddress() {
        var config = ServerConfiguration()
        config.host = "not-an-address"
        config.port = 0
        let server = HTTPServer(configuration: config, router: Router([]), logger: .init(label: "t"))
        #expect(throws: ServerError.self) { try server.start() }
    }
}

/// Polls a condition for a few seconds (tests only).
enum Eventually {
    static func until(seconds: Double = 5, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }
}
