import Foundation

/// A real TLS gateway for the tests: Python's `http.server` behind `ssl`, with a throw-away self-signed
/// certificate for 127.0.0.1 made by `openssl req`. Answers every POST with 200 `{"id": "tls-ok"}`.
final class TLSTestServer: @unchecked Sendable {
    // @unchecked Sendable: all properties are set once in init; `process` is only terminated.

    /// One certificate for the whole test run (RSA key generation takes a moment).
    static let certificate: Result<(cert: String, key: String), Error> = Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sms-tls-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let cert = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                             "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1", "-keyout", key, "-out", cert]
        openssl.standardError = FileHandle.nullDevice
        openssl.standardOutput = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        guard openssl.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
        return (cert, key)
    }

    /// The real interpreter: `python3` on PATH may be a wrapper script (pyenv) whose child would survive
    /// `terminate()` and keep the test run's output pipes open.
    static let python: Result<String, Error> = Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import sys; print(sys.executable)"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let path = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0, !path.isEmpty else { throw CocoaError(.executableNotLoadable) }
        return path
    }

    static let script = """
    import http.server, signal, ssl, sys, threading
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = b'{"id": "tls-ok"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *args):
            pass
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[1], sys.argv[2])
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    threading.Timer(30, server.shutdown).start()   # stops by itself
    server.serve_forever()
    """

    let port: Int
    let certificatePath: String
    private let process: Process

    init() throws {
        let (cert, key) = try Self.certificate.get()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.python.get())
        process.arguments = ["-c", Self.script, cert, key]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            line.append(chunk)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw CocoaError(.fileReadCorruptFile)
        }
        self.port = port
        self.certificatePath = cert
        self.process = process
    }

    deinit { stop() }

    var url: String { "https://127.0.0.1:\(port)" }

    func stop() {
        // SIGKILL: the test process may hand down SIGTERM as ignored/blocked, which python would inherit.
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
