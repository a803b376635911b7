#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import Testing
@testable import HTTPServer
import HTTPTestSupport

/// What a handler on an event loop can use of its loop (`EventLoopContext`): watching a descriptor of its
/// own, per-loop objects, coming back from another thread, and answering `.asynchronous` requests.
@Suite("Event loop context")
struct EventLoopContextTests {
    /// Reads one line from a pipe when the loop says it is readable, answers with it, and stops watching.
    final class PipeReader: LoopWatcher {
        let fd: Int32
        let context: EventLoopContext
        let responder: Responder
        var rounds = 0

        init(fd: Int32, context: EventLoopContext, responder: Responder) {
            self.fd = fd
            self.context = context
            self.responder = responder
        }

        func descriptorReady(readable: Bool, writable: Bool, failed: Bool) {
            var buffer = [UInt8](repeating: 0, count: 64)
            let n = read(fd, &buffer, buffer.count)
            context.unwatch(fd)
            close(fd)
            let onLoop = EventLoopContext.current === context
            responder.respond(.text("\(String(decoding: buffer.prefix(max(n, 0)), as: UTF8.self)) on loop \(onLoop)"))
        }
        func roundEnded() { rounds += 1 }
        func sweep(now: UInt64) {}
        func loopStopped() { close(fd) }
    }

    /// A per-loop object.
    final class Counter { var count = 0 }

    @Test func aWatchedDescriptor_answersOnTheLoop_withoutAWorker() throws {
        let routes = [
            Route(.GET, "/pipe", execution: .eventLoop, handler: .asynchronous { request, responder in
                var fds: [Int32] = [0, 0]
                guard let context = EventLoopContext.current, pipe(&fds) == 0 else { return responder.respond(.text("no loop or no pipe")) }
                try context.watch(fds[0], writable: false, PipeReader(fd: fds[0], context: context, responder: responder))
                let writer = fds[1], word = (try? request.queryParameters()["word"]) ?? "?"
                Thread.detachNewThread {
                    usleep(20_000)
                    _ = Array(word.utf8).withUnsafeBytes { write(writer, $0.baseAddress, $0.count) }
                    close(writer)
                }
            }),
            Route(.GET, "/count", execution: .eventLoop) { _ in
                let counter = EventLoopContext.current?.attachment(Counter.self) { Counter() }
                counter.map { $0.count += 1 }
                return .text("\(counter?.count ?? -1)")
            },
            Route(.GET, "/worker") { _ in .text(EventLoopContext.current == nil ? "no loop" : "a loop") },
        ]
        let server = try TestServer.make(routes: routes) { c in c.workerThreads = 1 }
        defer { server.shutdown() }
        let client = try TestClient(port: server.port)
        #expect(client.request("GET", "/pipe?word=hallo")?.text == "hallo on loop true")
        #expect(client.request("GET", "/pipe?word=again")?.text == "again on loop true")
        // One connection stays on one loop: its object counts on.
        #expect(client.request("GET", "/count")?.text == "1")
        #expect(client.request("GET", "/count")?.text == "2")
        // A worker is no loop.
        #expect(client.request("GET", "/worker")?.text == "no loop")
    }

    @Test func anAsynchronousAnswer_reachesAClientThatClosedItsSendingSide() throws {
        let routes = [
            Route(.GET, "/later", execution: .eventLoop, handler: .asynchronous { _, responder in
                guard let handle = EventLoopContext.current?.handle else { return responder.respond(.text("no loop")) }
                Thread.detachNewThread {
                    usleep(50_000)
                    handle.perform { context in
                        responder.respond(.text("later on loop \(EventLoopContext.current === context)"))
                    }
                }
            }),
            Route(.GET, "/parked", handler: .deferred { _, _ in }),
        ]
        let server = try TestServer.make(routes: routes)
        defer { server.shutdown() }
        let client = try TestClient(port: server.port)
        client.send("GET /later HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        shutdown(client.fd, Int32(SHUT_WR))
        let text = String(decoding: client.readToEnd(), as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 200"))
        #expect(text.hasSuffix("later on loop true"))
        // A long poll's client that closes its side is gone: no answer, the connection closes.
        let parked = try TestClient(port: server.port)
        parked.send("GET /parked HTTP/1.1\r\nHost: x\r\n\r\n")
        shutdown(parked.fd, Int32(SHUT_WR))
        #expect(parked.readToEnd().isEmpty)
    }

    /// Something a task holds, that says when it is released.
    final class Counted: Sendable {
        let value = Mutex(0)
        var count: Int { value.withLock { $0 } }
    }

    final class Held: Sendable {
        let counter: Counted
        init(_ counter: Counted) { self.counter = counter }
        deinit { counter.value.withLock { $0 += 1 } }
    }

    /// A started server, and a handle of the loop that answered a request on it. The route hands the
    /// handle over and keeps none (one kept there would hold the loop through the server's routes).
    static func serverAndLoopHandle() throws -> (HTTPServer, EventLoopHandle) {
        let handles = Mutex<[EventLoopHandle]>([])
        let routes = [Route(.GET, "/handle", execution: .eventLoop) { _ in
            if let handle = EventLoopContext.current?.handle { handles.withLock { $0.append(handle) } }
            return .text("ok")
        }]
        let server = try TestServer.make(routes: routes)
        #expect(try TestClient(port: server.port).request("GET", "/handle")?.text == "ok")
        return (server, try #require(handles.withLock { $0.popLast() }))
    }

    @Test func workHandedToAStoppedLoop_isDropped_andWhatItHeldIsReleased() throws {
        let (server, handle) = try Self.serverAndLoopHandle()
        server.shutdown()
        let ran = Atomic<Int>(0)
        let counter = Counted()
        do {
            let held = Held(counter)
            handle.perform { _ in _ = held; ran.add(1, ordering: .relaxed) }
        }
        #expect(ran.load(ordering: .relaxed) == 0)
        #expect(counter.count == 1)
    }

    /// Other threads wake a loop by writing to its eventfd outside the task queue's lock, so the eventfd
    /// lives as long as the loop object: work handed over while the loop stops either runs or is dropped
    /// (a write to a closed descriptor would trap in `closeDescriptor`'s check later, or reach a reused
    /// one), and the loop, with its eventfd, goes with the server.
    @Test func workHandedOverWhileALoopStops_isSafe_andTheLoopGoesWithTheServer() throws {
        weak var loop: EventLoop?
        weak var wake: WakeDescriptor?
        do {
            let (server, handle) = try Self.serverAndLoopHandle()
            loop = handle.loop
            wake = handle.loop.wake
            let ran = Atomic<Int>(0)
            let senders = (0..<4).map { _ in
                Thread { for _ in 0..<2_000 { handle.perform { _ in ran.add(1, ordering: .relaxed) } } }
            }
            senders.forEach { $0.start() }
            usleep(1_000)
            server.shutdown()
            for _ in 0..<2_000 { handle.perform { _ in ran.add(1, ordering: .relaxed) } }
            while senders.contains(where: { !$0.isFinished }) { usleep(1_000) }
            #expect(ran.load(ordering: .relaxed) <= 8_000)
        }
        for _ in 0..<1_000 where loop != nil || wake != nil { usleep(2_000) }
        #expect(loop == nil)
        #expect(wake == nil, "the eventfd closed with its loop")
    }
}
