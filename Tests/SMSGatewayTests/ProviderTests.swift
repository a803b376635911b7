import Foundation
import HTTPTestSupport
import Testing
@testable import SMSGateway

@Suite("Providers against a real loopback gateway")
struct ProviderTests {
    static let httpProviders: [SMSProviderName] = [.webhook, .seven, .twilio]

    // MARK: Request shapes

    @Test func webhook_postsJSONWithBearerTokenAndReference() throws {
        let server = try LoopbackServer([Fixture.successReply(.webhook)])
        defer { server.stop() }
        let provider = try Fixture.provider(.webhook, base: server.url)
        #expect(try provider.send(Fixture.message) == "wh-1")

        let request = try #require(server.requests.first)
        #expect(request.method == "POST")
        #expect(request.path == "/sms")
        #expect(request.header("authorization") == "Bearer \(Fixture.token)")
        #expect(request.header("content-type") == "application/json")
        #expect(request.header("idempotency-key") == "msg-0001")
        #expect(request.header("expect") == nil)
        let json = request.jsonBody
        #expect(json["to"] as? String == Fixture.phone)
        #expect(json["text"] as? String == Fixture.text)
        #expect(json["reference"] as? String == "msg-0001")
    }

    @Test func seven_postsJSONWithApiKeySenderAndForeignID() throws {
        let server = try LoopbackServer([Fixture.successReply(.seven)])
        defer { server.stop() }
        let provider = try Fixture.provider(.seven, base: server.url)
        #expect(try provider.send(Fixture.message) == "77123")

        let request = try #require(server.requests.first)
        #expect(request.method == "POST")
        #expect(request.path == "/api/sms")
        #expect(request.header("x-api-key") == Fixture.token)
        #expect(request.header("authorization") == nil)
        let json = request.jsonBody
        #expect(json["to"] as? String == Fixture.phone)
        #expect(json["text"] as? String == Fixture.text)
        #expect(json["from"] as? String == "Buergeramt")
        #expect(json["foreign_id"] as? String == "msg-0001")
    }

    @Test func twilio_postsFormWithBasicAuthAndStatusCallback() throws {
        let server = try LoopbackServer([Fixture.successReply(.twilio)])
        defer { server.stop() }
        let provider = try Fixture.provider(.twilio, base: server.url, callbackURL: "https://pickup.example/sms/dlr/twilio")
        #expect(try provider.send(Fixture.message) == "SM0123456789abcdef")

        let request = try #require(server.requests.first)
        #expect(request.method == "POST")
        #expect(request.path == "/2010-04-01/Accounts/AC0123456789abcdef/Messages.json")
        let credentials = Data("AC0123456789abcdef:authTOKEN-SECRET".utf8).base64EncodedString()
        #expect(request.header("authorization") == "Basic \(credentials)")
        #expect(request.header("content-type") == "application/x-www-form-urlencoded")
        #expect(request.bodyText.contains("To=%2B4915112345678"))  // "+" must be escaped in a form
        let form = request.formBody
        #expect(form["To"] == Fixture.phone)
        #expect(form["From"] == "+4930123456")
        #expect(form["Body"] == Fixture.text)
        #expect(form["StatusCallback"] == "https://pickup.example/sms/dlr/twilio")
    }

    @Test func twilio_usesMessagingServiceSid_whenSenderIsAServiceSid() throws {
        let configuration = Fixture.configuration(url: nil, token: Fixture.twilioToken, sender: "MG0123")
        let provider = try TwilioProvider(configuration: configuration, client: CurlHTTPClient(configuration: configuration), logger: Fixture.logger)
        let request = provider.request(for: Fixture.message)
        #expect(request.url == "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef/Messages.json")
        #expect(String(decoding: request.body, as: UTF8.self).contains("MessagingServiceSid=MG0123"))
    }

    // MARK: Failure modes, for every HTTP provider

    @Test(arguments: httpProviders)
    func serverError_isRetryable(_ name: SMSProviderName) throws {
        let server = try LoopbackServer([.respond(status: 500, body: Array("oops \(Fixture.phone)".utf8))])
        defer { server.stop() }
        let provider = try Fixture.provider(name, base: server.url)
        let error = try #require(Fixture.error { _ = try provider.send(Fixture.message) })
        #expect(error.kind == .httpStatus(500))
        #expect(error.isRetryable)
        #expect(Fixture.isClean(error))
    }

