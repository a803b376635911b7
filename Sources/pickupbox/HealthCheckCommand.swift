#if canImport(Glibc)
import DecimalParsing
import Glibc
#endif
import ArgumentParser
import Foundation

/// `pickupbox healthcheck`: GET /health of a running server, exit 0 on a 200 and 1 otherwise. The
/// Docker image's `HEALTHCHECK` runs it, so the check needs no shell, curl or `/dev/tcp`.
struct HealthCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "healthcheck",
        abstract: "Ask a running server's /health; exit 0 when it answers 200, else 1 (the Docker HEALTHCHECK)."
    )

    @Option(help: "The URL to ask (http only). Default: http://127.0.0.1:$PICKUPBOX_PORT/health (port 8080 when unset)")
    var url: String?

    @Option(help: "Seconds to wait for the answer.")
    var timeout: Double = 3

    func validate() throws {
        if let url, HealthCheckTarget(url: url) == nil { throw ValidationError("--url must look like http://host:port/path") }
        guard timeout > 0 && timeout <= 60 else { throw ValidationError("--timeout must be from 0 to 60 seconds") }
    }

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let target = url.flatMap(HealthCheckTarget.init(url:)) ?? HealthCheckTarget.local(environment: environment)
        switch target.check(timeoutMilliseconds: Int32(timeout * 1000)) {
        case .success(let status) where status == 200:
            print("healthy: \(target.host):\(target.port)\(target.path) answered 200")
        case .success(let status):
            FileHandle.standardError.write(Data("unhealthy: \(target.host):\(target.port)\(target.path) answered \(status)\n".utf8))
            throw ExitCode(1)
        case .failure(let reason):
            FileHandle.standardError.write(Data("unhealthy: \(target.host):\(target.port)\(target.path): \(reason)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// Where the health check asks, and the asking: one HTTP/1.1 request on a plain socket.
struct HealthCheckTarget {
    var host: String
    var port: Int
    var path: String

    /// `http://host[:port][/path]`; IPv6 literals in brackets.
    init?(url: String) {
        guard url.hasPrefix("http://") else { return nil }
        var rest = Substring(url.dropFirst("http://".count))
        let pathStart = rest.firstIndex(of: "/") ?? rest.endIndex
        path = pathStart < rest.endIndex ? String(rest[pathStart...]) : "/health"
        rest = rest[..<pathStart]
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            rest = rest[rest.index(after: close)...]
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            rest = rest[colon...]
        } else {
            host = String(rest)
            rest = ""
        }
        if rest.hasPrefix(":") {
            guard let p = Int(decimal: rest.dropFirst(), allowingSign: true), (1...65535).contains(p) else { return nil }
            port = p
        } else {
            guard rest.isEmpty else { return nil }
            port = 80
        }
        guard !host.isEmpty, path.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
    }

    /// This machine's server as configured: `PICKUPBOX_PORT`, and `PICKUPBOX_HOST` unless it is a wildcard.
    static func local(environment: [String: String]) -> HealthCheckTarget {
        var host = environment["PICKUPBOX_HOST"] ?? "127.0.0.1"
        if host.isEmpty || host == "0.0.0.0" { host = "127.0.0.1" }
        if host == "::" { host = "::1" }
        let port = environment["PICKUPBOX_PORT"].flatMap { Int(decimal: $0, allowingSign: true) }.flatMap { (1...65535).contains($0) ? $0 : nil } ?? 8080
        return HealthCheckTarget(host: host, port: port, path: "/health")
    }

    private init(host: String, port: Int, path: String) {
        self.host = host
        self.port = port
        self.path = path
    }

    /// The status code of the answer, or why there is none.
    func check(timeoutMilliseconds: Int32) -> Result<Int, HealthCheckFailure> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { return .failure(.init("cannot resolve \(host)")) }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(.init("socket: errno \(errno)")) }
        defer { close(fd) }
        var time = timeval(tv_sec: Int(timeoutMilliseconds / 1000), tv_usec: Int(timeoutMilliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else { return .failure(.init("cannot connect (errno \(errno))")) }
        let hostHeader = host.contains(":") ? "[\(host)]" : host
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(hostHeader):\(port)\r\nUser-Agent: pickupbox-healthcheck\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else {
            return .failure(.init("cannot send the request"))
        }
        // The status line is all we need: "HTTP/1.1 200 OK".
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 512)
        while received.count < 4096, !received.contains(UInt8(ascii: "\n")) {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += chunk[0..<n]
        }
        let line = String(decoding: received.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        let parts = line.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(decimal: parts[1], allowingSign: true) else {
            return .failure(.init(received.isEmpty ? "no answer within the time-out" : "not an HTTP answer"))
        }
        return .success(status)
    }
}

struct HealthCheckFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
