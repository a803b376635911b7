import DecimalParsing
import Logging

/// The seven.io HTTP API: `POST https://gateway.seven.io/api/sms` with `X-Api-Key`, a JSON body
/// `{to, text, from, foreign_id}`, answered with HTTP 200 and `{"success": "100", "messages": [{"id": …}]}`.
///
/// seven reports most failures with HTTP 200 and a numeric code in `success` (or a bare code as the
/// whole body). Their published code list, and how we treat each:
/// - 100 sent; 101 sent to some recipients only (we send to one, so: failed → `.rejected`)
/// - 201 country code invalid, 202 recipient invalid, 301 `to` missing, 304/305 type/text missing,
///   306 sender invalid, 400 type invalid, 401 text too long → `.rejected` (this message will never pass)
/// - 402 reload lock (same text to the same number within seconds) → `.rejected`: an earlier attempt went through
/// - 300 authentication missing, 500 not enough credits, 900 wrong API key, 902 API deactivated,
///   903 IP not allowed → `.invalidConfiguration` (account problem, staff must act; not retried)
/// - 600 carrier failed, 700 unknown error → `.temporaryFailure` (retried)
/// - any other code → `.rejected` (unknown codes are not retried blindly; they show up for staff)
///
/// Delivery reports: seven posts them to the account's `dlr` webhook (subscribed once per account, not per
/// message) and echoes `foreign_id` (our reference) there; `callbackURL` is therefore not sent.
public struct SevenProvider: HTTPSMSProvider {
    public let name = "seven"
    /// Our reference travels as `foreign_id`.
    public let deduplicatesByReference = true
    public static let defaultURL = "https://gateway.seven.io/api/sms"
    let url: String
    let apiKey: String
    let sender: String?
    public let client: CurlHTTPClient
    public let logger: Logger

    public init(configuration: GatewayConfiguration, client: CurlHTTPClient, logger: Logger) throws(SMSError) {
        let url = configuration.url ?? Self.defaultURL
        guard url.isHTTPURL else { throw SMSError(.invalidConfiguration, reason: "seven provider: SMS_URL is not http(s)") }
        guard let apiKey = configuration.token, !apiKey.isEmpty else {
            throw SMSError(.invalidConfiguration, reason: "seven provider needs SMS_TOKEN (the API key)")
        }
        if let sender = configuration.sender, !Self.isValidSender(sender) {
            throw SMSError(.invalidConfiguration, reason: "seven provider: SMS_SENDER must be 1-11 letters/digits or up to 16 digits")
        }
        self.url = url
        self.apiKey = apiKey
        self.sender = configuration.sender
        self.client = client
        self.logger = logger
    }

    /// Alphanumeric sender ids are limited to 11 characters by GSM 03.40 (TP-OA); numeric ones to 16 digits.
    public static func isValidSender(_ sender: String) -> Bool {
        guard !sender.isEmpty, sender.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) }) else {
            return false
        }
        let numeric = sender.unicodeScalars.allSatisfy { ("0"..."9").contains($0) }
        return numeric ? sender.count <= 16 : sender.count <= 11
    }

    /// The request for `message` (pure).
    public func request(for message: OutgoingSMS) -> HTTPRequest {
        var fields = [("to", message.to), ("text", message.text), ("foreign_id", message.reference)]
        if let sender { fields.append(("from", sender)) }
        return HTTPRequest(
            url: url,
            headers: [("Content-Type", "application/json"), ("Accept", "application/json"), ("X-Api-Key", apiKey)],
            body: Wire.jsonObject(fields)
        )
    }

    /// The message id from a reply (pure); throws for non-2xx and for every code other than 100.
    public func parse(_ reply: HTTPReply) throws(SMSError) -> String? {
        let object = Wire.json(reply.body)
        let dictionary = object as? [String: Any]
        let code = Wire.text(dictionary?["success"]) ?? Wire.text(object)
        try reply.requireSuccess(provider: name, providerCode: code.flatMap { Int(decimal: $0, allowingSign: true) == nil ? nil : $0 })
        guard let code, Int(decimal: code, allowingSign: true) != nil else {
            throw SMSError(.unreadableBody, reason: "seven answered without a result code", httpStatus: reply.status)
        }
        let first = (dictionary?["messages"] as? [Any])?.first as? [String: Any]
        if code == "100" {
            if let first, let success = first["success"] as? Bool, !success {
                let perMessage = Wire.text(first["error"]).flatMap { Int(decimal: $0, allowingSign: true) == nil ? nil : $0 }
                throw SMSError(.rejected, reason: "seven rejected the message", httpStatus: reply.status, providerCode: perMessage)
            }
            return Wire.text(first?["id"])
        }
        throw Self.error(forCode: code, httpStatus: reply.status)
    }

    static func error(forCode code: String, httpStatus: Int) -> SMSError {
        switch code {
        case "300", "500", "900", "902", "903":
            SMSError(.invalidConfiguration, reason: "seven refused our account or key", httpStatus: httpStatus, providerCode: code)
        case "600", "700":
            SMSError(.temporaryFailure, reason: "seven failed temporarily", httpStatus: httpStatus, providerCode: code)
        default:
            SMSError(.rejected, reason: "seven rejected the message", httpStatus: httpStatus, providerCode: code)
        }
    }
}
