/// The one error type of the `SMSGateway` module.
///
/// `description` is safe to log: it names the kind, the HTTP status, the curl code, the provider's own
/// result code and our `reason`. It never contains the phone number, the text, a token or the response body.
public struct SMSError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, coarsely.
    public enum Kind: Sendable, Equatable {
        /// The gateway's host name could not be resolved.
        case dns
        /// No TCP connection could be made (refused, unreachable), or sending the request failed.
        case connect
        /// The TLS handshake failed: untrusted or mismatching certificate, protocol error, unreadable CA file.
        case tls
        /// The connect or total time-out passed.
        case timeout
        /// The gateway answered with an HTTP status that has no more specific kind (5xx, 408).
        case httpStatus(Int)
        /// The gateway answered with a 3xx; redirects are never followed.
        case redirect(Int)
        /// The connection closed or broke after the request was sent and before a complete reply (curl 52,
        /// 56, 18): the gateway may have taken the message or not.
        case replyLost
        /// The reply could not be parsed.
        case unreadableBody
        /// The reply was larger than `GatewayConfiguration.maxResponseBytes`; the transfer was aborted.
        case bodyTooLarge
        /// HTTP 429 or the provider's own throttling code; `Retry-After` in seconds when the gateway sent one.
        case rateLimited(retryAfterSeconds: Int?)
        /// The provider reported a temporary failure of its own in a 2xx reply (seven codes 600, 700).
        case temporaryFailure
        /// The configuration is unusable (missing URL or token, sender too long, unknown provider).
        case invalidConfiguration
        /// The gateway refused this message for good (4xx other than 408/429, or a permanent provider code).
        case rejected
    }

    /// What went wrong, coarsely.
    public var kind: Kind
    /// Our own text, free of data, e.g. "seven answered code 202".
    public var reason: String
    /// The HTTP status of the reply, when there was one.
    public var httpStatus: Int?
    /// The `CURLcode` of a failed transfer, when the failure came from libcurl.
    public var curlCode: Int?
    /// The provider's own result or error code (seven's `success`, Twilio's `code`): numbers, never free text.
    public var providerCode: String?

    /// Creates an error. `reason` must not contain user data.
    public init(_ kind: Kind, reason: String, httpStatus: Int? = nil, curlCode: Int? = nil, providerCode: String? = nil) {
        self.kind = kind
        self.reason = reason
        self.httpStatus = httpStatus
        self.curlCode = curlCode
        self.providerCode = providerCode
    }

    /// True when sending the same message later may succeed: DNS, connect, time-out, 5xx, 408 and 429.
    ///
    /// DNS counts as retryable because resolver failures are usually transient (a restarting resolver,
    /// a network blip); a misspelt host name keeps failing and surfaces through the dispatcher's attempt limit.
    /// `replyLost`, `unreadableBody` and `bodyTooLarge` are not retryable here: the gateway may have accepted
    /// the message, and sending it again could deliver it twice — unless the provider deduplicates by our
    /// reference (see `isRetryable(providerDeduplicates:)`). TLS and redirects point at a configuration problem.
    public var isRetryable: Bool {
        switch kind {
        case .dns, .connect, .timeout, .rateLimited, .temporaryFailure: true
        case .httpStatus(let status): status >= 500 || status == 408
        case .tls, .redirect, .replyLost, .unreadableBody, .bodyTooLarge, .invalidConfiguration, .rejected: false
        }
    }

    /// Whether to send again, for a provider that does (`true`) or does not deduplicate by our reference:
    /// a lost reply is retried like a time-out when a second request cannot deliver the message twice.
    public func isRetryable(providerDeduplicates: Bool) -> Bool {
        isRetryable || (providerDeduplicates && kind == .replyLost)
    }

    /// Kind, HTTP status, curl code, provider code and reason; never message data, tokens or bodies.
    public var description: String {
        var text = "SMSError.\(kind)"
        if let httpStatus { text += " [HTTP \(httpStatus)]" }
        if let curlCode { text += " [curl \(curlCode)]" }
        if let providerCode { text += " [provider code \(providerCode)]" }
        text += ": \(reason)"
        return text
    }
}
