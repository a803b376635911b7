import Crypto
import Foundation
import Testing
@testable import SMSGateway

@Suite("Delivery reports: signatures and parsing")
struct DeliveryReportsTests {
    static let secret = Array("dlr-secret-0123456789".utf8)
    static let body = Array(#"{"reference":"msg-0001","id":"wh-1","status":"delivered"}"#.utf8)

    static let now = 1_800_000_000

    static func verify(body: [UInt8] = body, timestamp: String? = String(now), signature: String?, secret: [UInt8] = secret, now: Int = now) -> Bool {
        DeliveryReports.verifyWebhook(body: body, timestampHeader: timestamp, signatureHeader: signature, secret: secret, now: now)
    }

    @Test func webhook_genuineSignature_isAccepted() {
        let header = DeliveryReports.webhookSignature(body: Self.body, timestamp: Self.now, secret: Self.secret)
        #expect(Self.verify(signature: header))
        #expect(Self.verify(signature: header.uppercased().replacingOccurrences(of: "SHA256=", with: "sha256=")))
        #expect(Self.verify(signature: header, now: Self.now + 300))
    }

    @Test func webhook_knownVector() {
        // RFC 4231 test case 2 (key "Jefe", data "what do ya want for nothing?") for the HMAC …
        #expect(Crypto.hex(Crypto.hmacSHA256(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8)))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // … and the scheme signs "<timestamp>.<body>" with it.
        #expect(DeliveryReports.webhookSignature(body: Array("{}".utf8), timestamp: 1, secret: Array("Jefe".utf8))
                == "sha256=" + Crypto.hex(Crypto.hmacSHA256(key: Array("Jefe".utf8), Array("1.{}".utf8))))
    }

