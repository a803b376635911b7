import Foundation

/// Certificates made for a test with the `openssl` command line (tests and benchmarks only): a server CA
/// and a server certificate for `localhost` / 127.0.0.1, and an authority CA with a box's client
/// certificate, an expired one, and one from a stranger's CA. EC P-256 keys, unencrypted, in a fresh
/// temporary directory.
public struct TestCertificates: Sendable {
    public let directory: String

    public var serverCA: String { directory + "/server-ca.pem" }
    public var serverCertificate: String { directory + "/server.pem" }
    public var serverKey: String { directory + "/server.key" }
    /// The authority's CA: the file for `TLS_CLIENT_CA_FILE`.
    public var clientCA: String { directory + "/client-ca.pem" }
    public var boxCertificate: String { directory + "/box.pem" }
    public var boxKey: String { directory + "/box.key" }
    public var expiredCertificate: String { directory + "/expired.pem" }
    public var expiredKey: String { directory + "/expired.key" }
    /// Signed by a CA the server does not know.
    public var strangerCertificate: String { directory + "/stranger.pem" }
    public var strangerKey: String { directory + "/stranger.key" }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func make() throws -> TestCertificates {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pickupbox-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let made = TestCertificates(directory: directory)
        try made.ca("server-ca", "pickupbox test server CA")
        try made.ca("client-ca", "Ausländerbehörde Test CA")
        try made.ca("stranger-ca", "Somebody else's CA")
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n".write(toFile: directory + "/server.ext", atomically: true, encoding: .utf8)
        try "extendedKeyUsage=clientAuth\n".write(toFile: directory + "/client.ext", atomically: true, encoding: .utf8)
        try made.leaf("server", "localhost", ca: "server-ca", days: 30, extensions: "server.ext")
        try made.leaf("box", "box-1", ca: "client-ca", days: 30, extensions: "client.ext")
        try made.leaf("expired", "box-2", ca: "client-ca", days: -1, extensions: "client.ext")
        try made.leaf("stranger", "box-3", ca: "stranger-ca", days: 30, extensions: "client.ext")
        return made
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func ca(_ name: String, _ commonName: String) throws {
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(name).key", "-out", "\(name).pem",
                     "-days", "30", "-subj", "/CN=\(commonName)", "-utf8"])
    }

    /// `days` -1 makes a certificate whose validity ended before it began: expired.
    private func leaf(_ name: String, _ commonName: String, ca: String, days: Int, extensions: String) throws {
        try openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(name).key", "-out", "\(name).csr",
                     "-subj", "/CN=\(commonName)"])
        try openssl(["x509", "-req", "-in", "\(name).csr", "-CA", "\(ca).pem", "-CAkey", "\(ca).key", "-CAcreateserial", "-out", "\(name).pem",
                     "-days", String(days), "-extfile", extensions])
    }

    private func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "openssl \(arguments.first ?? "") failed: \(String(decoding: output, as: UTF8.self))")
        }
    }
}
