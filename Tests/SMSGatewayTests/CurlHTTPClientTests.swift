import Foundation
import Synchronization
import Testing
@testable import SMSGateway

@Suite("CurlHTTPClient against real servers")
struct CurlHTTPClientTests {
    @Test func reusesTheConnection_forConsecutiveRequests() throws {
        let server = try LoopbackServer([.respond(status: 200, body: Array("ok".utf8))])
        defer { server.stop() }
        let client = CurlHTTPClient(configuration: Fixture.configuration(url: nil))
        for index in 0..<5 {
            let reply = try client.post(url: server.url + "/r\(index)", headers: [("X-Test", "\(index)")], body: Array("b\(index)".utf8))
            #expect(reply.status == 200)
            #expect(reply.body == Array("ok".utf8))
        }
        #expect(server.requests.map(\.path) == ["/r0", "/r1", "/r2", "/r3", "/r4"])
        #expect(server.requests.map(\.bodyText) == ["b0", "b1", "b2", "b3", "b4"])
        #expect(server.connectionCount == 1)
    }

    @Test func concurrentCallers_areSerialisedOnTheOneHandle() throws {
        let server = try LoopbackServer([.respond(status: 200, body: Array("ok".utf8))])
        defer { server.stop() }
        let client = CurlHTTPClient(configuration: Fixture.configuration(url: nil))
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 20) { index in
            let reply = try? client.post(url: server.url + "/c\(index)", headers: [], body: Array("\(index)".utf8))
            if reply?.status != 200 { failures.add(1, ordering: .relaxed) }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
        #expect(server.requests.count == 20)
        #expect(Set(server.requests.map(\.bodyText)).count == 20)
        #expect(server.connectionCount == 1)
    }

    @Test func lowerCasesReplyHeaderNames() throws {
        let server = try LoopbackServer([.respond(status: 202, headers: [("X-Request-ID", "abc"), ("Retry-After", "3")])])
        defer { server.stop() }
        let reply = try CurlHTTPClient(configuration: Fixture.configuration(url: nil)).post(url: server.url, headers: [], body: [])
        #expect(reply.status == 202)
        #expect(reply.headers.contains { $0 == ("x-request-id", "abc") })
        #expect(reply.header("Retry-After") == "3")
        #expect(reply.retryAfterSeconds == 3)
    }

    @Test func sendsAnEmptyBody() throws {
        let server = try LoopbackServer([.respond(status: 204)])
        defer { server.stop() }
        let reply = try CurlHTTPClient(configuration: Fixture.configuration(url: nil)).post(url: server.url, headers: [], body: [])
        #expect(reply.status == 204)
        #expect(server.requests.first?.header("content-length") == "0")
    }

    @Test func announcedOversizedBody_failsBeforeReading() throws {
        let server = try LoopbackServer([.stream(bytes: 10 * 1024 * 1024, announceLength: true)])
        defer { server.stop() }
        let client = CurlHTTPClient(configuration: Fixture.configuration(url: nil))
        let (error, seconds) = measure { Fixture.error { _ = try client.post(url: server.url, headers: [], body: []) } }
        #expect(error?.kind == .bodyTooLarge)
        #expect(seconds < 15)   // a hang guard: reading the 10 MB would not fail at all
    }

    @Test func bodyExactlyAtTheCap_isAccepted() throws {
        let server = try LoopbackServer([.stream(bytes: 1024, announceLength: false)])
        defer { server.stop() }
        let client = CurlHTTPClient(configuration: Fixture.configuration(url: nil, maxResponseBytes: 1024))
        let reply = try client.post(url: server.url, headers: [], body: [])
        #expect(reply.body.count == 1024)
    }

    @Test func clientIsUsableAfterAFailure() throws {
        let server = try LoopbackServer([.stream(bytes: 200_000, announceLength: false), .respond(status: 200, body: Array("fine".utf8))])
        defer { server.stop() }
        let client = CurlHTTPClient(configuration: Fixture.configuration(url: nil))
        #expect(Fixture.error { _ = try client.post(url: server.url, headers: [], body: []) }?.kind == .bodyTooLarge)
        #expect(try client.post(url: server.url, headers: [], body: []).body == Array("fine".utf8))
    }

    @Test func unknownHost_isADNSError() {
        let client = CurlHTTPClient(configuration: Fixture.configuration(url: nil))
        let error = Fixture.error { _ = try client.post(url: "http://sms-gateway.invalid/api", headers: [], body: []) }
        #expect(error?.kind == .dns)
        #expect(error?.isRetryable == true)
    }

    @Test func nonHTTPURL_isInvalidConfiguration() {
        let client = CurlHTTPClient(configuration: Fixture.configuration(url: nil))
        #expect(Fixture.error { _ = try client.post(url: "file:///etc/passwd", headers: [], body: []) }?.kind == .invalidConfiguration)
    }

    @Test func headerValueWithLineBreak_isRefused() {
        let client = CurlHTTPClient(configuration: Fixture.configuration(url: nil))
        let error = Fixture.error { _ = try client.post(url: "http://127.0.0.1:1", headers: [("X-A", "a\r\nX-B: b")], body: []) }
        #expect(error?.kind == .invalidConfiguration)
    }

    @Test func untrustedCertificate_thenTrustedViaCAFile() throws {
        let server = try TLSTestServer()
        defer { server.stop() }
        let untrusted = CurlHTTPClient(configuration: Fixture.configuration(url: nil))
        let error = Fixture.error { _ = try untrusted.post(url: server.url, headers: [], body: Array("{}".utf8)) }
        #expect(error?.kind == .tls)
        #expect(error?.curlCode == 60)

        let trusted = CurlHTTPClient(configuration: Fixture.configuration(url: nil, caFile: server.certificatePath))
        let reply = try trusted.post(url: server.url, headers: [], body: Array("{}".utf8))
        #expect(reply.status == 200)

        // The certificate names 127.0.0.1 only: "localhost" must fail host verification even with the CA trusted.
        let error2 = Fixture.error { _ = try trusted.post(url: "https://localhost:\(server.port)", headers: [], body: []) }
        #expect(error2?.kind == .tls)
    }

    @Test func missingCAFile_isATLSError() throws {
        let server = try TLSTestServer()
        defer { server.stop() }
        let client = CurlHTTPClient(configuration: Fixture.configuration(url: nil, caFile: "/nonexistent/ca.pem"))
        #expect(Fixture.error { _ = try client.post(url: server.url, headers: [], body: []) }?.kind == .tls)
    }
}
