import Foundation
import Logging
import Testing
@testable import SMSGateway

/// Test data and builders. The phone number, text and token are distinctive so a leak is easy to spot.
enum Fixture {
    static let phone = "+4915112345678"
    static let text = "Ihre PIN lautet 482913. Abholung bis 12.05."
    static let token = "t0ken-VERY-SECRET"
    static let twilioToken = "AC0123456789abcdef:authTOKEN-SECRET"
    static let message = OutgoingSMS(reference: "msg-0001", to: phone, text: text)

    static let logger = Logger(label: "sms-tests") { _ in SwiftLogNoOpLogHandler() }

    static func configuration(
        url: String?,
        token: String? = nil,
        sender: String? = "Buergeramt",
        caFile: String? = nil,
        connectTimeout: Duration = .seconds(2),
        totalTimeout: Duration = .seconds(3),
        maxResponseBytes: Int = 64 * 1024,
        callbackURL: String? = nil
    ) -> GatewayConfiguration {
        GatewayConfiguration(url: url, token: token, sender: sender, caFile: caFile, connectTimeout: connectTimeout,
                             totalTimeout: totalTimeout, maxResponseBytes: maxResponseBytes, callbackURL: callbackURL)
    }

    /// A provider of kind `name` pointed at `base` (a loopback or TLS test server), with its own client.
    static func provider(
        _ name: SMSProviderName,
        base: String,
        caFile: String? = nil,
        totalTimeout: Duration = .seconds(3),
        callbackURL: String? = nil
    ) throws -> any SMSProvider {
        let (url, token, sender): (String, String, String) = switch name {
        case .webhook: (base + "/sms", Self.token, "Buergeramt")
        case .seven: (base + "/api/sms", Self.token, "Buergeramt")
        case .twilio: (base, twilioToken, "+4930123456")
        case .console: (base, Self.token, "Buergeramt")
        }
        let configuration = Self.configuration(url: url, token: token, sender: sender, caFile: caFile,
                                               totalTimeout: totalTimeout, callbackURL: callbackURL)
        return try SMSProviderFactory.make(name: name.rawValue, configuration: configuration,
                                           client: CurlHTTPClient(configuration: configuration), logger: logger)
    }

    /// What each provider answers when it accepted the message.
    static func successReply(_ name: SMSProviderName) -> LoopbackServer.Reply {
        switch name {
        case .webhook: .respond(status: 200, headers: [("Content-Type", "application/json")], body: Array(#"{"id":"wh-1"}"#.utf8))
        case .seven: .respond(status: 200, headers: [("Content-Type", "application/json")],
                              body: Array(#"{"success":"100","total_price":0.075,"messages":[{"id":"77123","success":true,"error":null}]}"#.utf8))
        case .twilio: .respond(status: 201, headers: [("Content-Type", "application/json")],
                               body: Array(#"{"sid":"SM0123456789abcdef","status":"queued"}"#.utf8))
        case .console: .respond(status: 200)
        }
    }

    static func expectedID(_ name: SMSProviderName) -> String? {
        switch name {
        case .webhook: "wh-1"
        case .seven: "77123"
        case .twilio: "SM0123456789abcdef"
        case .console: nil
        }
    }

    /// The `SMSError` thrown by `body` (any other error is a test failure); nil when nothing was thrown.
    static func error(_ body: () throws -> Void) -> SMSError? {
        do {
            try body()
            return nil
        } catch let error as SMSError {
            return error
        } catch {
            Issue.record("unexpected error type: \(type(of: error))")
            return nil
        }
    }

    /// True when `error`'s description leaks none of the message data or secrets.
    static func isClean(_ error: SMSError) -> Bool {
        let text = error.description
        return !text.contains(phone) && !text.contains("4915112345678") && !text.contains("482913")
            && !text.contains("Abholung") && !text.contains("SECRET") && !text.contains("xxxx")
    }
}

/// Seconds elapsed while running `body`.
func measure<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = ContinuousClock.now
    let value = try body()
    let elapsed = ContinuousClock.now - start
    return (value, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}