    @Test func webhook_forgedStaleOrMissingSignature_isRefused() {
        let genuine = DeliveryReports.webhookSignature(body: Self.body, timestamp: Self.now, secret: Self.secret)
        let tampered = Array(#"{"reference":"msg-0001","id":"wh-1","status":"failed"}"#.utf8)
        #expect(!Self.verify(body: tampered, signature: genuine))
        #expect(!Self.verify(signature: genuine, secret: Array("other".utf8)))
        #expect(!Self.verify(signature: nil))
        #expect(!Self.verify(signature: ""))
        #expect(!Self.verify(signature: "sha256="))
        #expect(!Self.verify(signature: String(genuine.dropLast(2))))
        #expect(!Self.verify(signature: String(genuine.dropFirst(7))))
        #expect(!Self.verify(signature: "sha256=zz" + genuine.dropFirst(9)))
        #expect(!Self.verify(signature: genuine, secret: []))
        // The timestamp is signed: another one does not match, none is refused, an old one is a replay.
        #expect(!Self.verify(timestamp: String(Self.now + 1), signature: genuine))
        #expect(!Self.verify(timestamp: nil, signature: genuine))
        #expect(!Self.verify(timestamp: "soon", signature: genuine))
        #expect(!Self.verify(signature: genuine, now: Self.now + 301))
        #expect(!Self.verify(signature: genuine, now: Self.now - 301))
    }

    @Test func onceKeys_nameTheSignedRequest_orTwiliosMessageAndStatus() {
        let reports = [DeliveryReports.Report(reference: "a", status: .delivered), DeliveryReports.Report(reference: "b", status: .failed)]
        let first = DeliveryReports.onceKeys(provider: .webhook, timestampHeader: "1", signatureHeader: "sha256=AB", nonceHeader: nil, reports: reports)
        #expect(first.count == 2 && Set(first).count == 2)
        #expect(first == DeliveryReports.onceKeys(provider: .webhook, timestampHeader: "1", signatureHeader: "sha256=ab", nonceHeader: nil, reports: reports))
        #expect(first != DeliveryReports.onceKeys(provider: .webhook, timestampHeader: "2", signatureHeader: "sha256=ab", nonceHeader: nil, reports: reports))
        #expect(DeliveryReports.onceKeys(provider: .seven, timestampHeader: "1", signatureHeader: "x", nonceHeader: "n1", reports: [reports[0]])
                != DeliveryReports.onceKeys(provider: .seven, timestampHeader: "1", signatureHeader: "x", nonceHeader: "n2", reports: [reports[0]]))
        let sid = [DeliveryReports.Report(providerID: "SM1", status: .failed)]
        // Twilio signs no time: the same message and status are one key, whatever the request looked like.
        #expect(DeliveryReports.onceKeys(provider: .twilio, timestampHeader: nil, signatureHeader: "sig-1", nonceHeader: nil, reports: sid)
                == DeliveryReports.onceKeys(provider: .twilio, timestampHeader: nil, signatureHeader: "sig-2", nonceHeader: nil, reports: sid))
        #expect(DeliveryReports.onceKeys(provider: .twilio, timestampHeader: nil, signatureHeader: nil, nonceHeader: nil, reports: sid)
                != DeliveryReports.onceKeys(provider: .twilio, timestampHeader: nil, signatureHeader: nil, nonceHeader: nil,
                                            reports: [DeliveryReports.Report(providerID: "SM1", status: .delivered)]))
    }

    // Twilio's published example (twilio-php/csharp RequestValidatorTest; their security docs).
    static let twilioURL = "https://mycompany.com/myapp.php?foo=1&bar=2"
    static let twilioParameters = [
        ("CallSid", "CA1234567890ABCDE"), ("Caller", "+14158675309"), ("Digits", "1234"),
        ("From", "+14158675309"), ("To", "+18005551212"),
    ]

    @Test func twilio_publishedVector_isAccepted() {
        #expect(DeliveryReports.twilioSignature(url: Self.twilioURL, formParameters: Self.twilioParameters, authToken: "12345")
            == "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
        #expect(DeliveryReports.verifyTwilio(url: Self.twilioURL, formParameters: Self.twilioParameters.reversed(),
                                             signatureHeader: "RSOYDt4T1cUTdK1PDd93/VVr8B8=", authToken: "12345"))
    }

    @Test func twilio_fromAFormBody() {
        let body = Array("Digits=1234&To=%2B18005551212&From=%2B14158675309&Caller=%2B14158675309&CallSid=CA1234567890ABCDE".utf8)
        #expect(DeliveryReports.verifyTwilio(url: Self.twilioURL, formParameters: DeliveryReports.formParameters(body),
                                             signatureHeader: "RSOYDt4T1cUTdK1PDd93/VVr8B8=", authToken: "12345"))
    }

    @Test func twilio_forgedOrMissingSignature_isRefused() {
        let signature = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        var tampered = Self.twilioParameters
        tampered[2] = ("Digits", "9999")
        #expect(!DeliveryReports.verifyTwilio(url: Self.twilioURL, formParameters: tampered, signatureHeader: signature, authToken: "12345"))
        #expect(!DeliveryReports.verifyTwilio(url: Self.twilioURL + "&x=1", formParameters: Self.twilioParameters, signatureHeader: signature, authToken: "12345"))
        #expect(!DeliveryReports.verifyTwilio(url: Self.twilioURL, formParameters: Self.twilioParameters, signatureHeader: signature, authToken: "54321"))
        #expect(!DeliveryReports.verifyTwilio(url: Self.twilioURL, formParameters: Self.twilioParameters, signatureHeader: nil, authToken: "12345"))
        #expect(!DeliveryReports.verifyTwilio(url: Self.twilioURL, formParameters: Self.twilioParameters, signatureHeader: "", authToken: "12345"))
        #expect(!DeliveryReports.verifyTwilio(url: Self.twilioURL, formParameters: Self.twilioParameters, signatureHeader: signature, authToken: ""))
    }

    @Test func twilio_handComputedVector() {
        // HMAC-SHA1(key "key", "The quick brown fox jumps over the lazy dog") = de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9
        // (the well-known HMAC example), base64 of those 20 bytes:
        #expect(DeliveryReports.twilioSignature(url: "The quick brown fox jumps over the lazy dog", formParameters: [], authToken: "key")
            == "3nybhbi3iqa8ino29wqQcBydtNk=")
    }

    @Test func parse_webhookReports() throws {
        #expect(try DeliveryReports.parse(provider: .webhook, body: Self.body, contentType: "application/json")
            == [.init(reference: "msg-0001", providerID: "wh-1", status: .delivered)])
        let many = Array(#"[{"reference":"a","status":"failed","error_code":"30005"},{"reference":"b","status":"EXPIRED"},{"reference":"c","status":"queued"}]"#.utf8)
        #expect(try DeliveryReports.parse(provider: .webhook, body: many, contentType: "application/json").map(\.status) == [.failed, .expired, .unknown])
    }

    @Test func parse_sevenReports() throws {
        let hook = Array(#"{"webhook_event":"dlr","webhook_timestamp":"2026-01-01 10:00:00","data":{"msg_id":"77123","status":"DELIVERED","timestamp":"2026-01-01 10:00:00","foreign_id":"msg-0001"}}"#.utf8)
        #expect(try DeliveryReports.parse(provider: .seven, body: hook, contentType: "application/json")
            == [.init(reference: "msg-0001", providerID: "77123", status: .delivered)])
        let form = Array("msg_id=77124&status=NOTDELIVERED&foreign_id=msg-0002".utf8)
        #expect(try DeliveryReports.parse(provider: .seven, body: form, contentType: "application/x-www-form-urlencoded")
            == [.init(reference: "msg-0002", providerID: "77124", status: .failed)])
        let other = Array(#"{"webhook_event":"sms_mo","data":{"id":"1","text":"hi"}}"#.utf8)
        #expect(try DeliveryReports.parse(provider: .seven, body: other, contentType: "application/json").isEmpty)
        for (status, expected) in [("EXPIRED", DeliveryReports.Report.Status.expired), ("REJECTED", .failed), ("BUFFERED", .unknown), ("TRANSMITTED", .unknown)] {
            let body = Array(#"{"msg_id":"1","status":"\#(status)"}"#.utf8)
            #expect(try DeliveryReports.parse(provider: .seven, body: body, contentType: "application/json").first?.status == expected)
        }
    }

    @Test func parse_twilioStatusCallback() throws {
        let body = Array("SmsSid=SM1&SmsStatus=undelivered&MessageStatus=undelivered&To=%2B4915112345678&MessageSid=SM1&AccountSid=AC1&ErrorCode=30005".utf8)
        #expect(try DeliveryReports.parse(provider: .twilio, body: body, contentType: "application/x-www-form-urlencoded")
            == [.init(providerID: "SM1", status: .failed, errorCode: "30005")])
        let delivered = Array("MessageSid=SM2&MessageStatus=delivered".utf8)
        #expect(try DeliveryReports.parse(provider: .twilio, body: delivered, contentType: "application/x-www-form-urlencoded").first?.status == .delivered)
        let sent = Array("MessageSid=SM3&MessageStatus=sent".utf8)
        #expect(try DeliveryReports.parse(provider: .twilio, body: sent, contentType: nil).first?.status == .unknown)
    }

    @Test(arguments: [SMSProviderName.webhook, .seven, .twilio])
    func parse_garbage_isUnreadable(_ provider: SMSProviderName) {
        for body in ["", "not json", "{}", "[]", "%zz=&&=", #"{"status":"delivered"}"#] {
            let error = Fixture.error { _ = try DeliveryReports.parse(provider: provider, body: Array(body.utf8), contentType: "application/json") }
            #expect(error?.kind == .unreadableBody, "\(provider) \(body)")
        }
    }

    @Test func formDecoding_handlesEscapesAndMalformedInput() {
        let pairs = DeliveryReports.formParameters(Array("a=%2B49+1&b=%E2%82%AC&c&d=%zz&e=%4".utf8))
        #expect(pairs.map(\.0) == ["a", "b", "c", "d", "e"])
        #expect(pairs.map(\.1) == ["+49 1", "€", "", "%zz", "%4"])
    }
}

