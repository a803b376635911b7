/// Where and how to reach the SMS gateway. Read and validated once at start-up (see `SMSProviderFactory`).
public struct GatewayConfiguration: Sendable {
    /// The gateway endpoint. webhook: the full URL (required). seven: the full URL, default
    /// `https://gateway.seven.io/api/sms`. twilio: the API base, default `https://api.twilio.com`.
    public var url: String?
    /// webhook: the bearer token. seven: the API key. twilio: `AccountSid:AuthToken`.
    public var token: String?
    /// The sender id shown on the phone. seven: up to 11 letters/digits, or up to 16 digits.
    /// twilio: an E.164 number, or a Messaging Service SID (`MG…`).
    public var sender: String?
    /// A PEM file with the CA certificates to trust instead of the system store (on-premise gateways).
    public var caFile: String?
    /// Time allowed for DNS, TCP and TLS set-up.
    public var connectTimeout: Duration
    /// Time allowed for the whole request, including the connect phase.
    public var totalTimeout: Duration
    /// Replies larger than this are aborted with `.bodyTooLarge`.
    public var maxResponseBytes: Int
    /// Where the provider should send delivery reports (Twilio `StatusCallback`, seven `delivery_report` URL).
    public var callbackURL: String?

    public init(
        url: String? = nil,
        token: String? = nil,
        sender: String? = nil,
        caFile: String? = nil,
        connectTimeout: Duration = .seconds(5),
        totalTimeout: Duration = .seconds(15),
        maxResponseBytes: Int = 64 * 1024,
        callbackURL: String? = nil
    ) {
        self.url = url
        self.token = token
        self.sender = sender
        self.caFile = caFile
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.maxResponseBytes = maxResponseBytes
        self.callbackURL = callbackURL
    }
}

extension Duration {
    /// Whole milliseconds, at least 1 (curl treats 0 as "no time-out").
    var curlMilliseconds: Int {
        let (seconds, attoseconds) = components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}
