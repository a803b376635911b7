import Logging

/// One SMS to send. `reference` is our outbox message id; providers pass it on as their idempotency
/// or foreign id, so a delivery report (and a support ticket) can be matched to the message.
public struct OutgoingSMS: Sendable {
    /// Our message id; also the provider's idempotency / foreign id. Must not contain personal data.
    public let reference: String
    /// The recipient in E.164 (`+4915112345678`).
    public let to: String
    /// The text; see `SMSText.segments(of:)` for its cost.
    public let text: String

    public init(reference: String, to: String, text: String) {
        self.reference = reference
        self.to = to
        self.text = text
    }
}

/// A gateway adapter. `send` blocks (HTTP): call it from the dispatcher's thread, not the concurrency pool.
public protocol SMSProvider: Sendable {
    /// `webhook`, `seven`, `twilio` or `console`: for logs and metrics.
    var name: String { get }
    /// True when the gateway deduplicates by `OutgoingSMS.reference`, so that sending a message again
    /// after a lost reply cannot deliver it twice (webhook `Idempotency-Key`, seven `foreign_id`).
    var deduplicatesByReference: Bool { get }
    /// Hands the message to the gateway and returns the gateway's message id, when it gives one.
    /// Throws `SMSError`; `isRetryable(providerDeduplicates:)` tells the dispatcher whether to try again later.
    func send(_ message: OutgoingSMS) throws(SMSError) -> String?
}

/// A provider that talks HTTP to a gateway: it builds the request and reads the reply (both pure,
/// tested on their own); sending is the same for all of them.
public protocol HTTPSMSProvider: SMSProvider {
    var client: CurlHTTPClient { get }
    var logger: Logger { get }
    func request(for message: OutgoingSMS) -> HTTPRequest
    func parse(_ reply: HTTPReply) throws(SMSError) -> String?
}

extension HTTPSMSProvider {
    public func send(_ message: OutgoingSMS) throws(SMSError) -> String? {
        let request = request(for: message)
        let reply = try client.post(url: request.url, headers: request.headers, body: request.body)
        let id = try parse(reply)
        logger.debug("SMS handed to gateway", metadata: ["sms.provider": "\(name)", "sms.reference": "\(message.reference)"])
        return id
    }
}

/// The providers selectable through `SMS_PROVIDER`.
public enum SMSProviderName: String, Sendable, CaseIterable {
    case webhook, seven, twilio, console
}

/// An HTTP request as the provider adapters build it: pure data, sent by `CurlHTTPClient`.
public struct HTTPRequest: Sendable {
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(url: String, headers: [(String, String)], body: [UInt8]) {
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// The first value of a header; `name` is compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

extension HTTPReply {
    /// Throws for every non-2xx status, the same way for all providers:
    /// 3xx → `.redirect`; 429 → `.rateLimited`; 401/403 → `.invalidConfiguration` (our credentials);
    /// 408 and 5xx → `.httpStatus` (retryable); other 4xx → `.rejected`; anything else → `.unreadableBody`.
    /// `providerCode` is the provider's numeric error code from the body, when the caller could extract one.
    func requireSuccess(provider: String, providerCode: String? = nil) throws(SMSError) {
        switch status {
        case 200..<300:
            return
        case 300..<400:
            throw SMSError(.redirect(status), reason: "\(provider) answered with a redirect (not followed)", httpStatus: status)
        case 429:
            throw SMSError(.rateLimited(retryAfterSeconds: retryAfterSeconds), reason: "\(provider) is throttling us",
                           httpStatus: status, providerCode: providerCode)
        case 401, 403:
            throw SMSError(.invalidConfiguration, reason: "\(provider) refused our credentials", httpStatus: status,
                           providerCode: providerCode)
        case 408, 500..<600:
            throw SMSError(.httpStatus(status), reason: "\(provider) failed temporarily", httpStatus: status,
                           providerCode: providerCode)
        case 400..<500:
            throw SMSError(.rejected, reason: "\(provider) rejected the message", httpStatus: status, providerCode: providerCode)
        default:
            throw SMSError(.unreadableBody, reason: "\(provider) answered with an unexpected status", httpStatus: status)
        }
    }
}