@Suite("seven.io webhook signatures")
struct SevenSignatureTests {
    static let secret = Array("seven-signing-secret".utf8)
    static let body = Array(#"{"webhook_event":"dlr","data":{"msg_id":"77123","status":"DELIVERED","foreign_id":"msg-0001"}}"#.utf8)
    static let url = "https://pickup.example/sms/dlr/seven"

    @Test func genuine_isAccepted_forgedStaleOrMissing_isRefused() {
        let now = 1_800_000_000
        let signature = DeliveryReports.sevenSignature(method: "POST", url: Self.url, body: Self.body, timestamp: now, nonce: "n-1", signingSecret: Self.secret)
        func verify(body: [UInt8] = Self.body, timestamp: String? = String(now), nonce: String? = "n-1", signature: String? = signature, now: Int = now) -> Bool {
            DeliveryReports.verifySeven(method: "POST", url: Self.url, body: body, timestampHeader: timestamp, nonceHeader: nonce,
                                        signatureHeader: signature, signingSecret: Self.secret, now: now)
        }
        #expect(verify())
        #expect(verify(now: now + 299))
        #expect(!verify(now: now + 301))                                  // replayed later
        #expect(!verify(body: Array(Self.body.dropLast())))              // body changed
        #expect(!verify(nonce: "n-2"))
        #expect(!verify(timestamp: String(now + 1)))
        #expect(!verify(signature: nil))
        #expect(!verify(nonce: nil))
        #expect(!verify(timestamp: nil))
        #expect(!verify(signature: String(repeating: "0", count: 64)))
    }
}

@Suite("SMSEnvironment")
struct SMSEnvironmentTests {
    @Test func defaultsToConsole() throws {
        let environment = try SMSEnvironment.load([:])
        #expect(environment.provider == .console)
        #expect(environment.deliveryReportSecret == nil)
    }

