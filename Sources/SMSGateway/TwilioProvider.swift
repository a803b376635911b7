import Logging

/// The Twilio Messages API: `POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, HTTP basic auth
/// `AccountSid:AuthToken`, form body `To`, `From` (or `MessagingServiceSid` for an `MG…` sender), `Body`,
/// `StatusCallback`. 201 carries `{"sid": "SM…"}`; errors carry `{"code": 21211, "message": …}`.
///
/// The token is configured as `SMS_TOKEN=<AccountSid>:<AuthToken>`; the base URL defaults to
/// `https://api.twilio.com`. Twilio has no idempotency key for this call: a time-out may mean the message
/// went out, which is why only the dispatcher decides about retries.
public struct TwilioProvider: HTTPSMSProvider {
    public let name = "twilio"
    /// Twilio's Messages API takes no idempotency key.
    public let deduplicatesByReference = false
    public static let defaultBaseURL = "https://api.twilio.com"
    let baseURL: String
    let accountSID: String
    let authToken: String
    let sender: String
    let callbackURL: String?
    public let client: CurlHTTPClient
    public let logger: Logger

    public init(configuration: GatewayConfiguration, client: CurlHTTPClient, logger: Logger) throws(SMSError) {
        var baseURL = configuration.url ?? Self.defaultBaseURL
        while baseURL.hasSuffix("/") { baseURL.removeLast() }
        guard baseURL.isHTTPURL else { throw SMSError(.invalidConfiguration, reason: "twilio provider: SMS_URL is not http(s)") }
        guard let token = configuration.token, let colon = token.firstIndex(of: ":"),
              case let sid = String(token[..<colon]), case let secret = String(token[token.index(after: colon)...]),
              !sid.isEmpty, !secret.isEmpty, sid.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw SMSError(.invalidConfiguration, reason: "twilio provider needs SMS_TOKEN=<AccountSid>:<AuthToken>")
        }
        guard let sender = configuration.sender, !sender.isEmpty else {
            throw SMSError(.invalidConfiguration, reason: "twilio provider needs SMS_SENDER (a number or MG… service SID)")
        }
        self.baseURL = baseURL
        self.accountSID = sid
        self.authToken = secret
        self.sender = sender
        self.callbackURL = configuration.callbackURL
        self.client = client
        self.logger = logger
    }

    /// The request for `message` (pure).
    public func request(for message: OutgoingSMS) -> HTTPRequest {
        var fields = [("To", message.to)]
        fields.append(sender.hasPrefix("MG") ? ("MessagingServiceSid", sender) : ("From", sender))
        fields.append(("Body", message.text))
        if let callbackURL { fields.append(("StatusCallback", callbackURL)) }
        let credentials = Wire.base64(Array("\(accountSID):\(authToken)".utf8))
        return HTTPRequest(
            url: "\(baseURL)/2010-04-01/Accounts/\(accountSID)/Messages.json",
            headers: [
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Accept", "application/json"),
                ("Authorization", "Basic \(credentials)"),
            ],
            body: Wire.formEncode(fields)
        )
    }

    /// The message SID from a reply (pure); throws for non-2xx with Twilio's numeric error code attached.
    public func parse(_ reply: HTTPReply) throws(SMSError) -> String? {
        let object = Wire.json(reply.body) as? [String: Any]
        try reply.requireSuccess(provider: name, providerCode: Wire.text(object?["code"]))
        guard let sid = Wire.text(object?["sid"]) else {
            throw SMSError(.unreadableBody, reason: "twilio answered without a message sid", httpStatus: reply.status)
        }
        return sid
    }
}
