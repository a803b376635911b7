import Logging

/// A generic JSON webhook: `POST <url>` with `{"reference", "text", "to"}` and `Authorization: Bearer <token>`.
/// The reference also goes out as `Idempotency-Key`, so a gateway can drop a repeat after a time-out.
/// A 2xx answer may carry `{"id": "…"}`, the gateway's message id.
public struct WebhookProvider: HTTPSMSProvider {
    public let name = "webhook"
    /// Our reference travels as `reference` and `Idempotency-Key`.
    public let deduplicatesByReference = true
    let url: String
    let token: String
    public let client: CurlHTTPClient
    public let logger: Logger

    public init(configuration: GatewayConfiguration, client: CurlHTTPClient, logger: Logger) throws(SMSError) {
        guard let url = configuration.url, url.isHTTPURL else {
            throw SMSError(.invalidConfiguration, reason: "webhook provider needs SMS_URL (http or https)")
        }
        guard let token = configuration.token, !token.isEmpty else {
            throw SMSError(.invalidConfiguration, reason: "webhook provider needs SMS_TOKEN")
        }
        self.url = url
        self.token = token
        self.client = client
        self.logger = logger
    }

    /// The request for `message` (pure).
    public func request(for message: OutgoingSMS) -> HTTPRequest {
        HTTPRequest(
            url: url,
            headers: [
                ("Content-Type", "application/json"),
                ("Accept", "application/json"),
                ("Authorization", "Bearer \(token)"),
                ("Idempotency-Key", message.reference),
            ],
            body: Wire.jsonObject([("to", message.to), ("text", message.text), ("reference", message.reference)])
        )
    }

    /// The gateway's message id from a reply (pure); throws for non-2xx.
    public func parse(_ reply: HTTPReply) throws(SMSError) -> String? {
        try reply.requireSuccess(provider: name)
        let object = Wire.json(reply.body) as? [String: Any]
        return Wire.text(object?["id"])
    }
}

extension String {
    var isHTTPURL: Bool {
        let lowered = lowercased()
        return (lowered.hasPrefix("https://") || lowered.hasPrefix("http://")) && !contains(where: { $0.isWhitespace })
    }
}