    @Test(arguments: httpProviders)
    func tooManyRequests_isRateLimitedWithRetryAfter(_ name: SMSProviderName) throws {
        let server = try LoopbackServer([.respond(status: 429, headers: [("Retry-After", "7")], body: Array(#"{"code":20429}"#.utf8))])
        defer { server.stop() }
        let provider = try Fixture.provider(name, base: server.url)
        let error = try #require(Fixture.error { _ = try provider.send(Fixture.message) })
        #expect(error.kind == .rateLimited(retryAfterSeconds: 7))
        #expect(error.isRetryable)
    }

    @Test(arguments: httpProviders)
    func badRequest_isRejectedAndNotRetryable(_ name: SMSProviderName) throws {
        let server = try LoopbackServer([.respond(status: 400, body: Array(#"{"code":21211,"message":"The 'To' number +4915112345678 is not valid"}"#.utf8))])
        defer { server.stop() }
        let provider = try Fixture.provider(name, base: server.url)
        let error = try #require(Fixture.error { _ = try provider.send(Fixture.message) })
        #expect(error.kind == .rejected)
        #expect(!error.isRetryable)
        #expect(error.httpStatus == 400)
        if name == .twilio { #expect(error.providerCode == "21211") }
        #expect(Fixture.isClean(error))
    }

    @Test(arguments: httpProviders)
    func silentGateway_timesOutWithinTheTotalTimeout(_ name: SMSProviderName) throws {
        let server = try LoopbackServer([.hang])
        defer { server.stop() }
        let provider = try Fixture.provider(name, base: server.url, totalTimeout: .milliseconds(500))
        let (error, seconds) = measure { Fixture.error { _ = try provider.send(Fixture.message) } }
        #expect(error?.kind == .timeout)
        #expect(error?.isRetryable == true)
        // A gateway that never answers would hold the call for ever: the bound only tells "ended by the
        // time-out" from that, generously, so that a busy machine does not fail it (timings are benchmarks' business).
        #expect(seconds >= 0.4 && seconds < 15, "took \(seconds) s")
        #expect(server.requests.count == 1)
    }

    @Test(arguments: httpProviders)
    func closedPort_isAConnectError(_ name: SMSProviderName) throws {
        let closed = ReservedPort()
        defer { withExtendedLifetime(closed) {} }
        let provider = try Fixture.provider(name, base: "http://127.0.0.1:\(closed.port)")
        let error = try #require(Fixture.error { _ = try provider.send(Fixture.message) })
        #expect(error.kind == .connect)
        #expect(error.isRetryable)
        #expect(error.curlCode == 7)
    }

    @Test(arguments: httpProviders)
    func redirect_isNotFollowed(_ name: SMSProviderName) throws {
        let target = try LoopbackServer([Fixture.successReply(name)])
        defer { target.stop() }
        let server = try LoopbackServer([.respond(status: 302, headers: [("Location", target.url + "/sms")])])
        defer { server.stop() }
        let provider = try Fixture.provider(name, base: server.url)
        let error = try #require(Fixture.error { _ = try provider.send(Fixture.message) })
        #expect(error.kind == .redirect(302))
        #expect(!error.isRetryable)
        #expect(target.requests.isEmpty)
        #expect(target.connectionCount == 0)
    }

    @Test(arguments: httpProviders)
    func tenMegabyteReply_isCutOffAtTheCap(_ name: SMSProviderName) throws {
        let tenMB = 10 * 1024 * 1024
        let server = try LoopbackServer([.stream(bytes: tenMB, announceLength: false)])
        defer { server.stop() }
        let provider = try Fixture.provider(name, base: server.url)
        let (error, seconds) = measure { Fixture.error { _ = try provider.send(Fixture.message) } }
        #expect(error?.kind == .bodyTooLarge)
        #expect(error?.isRetryable == false)
        #expect(seconds < 15, "took \(seconds) s")   // a hang guard; that it stopped reading is the byte count below
        // The client stopped reading: the server could not push the whole body (socket buffers hold a few MB at most).
        #expect(server.bytesStreamed < tenMB)
    }

    @Test(arguments: httpProviders)
    func untrustedCertificate_isATLSError(_ name: SMSProviderName) throws {
        let server = try TLSTestServer()
        defer { server.stop() }
        let provider = try Fixture.provider(name, base: server.url)
        let error = try #require(Fixture.error { _ = try provider.send(Fixture.message) })
        #expect(error.kind == .tls)
        #expect(!error.isRetryable)
        #expect(Fixture.isClean(error))
    }

    @Test func trustedCustomCA_isAccepted() throws {
        let server = try TLSTestServer()
        defer { server.stop() }
        let provider = try Fixture.provider(.webhook, base: server.url, caFile: server.certificatePath)
        #expect(try provider.send(Fixture.message) == "tls-ok")
    }

    // MARK: seven result codes (HTTP 200 with a code in the body)

    @Test(arguments: [
        ("202", SMSError.Kind.rejected), ("201", .rejected), ("306", .rejected), ("401", .rejected), ("402", .rejected),
        ("101", .rejected), ("900", .invalidConfiguration), ("500", .invalidConfiguration), ("903", .invalidConfiguration),
        ("600", .temporaryFailure), ("700", .temporaryFailure),
    ])
    func seven_mapsResultCodes(code: String, kind: SMSError.Kind) throws {
        let provider = try #require(try Fixture.provider(.seven, base: "http://127.0.0.1:1") as? SevenProvider)
        for body in [#"{"success":"\#(code)","messages":[]}"#, code, #"{"success":\#(code)}"#] {
            let reply = HTTPReply(status: 200, headers: [], body: Array(body.utf8))
            let error = try #require(Fixture.error { _ = try provider.parse(reply) })
            #expect(error.kind == kind)
            #expect(error.providerCode == code)
        }
    }

    @Test func seven_perMessageFailure_isRejected() throws {
        let provider = try #require(try Fixture.provider(.seven, base: "http://127.0.0.1:1") as? SevenProvider)
        let reply = HTTPReply(status: 200, headers: [], body: Array(#"{"success":"100","messages":[{"id":null,"success":false,"error":"202"}]}"#.utf8))
        let error = try #require(Fixture.error { _ = try provider.parse(reply) })
        #expect(error.kind == .rejected)
        #expect(error.providerCode == "202")
    }

    @Test func seven_garbage_isUnreadable() throws {
        let provider = try #require(try Fixture.provider(.seven, base: "http://127.0.0.1:1") as? SevenProvider)
        let error = Fixture.error { _ = try provider.parse(HTTPReply(status: 200, headers: [], body: Array("<html>".utf8))) }
        #expect(error?.kind == .unreadableBody)
    }

    // MARK: Configuration

    @Test func factory_refusesUnknownProviderAndMissingSettings() {
        let client = CurlHTTPClient(configuration: Fixture.configuration(url: nil))
        func kind(_ name: String, _ configuration: GatewayConfiguration) -> SMSError.Kind? {
            Fixture.error { _ = try SMSProviderFactory.make(name: name, configuration: configuration, client: client, logger: Fixture.logger) }?.kind
        }
        #expect(kind("carrier-pigeon", Fixture.configuration(url: "https://x")) == .invalidConfiguration)
        #expect(kind("webhook", Fixture.configuration(url: nil, token: "t")) == .invalidConfiguration)
        #expect(kind("webhook", Fixture.configuration(url: "https://x", token: nil)) == .invalidConfiguration)
        #expect(kind("webhook", Fixture.configuration(url: "ftp://x", token: "t")) == .invalidConfiguration)
        #expect(kind("seven", Fixture.configuration(url: nil, token: nil)) == .invalidConfiguration)
        #expect(kind("seven", Fixture.configuration(url: nil, token: "k", sender: "Buergeramt-Mitte")) == .invalidConfiguration)
        #expect(kind("seven", Fixture.configuration(url: nil, token: "k", sender: "Bürgeramt")) == .invalidConfiguration)
        #expect(kind("twilio", Fixture.configuration(url: nil, token: "only-a-token", sender: "+4930")) == .invalidConfiguration)
        #expect(kind("twilio", Fixture.configuration(url: nil, token: Fixture.twilioToken, sender: nil)) == .invalidConfiguration)
        #expect(kind("console", Fixture.configuration(url: nil)) == nil)
        #expect(kind("SEVEN", Fixture.configuration(url: nil, token: "k", sender: "Buergeramt")) == nil)
    }

    @Test func seven_senderRules() {
        #expect(SevenProvider.isValidSender("Buergeramt"))
        #expect(SevenProvider.isValidSender("ABCDEFGHIJK"))       // 11
        #expect(!SevenProvider.isValidSender("ABCDEFGHIJKL"))     // 12
        #expect(SevenProvider.isValidSender("4915112345678"))     // numeric, up to 16
        #expect(!SevenProvider.isValidSender("49151123456789012"))
        #expect(!SevenProvider.isValidSender("Amt Mitte"))
        #expect(!SevenProvider.isValidSender(""))
    }

    @Test func console_returnsAnIDAndSendsNothing() throws {
        let provider = try Fixture.provider(.console, base: "http://127.0.0.1:1")
        let id = try #require(try provider.send(Fixture.message))
        #expect(id.hasPrefix("console-"))
        #expect(provider.name == "console")
    }
}