    @Test func readsAllVariables_andTheTokenFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sms-token-\(getpid())").path
        try "file-token\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let environment = try SMSEnvironment.load([
            "SMS_PROVIDER": "seven", "SMS_URL": "https://gw.example/api/sms", "SMS_TOKEN_FILE": path,
            "SMS_SENDER": "Buergeramt", "SMS_DLR_SECRET": "s3cret", "SMS_CALLBACK_URL": "https://pickup.example/dlr",
        ])
        #expect(environment.provider == .seven)
        #expect(environment.configuration.token == "file-token")
        #expect(environment.configuration.url == "https://gw.example/api/sms")
        #expect(environment.configuration.sender == "Buergeramt")
        #expect(environment.configuration.callbackURL == "https://pickup.example/dlr")
        #expect(environment.deliveryReportSecret == Array("s3cret".utf8))
        #expect(environment.configuration.connectTimeout == .seconds(5))
        #expect(environment.configuration.totalTimeout == .seconds(15))
        #expect(environment.configuration.maxResponseBytes == 65536)
    }

    @Test func refusesBadSettings() {
        #expect(Fixture.error { _ = try SMSEnvironment.load(["SMS_PROVIDER": "fax"]) }?.kind == .invalidConfiguration)
        #expect(Fixture.error { _ = try SMSEnvironment.load(["SMS_TOKEN": "a", "SMS_TOKEN_FILE": "/etc/hostname"]) }?.kind == .invalidConfiguration)
        #expect(Fixture.error { _ = try SMSEnvironment.load(["SMS_TOKEN_FILE": "/nonexistent/token"]) }?.kind == .invalidConfiguration)
        #expect(Fixture.error { _ = try SMSEnvironment.load(["SMS_CA_FILE": "/nonexistent/ca.pem"]) }?.kind == .invalidConfiguration)
    }
}
