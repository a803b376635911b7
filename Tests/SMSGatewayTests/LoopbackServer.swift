import Foundation
import Glibc
import Synchronization

/// A real HTTP/1.1 server on 127.0.0.1 (port 0) for the tests: blocking sockets, one thread per connection,
/// scripted replies (one per request, in order; the last one repeats), and a record of every request.
/// Every socket has a receive time-out, so a forgotten server stops by itself.
final class LoopbackServer: @unchecked Sendable {
    // @unchecked Sendable: the mutable state lives in `state` (a Mutex); the fds are set once in init.

    enum Reply: Sendable {
        /// A complete response, written with one send.
        case respond(status: Int, headers: [(String, String)] = [], body: [UInt8] = [])
        /// Read the request, never answer; hold the connection until the client gives up.
        case hang
        /// Send `bytes` of body in 64 KiB chunks, announced by Content-Length or delimited by closing.
        case stream(bytes: Int, announceLength: Bool)
    }

    struct Request: Sendable {
        var method: String
        var path: String
        var headers: [(String, String)]
        var body: [UInt8]
        var connection: Int

        func header(_ name: String) -> String? { headers.first { $0.0 == name.lowercased() }?.1 }
        var bodyText: String { String(decoding: body, as: UTF8.self) }
        var jsonBody: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
        var formBody: [String: String] {
            var result: [String: String] = [:]
            for pair in bodyText.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map {
                    String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
                }
                result[parts[0]] = parts.count > 1 ? parts[1] : ""
            }
            return result
        }
    }

    private struct State {
        var replies: [Reply]
        var requests: [Request] = []
        var connections = 0
        var openFDs: Set<Int32> = []
        var bytesStreamed = 0
        var stopped = false
        /// The accept loop has closed the listener: its number may belong to someone else now.
        var listenerClosed = false
    }

    let port: Int
    private let listenFD: Int32
    private let state: Mutex<State>

    init(_ replies: [Reply]) throws {
        precondition(!replies.isEmpty)
        signal(SIGPIPE, SIG_IGN)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0, listen(fd, 16) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.port = Int(UInt16(bigEndian: address.sin_port))
        self.listenFD = fd
        self.state = Mutex(State(replies: replies))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    deinit { stop() }

    var url: String { "http://127.0.0.1:\(port)" }
    var requests: [Request] { state.withLock { $0.requests } }
    var connectionCount: Int { state.withLock { $0.connections } }
    var bytesStreamed: Int { state.withLock { $0.bytesStreamed } }

    /// Shuts the listener and every open connection down; the threads that use them end on their next
    /// socket call and close them. Nothing is closed here: a descriptor number closed while another thread
    /// still used it was reused by other tests' sockets (an accept on it stole their connections).
    func stop() {
        state.withLock { state in
            guard !state.stopped else { return }
            state.stopped = true
            // Under the lock: a connection still in the set is not closed yet, so its number is its own.
            if !state.listenerClosed { shutdown(listenFD, Int32(SHUT_RDWR)) }
            for fd in state.openFDs { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    private func acceptLoop() {
        defer {
            state.withLock { state in
                state.listenerClosed = true
                close(listenFD)
            }
        }
        while true {
            let fd = accept(listenFD, nil, nil)
            guard fd >= 0 else {
                if errno == EINTR { continue }
                return
            }
            var yes: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let connection: Int? = state.withLock { state in
                guard !state.stopped else { return nil }
                state.connections += 1
                state.openFDs.insert(fd)
                return state.connections
            }
            guard let connection else { close(fd); return }
            Thread.detachNewThread { [self] in
                serve(fd: fd, connection: connection)
                state.withLock { _ = $0.openFDs.remove(fd) }
                close(fd)
            }
        }
    }

    private func serve(fd: Int32, connection: Int) {
        var buffer: [UInt8] = []
        while let request = readRequest(fd: fd, buffer: &buffer, connection: connection) {
            let reply: Reply = state.withLock { state in
                state.requests.append(request)
                return state.replies.count > 1 ? state.replies.removeFirst() : state.replies[0]
            }
            switch reply {
            case .respond(let status, let headers, let body):
                var head = "HTTP/1.1 \(status) Status\r\nContent-Length: \(body.count)\r\n"
                for (name, value) in headers { head += "\(name): \(value)\r\n" }
                guard sendAll(fd, Array((head + "\r\n").utf8) + body) else { return }
            case .hang:
                var scratch = [UInt8](repeating: 0, count: 512)
                while recv(fd, &scratch, scratch.count, 0) > 0 {}  // until the client closes (or 10 s pass)
                return
            case .stream(let total, let announceLength):
                var head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                head += announceLength ? "Content-Length: \(total)\r\n\r\n" : "Connection: close\r\n\r\n"
                guard sendAll(fd, Array(head.utf8)) else { return }
                let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 64 * 1024)
                var sent = 0
                while sent < total {
                    let piece = Array(chunk.prefix(total - sent))
                    guard sendAll(fd, piece) else { return }
                    sent += piece.count
                    state.withLock { $0.bytesStreamed += piece.count }
                }
                return
            }
        }
    }

    private func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }

    /// Reads one request (head up to 16 KiB, body by Content-Length); nil when the peer closed.
    private func readRequest(fd: Int32, buffer: inout [UInt8], connection: Int) -> Request? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var scratch = [UInt8](repeating: 0, count: 16 * 1024)
        func fill() -> Bool {
            let count = recv(fd, &scratch, scratch.count, 0)
            guard count > 0 else { return false }
            buffer.append(contentsOf: scratch[..<count])
            return true
        }
        var headEnd: Int?
        while headEnd == nil {
            headEnd = buffer.indices.dropLast(3).first { Array(buffer[$0..<$0 + 4]) == separator }
            if headEnd == nil { guard buffer.count < 16 * 1024, fill() else { return nil } }
        }
        let head = String(decoding: buffer[..<headEnd!], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        let headers: [(String, String)] = lines.compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = Int(headers.first { $0.0 == "content-length" }?.1 ?? "0") ?? 0
        let bodyStart = headEnd! + 4
        while buffer.count < bodyStart + length { guard fill() else { return nil } }
        let body = Array(buffer[bodyStart..<bodyStart + length])
        buffer.removeFirst(bodyStart + length)
        return Request(method: String(requestLine[0]), path: String(requestLine[1]), headers: headers, body: body, connection: connection)
    }
}
