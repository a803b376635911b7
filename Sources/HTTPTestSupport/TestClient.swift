#if canImport(Glibc)
import DecimalParsing
import Glibc
#endif
import COpenSSL
import Foundation
import HTTPServer

/// A blocking loopback client (tests only) that speaks raw bytes, so tests can send exactly what they mean —
/// in plain HTTP, or over TLS (optionally with a client certificate) for the TLS listener's tests.
public final class TestClient {
    public let fd: Int32
    /// The TLS connection and its context, when the client speaks TLS (freed in deinit).
    private var tlsContext: OpaquePointer?
    private var ssl: OpaquePointer?

    /// How to speak TLS: the CAs to trust for the server, and a client certificate to present.
    public struct TLS {
        public var caFile: String
        public var certificateFile: String?
        public var keyFile: String?
        /// Sent as SNI and checked against the server certificate.
        public var serverName: String
        /// Offer TLS 1.2 at most, with these TLS 1.2 cipher suites (OpenSSL names) when given.
        public var maximumTLS12: Bool
        public var cipherList: String?

        public init(caFile: String, certificateFile: String? = nil, keyFile: String? = nil, serverName: String = "localhost",
                    maximumTLS12: Bool = false, cipherList: String? = nil) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.serverName = serverName
            self.maximumTLS12 = maximumTLS12
            self.cipherList = cipherList
        }
    }

    /// The TLS handshake failed (the reason is OpenSSL's).
    public struct TLSFailure: Error, CustomStringConvertible {
        public let description: String
    }

    public struct Reply {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]
        public func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// - Parameter source: a loopback address to connect from (e.g. `127.0.0.7`: another "client machine").
    public init(port: Int, timeout: Double = 5, source: String? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            inet_pton(AF_INET, source, &local.sin_addr)
            let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            // No close here: `self` is complete, so deinit closes `fd` (closing it here too closed whatever
            // descriptor another thread had been given that number meanwhile).
            if bound != 0 { throw SystemError(call: "bind", errno: errno) }
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port)).bigEndian
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        setTimeout(timeout)
        let r = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        if r != 0 { throw SystemError(call: "connect", errno: errno) }  // deinit closes `fd`
    }

    /// Connects and completes a TLS handshake (verifying the server against `tls.caFile`). With TLS 1.3 a
    /// server's refusal of the client certificate may arrive only with the first read.
    public convenience init(port: Int, timeout: Double = 5, tls: TLS) throws {
        try self.init(port: port, timeout: timeout)
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw TLSFailure(description: "SSL_CTX_new") }
        tlsContext = context
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        if tls.maximumTLS12 { _ = pickupbox_ssl_ctx_set_max_tls12(context) }
        if let ciphers = tls.cipherList, SSL_CTX_set_cipher_list(context, ciphers) != 1 { throw Self.failure("cipher list") }
        guard SSL_CTX_load_verify_locations(context, tls.caFile, nil) == 1 else { throw Self.failure("CA file") }
        if let certificate = tls.certificateFile, let key = tls.keyFile {
            guard SSL_CTX_use_certificate_chain_file(context, certificate) == 1, SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1 else {
                throw Self.failure("client certificate")
            }
        }
        guard let ssl = SSL_new(context) else { throw Self.failure("SSL_new") }
        self.ssl = ssl
        _ = pickupbox_ssl_set_host_name(ssl, tls.serverName)
        SSL_set1_host(ssl, tls.serverName)
        SSL_set_fd(ssl, fd)
        guard SSL_connect(ssl) == 1 else { throw Self.failure("handshake") }
    }

    private static func failure(_ step: String) -> TLSFailure {
        let code = ERR_get_error()
        ERR_clear_error()
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return TLSFailure(description: step + ": " + String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// The negotiated protocol (`TLSv1.3`) and cipher suite, or nil for plain HTTP.
    public var tlsVersionAndCipher: (String, String)? {
        guard let ssl, let version = SSL_get_version(ssl), let cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)) else { return nil }
        return (String(cString: version), String(cString: cipher))
    }

    deinit {
        if let ssl { SSL_free(ssl) }
        if let tlsContext { SSL_CTX_free(tlsContext) }
        Glibc.close(fd)
    }

    private func rawSend(_ pointer: UnsafeRawPointer, _ count: Int) -> Int {
        if let ssl {
            ERR_clear_error()
            return Int(SSL_write(ssl, pointer, Int32(clamping: count)))
        }
        return Glibc.send(fd, pointer, count, Int32(MSG_NOSIGNAL))
    }

    /// Bytes read; 0 at the end of the stream; -1 on time-out or error (with `errno` for plain sockets).
    private func rawRecv(_ pointer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        if let ssl {
            ERR_clear_error()
            let n = SSL_read(ssl, pointer, Int32(clamping: count))
            if n > 0 { return Int(n) }
            let error = SSL_get_error(ssl, n)
            ERR_clear_error()
            return error == SSL_ERROR_ZERO_RETURN ? 0 : -1
        }
        return recv(fd, pointer, count, 0)
    }

    public func setTimeout(_ seconds: Double) {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    public func send(_ text: String) { send(Array(text.utf8)) }

    public func send(_ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { rawSend($0.baseAddress! + off, bytes.count - off) }
            if n <= 0 { return }
            off += n
        }
    }

    private var buffer: [UInt8] = []

    /// Reads until the peer closes or the timeout; returns everything received.
    public func readToEnd() -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { rawRecv($0.baseAddress!, $0.count) }
            if n <= 0 { break }
            buffer += chunk[0..<n]
        }
        defer { buffer = [] }
        return buffer
    }

    /// True when the server closed the connection (EOF) within the timeout.
    public func isClosedByPeer() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { rawRecv($0.baseAddress!, $0.count) }
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
            buffer += chunk[0..<n]
        }
    }

    /// Reads one response (Content-Length framed). nil on timeout or close before a whole response.
    public func readResponse(headRequest: Bool = false) -> Reply? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let reply = parse(headRequest: headRequest) { return reply }
            let n = chunk.withUnsafeMutableBytes { rawRecv($0.baseAddress!, $0.count) }
            if n <= 0 { return nil }
            buffer += chunk[0..<n]
        }
    }

    private func parse(headRequest: Bool) -> Reply? {
        // The end of the head (CRLFCRLF), found without allocating: tests pipeline thousands of answers.
        let headEnd: Int? = buffer.withUnsafeBufferPointer { p in
            var i = 0
            while i + 3 < p.count {
                if p[i] == 13 && p[i + 1] == 10 && p[i + 2] == 13 && p[i + 3] == 10 { return i }
                i += 1
            }
            return nil
        }
        guard let end = headEnd else { return nil }
        let head = String(decoding: buffer[0..<end], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let status = Int(decimal: statusLine.split(separator: " ")[1]) ?? 0
        let headers = lines.compactMap { line -> (String, String)? in
            guard let c = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<c]), line[line.index(after: c)...].trimmingCharacters(in: .whitespaces))
        }
        if status == 100 {
            buffer.removeFirst(end + 4)
            return Reply(status: 100, headers: headers, body: [])
        }
        let length = headRequest ? 0 : (headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int(decimal: $0.1) } ?? 0)
        guard buffer.count >= end + 4 + length else { return nil }
        let body = Array(buffer[(end + 4)..<(end + 4 + length)])
        buffer.removeFirst(end + 4 + length)
        return Reply(status: status, headers: headers, body: body)
    }

    /// One request, one response.
    public func request(_ method: String = "GET", _ path: String, headers: [String] = [], body: String? = nil) -> Reply? {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: test\r\n"
        for h in headers { text += h + "\r\n" }
        if let body { text += "Content-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + (body ?? "")
        send(text)
        return readResponse(headRequest: method == "HEAD")
    }
}

