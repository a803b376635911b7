import HTTPTestSupport
import Testing
@testable import SMSGateway

@Suite("SMSError")
struct SMSErrorTests {
    @Test func retryability() {
        let retryable: [SMSError.Kind] = [.dns, .connect, .timeout, .httpStatus(500), .httpStatus(503), .httpStatus(408),
                                          .rateLimited(retryAfterSeconds: nil), .temporaryFailure]
        let permanent: [SMSError.Kind] = [.tls, .redirect(301), .httpStatus(200), .replyLost, .unreadableBody, .bodyTooLarge,
                                          .invalidConfiguration, .rejected]
        for kind in retryable { #expect(SMSError(kind, reason: "x").isRetryable, "\(kind)") }
        for kind in permanent { #expect(!SMSError(kind, reason: "x").isRetryable, "\(kind)") }
    }

    @Test func lostReply_isRetried_onlyWhenTheProviderDeduplicates() {
        let lost = SMSError(.replyLost, reason: "x", curlCode: 52)
        #expect(!lost.isRetryable)
        #expect(lost.isRetryable(providerDeduplicates: true))
        #expect(!lost.isRetryable(providerDeduplicates: false))
        // Other errors do not depend on it.
        #expect(!SMSError(.unreadableBody, reason: "x").isRetryable(providerDeduplicates: true))
        #expect(SMSError(.timeout, reason: "x").isRetryable(providerDeduplicates: false))
    }

    @Test func description_namesKindAndCodes() {
        let error = SMSError(.rejected, reason: "seven rejected the message", httpStatus: 200, providerCode: "202")
        #expect(error.description == "SMSError.rejected [HTTP 200] [provider code 202]: seven rejected the message")
    }

    @Test(arguments: [SMSProviderName.webhook, .seven, .twilio])
    func noMessageDataInAnyDescription_evenWhenTheGatewayEchoesIt(_ name: SMSProviderName) throws {
        // Gateways like to quote the number and text in error bodies; none of it may reach `description`.
        let echo = Array(#"{"code":21211,"message":"bad number +4915112345678 text Ihre PIN lautet 482913","success":"202"}"#.utf8)
        let server = try LoopbackServer([
            .respond(status: 400, body: echo), .respond(status: 500, body: echo), .respond(status: 429, body: echo),
            .respond(status: 200, body: echo), .respond(status: 302, headers: [("Location", "http://127.0.0.1:1/?to=+4915112345678")]),
            .stream(bytes: 100_000, announceLength: false),
        ])
        defer { server.stop() }
        let provider = try Fixture.provider(name, base: server.url)
        for _ in 0..<6 {
            let error = Fixture.error { _ = try provider.send(Fixture.message) }
            if let error { #expect(Fixture.isClean(error), "\(error)") }
        }
        let closed = ReservedPort()
        defer { withExtendedLifetime(closed) {} }
        let refused = try Fixture.provider(name, base: "http://127.0.0.1:\(closed.port)")
        let error = try #require(Fixture.error { _ = try refused.send(Fixture.message) })
        #expect(Fixture.isClean(error))
    }
}
