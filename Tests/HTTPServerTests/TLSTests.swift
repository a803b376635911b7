#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import HTTPServer
import HTTPTestSupport

/// TLS and mutual TLS on our epoll listener (README.md#tls-without-a-proxy), with certificates the test makes.
@Suite("TLS and mutual TLS")
struct TLSTests {
    static let routes: [Route] = [
        Route(.GET, "/hello", execution: .eventLoop) { _ in .text("hello") },
        Route(.POST, "/echo") { req in Response(status: .ok, headers: ["Content-Type": "application/octet-stream"], body: req.body) },
        Route(.GET, "/whoami") { req in .text(req.transport.clientCertificate ?? (req.transport == .plain ? "plain" : "tls without certificate")) },
    ]

    static func server(_ certificates: TestCertificates, mutual: Bool = false, configure: (inout ServerConfiguration) -> Void = { _ in }) throws -> HTTPServer {
        try TestServer.make(routes: Self.routes) { c in
            c.tls = TLSConfiguration(certificateChainFile: certificates.serverCertificate, privateKeyFile: certificates.serverKey,
                                     clientCAFile: mutual ? certificates.clientCA : nil)
            configure(&c)
        }
    }

    @Test func servesHTTPS_withTLS13_keepAlive_andLargeBodies() throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let server = try Self.server(certificates) { $0.strictTransportSecurity = "max-age=31536000" }
        defer { server.shutdown() }
        let client = try TestClient(port: server.port, tls: .init(caFile: certificates.serverCA))
        #expect(client.tlsVersionAndCipher?.0 == "TLSv1.3")
        #expect(TLSConfiguration.tls13CipherSuites.split(separator: ":").contains { $0 == client.tlsVersionAndCipher?.1 ?? "" })
        for _ in 0..<5 {
            let reply = try #require(client.request("GET", "/hello"))
            #expect(reply.status == 200 && reply.text == "hello")
            #expect(reply.header("Strict-Transport-Security") == "max-age=31536000")
        }
        // A body larger than one TLS record (16 KiB) and than the read buffer, in both directions.
        let big = String(repeating: "0123456789abcdef", count: 20_000)
        let echoed = try #require(client.request("POST", "/echo", headers: ["Content-Type: application/octet-stream"], body: big))
        #expect(echoed.status == 200 && echoed.body.count == big.utf8.count && echoed.text == big)
        #expect(client.request("GET", "/whoami")?.text == "tls without certificate")
    }

    @Test func aTLS12Client_getsABSICipherSuite_andOtherSuitesAreRefused() throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let server = try Self.server(certificates)
        defer { server.shutdown() }
        let client = try TestClient(port: server.port, tls: .init(caFile: certificates.serverCA, maximumTLS12: true))
        #expect(client.tlsVersionAndCipher?.0 == "TLSv1.2")
        #expect(TLSConfiguration.tls12CipherList.split(separator: ":").contains { $0 == client.tlsVersionAndCipher?.1 ?? "" })
        #expect(client.request("GET", "/hello")?.status == 200)
        // ChaCha20 and CBC with SHA-1 are not among BSI TR-02102-2's suites.
        for suite in ["ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-ECDSA-AES128-SHA"] {
            #expect(throws: TestClient.TLSFailure.self) {
                _ = try TestClient(port: server.port, tls: .init(caFile: certificates.serverCA, maximumTLS12: true, cipherList: suite))
            }
        }
    }

    @Test func plainHTTPToTheTLSPort_isRefused_andAStalledHandshakeIsDropped() throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let server = try Self.server(certificates) { $0.headerTimeout = .milliseconds(300) }
        defer { server.shutdown() }
        let plain = try TestClient(port: server.port, timeout: 2)
        plain.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        let answer = plain.readToEnd()
        #expect(!String(decoding: answer, as: UTF8.self).contains("HTTP/1.1"))
        #expect(!String(decoding: answer, as: UTF8.self).contains("hello"))
        // A client that connects and never says hello holds nothing for long.
        let silent = try TestClient(port: server.port, timeout: 3)
        let started = Date()
        #expect(silent.isClosedByPeer())
        #expect(Date().timeIntervalSince(started) < 2.5)
    }

    @Test func mutualTLS_acceptsTheAuthoritysCertificate_refusesAnotherCAAndAnExpiredOne() throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let server = try Self.server(certificates, mutual: true)
        defer { server.shutdown() }
        let box = try TestClient(port: server.port, tls: .init(caFile: certificates.serverCA, certificateFile: certificates.boxCertificate,
                                                               keyFile: certificates.boxKey))
        #expect(box.request("GET", "/whoami")?.text == "/CN=box-1")
        // Without a certificate the connection is served, and the handler knows there was none.
        let browser = try TestClient(port: server.port, tls: .init(caFile: certificates.serverCA))
        #expect(browser.request("GET", "/whoami")?.text == "tls without certificate")
        // Another CA's or an expired certificate ends the handshake (with TLS 1.3 the client may learn it
        // only when it reads): no request gets an answer.
        for (certificate, key) in [(certificates.strangerCertificate, certificates.strangerKey), (certificates.expiredCertificate, certificates.expiredKey)] {
            let refused = try? TestClient(port: server.port, timeout: 2, tls: .init(caFile: certificates.serverCA, certificateFile: certificate, keyFile: key))
            #expect(refused?.request("GET", "/whoami") == nil, "\(certificate)")
        }
        // Nor with TLS 1.2, where the handshake itself fails.
        #expect(throws: TestClient.TLSFailure.self) {
            _ = try TestClient(port: server.port, tls: .init(caFile: certificates.serverCA, certificateFile: certificates.strangerCertificate,
                                                             keyFile: certificates.strangerKey, maximumTLS12: true))
        }
    }

    @Test func refusesToStart_withAKeyThatIsNotTheCertificates() throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        #expect(throws: ServerError.self) {
            _ = try TestServer.make(routes: Self.routes) { c in
                c.tls = TLSConfiguration(certificateChainFile: certificates.serverCertificate, privateKeyFile: certificates.boxKey)
            }
        }
        #expect(throws: ServerError.self) {
            _ = try TestServer.make(routes: Self.routes) { c in
                c.tls = TLSConfiguration(certificateChainFile: certificates.directory + "/missing.pem", privateKeyFile: certificates.serverKey)
            }
        }
    }
}
