import Crypto
import DecimalParsing
import Foundation

/// Incoming delivery reports: authenticating them, then reading them.
///
/// Always verify before parsing; a report that fails verification must be answered 401/403 and dropped.
public enum DeliveryReports {
    /// One status update for one message.
    public struct Report: Sendable, Equatable {
        public enum Status: String, Sendable, Equatable {
            /// The handset received it.
            case delivered
            /// The network or gateway gave up (undelivered, rejected, failed).
            case failed
            /// Its validity period ran out before delivery.
            case expired
            /// An intermediate or unrecognised state (queued, sent, buffered, …): no change to the message.
            case unknown
        }

        /// Our reference (webhook `reference`, seven `foreign_id`), when the provider echoes it.
        public var reference: String?
        /// The provider's message id (as returned by `send`).
        public var providerID: String?
        public var status: Status
        /// The provider's error code for failed reports (Twilio `ErrorCode`), when given.
        public var errorCode: String?

        public init(reference: String? = nil, providerID: String? = nil, status: Status, errorCode: String? = nil) {
            self.reference = reference
            self.providerID = providerID
            self.status = status
            self.errorCode = errorCode
        }
    }

    /// Our webhook scheme: `X-Timestamp: <Unix seconds>` and
    /// `X-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>` (SMS_DLR_SECRET). The
    /// timestamp is inside the signature, so a captured report cannot be replayed later with a new one; a
    /// timestamp more than `maxAgeSeconds` away from `now` is refused (and within the window the receiver
    /// accepts each signature once). Hex is accepted in either case; the comparison is constant-time.
    /// Missing or malformed → false.
    public static func verifyWebhook(body: [UInt8], timestampHeader: String?, signatureHeader: String?, secret: [UInt8], now: Int,
                                     maxAgeSeconds: Int = replayWindowSeconds) -> Bool {
        guard !secret.isEmpty, let header = signatureHeader?.trimmingWhitespace(),
              let timestamp = timestampHeader.flatMap({ Int(decimal: $0.trimmingWhitespace(), allowingSign: true) }), abs(now - timestamp) <= maxAgeSeconds else { return false }
        guard header.lowercased().hasPrefix("sha256="), let given = hexBytes(header.dropFirst("sha256=".count)) else {
            return false
        }
        return constantTimeEquals(webhookSignatureBytes(body: body, timestamp: timestamp, secret: secret), given)
    }

    /// The `X-Signature` value for `body` sent at `timestamp`, as a sender (or a test) puts it beside `X-Timestamp`.
    public static func webhookSignature(body: [UInt8], timestamp: Int, secret: [UInt8]) -> String {
        "sha256=" + Crypto.hex(webhookSignatureBytes(body: body, timestamp: timestamp, secret: secret))
    }

    private static func webhookSignatureBytes(body: [UInt8], timestamp: Int, secret: [UInt8]) -> [UInt8] {
        Crypto.hmacSHA256(key: secret, Array((String(timestamp) + ".").utf8) + body)
    }

    /// How far a signed timestamp (webhook, seven) may be from the receiver's clock.
    public static let replayWindowSeconds = 300

    /// Twilio's scheme: `X-Twilio-Signature = base64(HMAC-SHA1(AuthToken, url + Σ sorted(name + value)))`,
    /// where `url` is the full URL Twilio called (scheme, host, port as configured, path and query) and the
    /// POST parameters are sorted by name (then value, for repeated names) and concatenated without separators.
    public static func verifyTwilio(url: String, formParameters: [(String, String)], signatureHeader: String?, authToken: String) -> Bool {
        guard !authToken.isEmpty, let header = signatureHeader?.trimmingWhitespace(), !header.isEmpty else { return false }
        let expected = twilioSignature(url: url, formParameters: formParameters, authToken: authToken)
        return constantTimeEquals(Array(expected.utf8), Array(header.utf8))
    }

    /// The `X-Twilio-Signature` value Twilio would send for this request.
    public static func twilioSignature(url: String, formParameters: [(String, String)], authToken: String) -> String {
        let sorted = formParameters.sorted { $0.0 == $1.0 ? $0.1.utf8.lexicographicallyPrecedes($1.1.utf8) : $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
        let signed = url + sorted.map { $0.0 + $0.1 }.joined()
        return Wire.base64(Crypto.hmacSHA1(key: Array(authToken.utf8), Array(signed.utf8)))
    }

    /// seven.io's signed webhooks: `X-Signature = hex(HMAC-SHA256(signingSecret,
    /// timestamp + "\n" + nonce + "\n" + METHOD + "\n" + url + "\n" + hex(MD5(body))))`, with the
    /// `X-Timestamp` (Unix seconds) and `X-Nonce` headers; a timestamp more than `maxAgeSeconds` away from
    /// `now` is refused (replay). Scheme as implemented by seven's own client library (`WebhookVerifier`);
    /// no published test vector was available, so the tests are self-consistent only.
    public static func verifySeven(
        method: String, url: String, body: [UInt8], timestampHeader: String?, nonceHeader: String?,
        signatureHeader: String?, signingSecret: [UInt8], now: Int, maxAgeSeconds: Int = replayWindowSeconds
    ) -> Bool {
        guard !signingSecret.isEmpty, let timestamp = timestampHeader.flatMap({ Int(decimal: $0.trimmingWhitespace(), allowingSign: true) }),
              let nonce = nonceHeader?.trimmingWhitespace(), !nonce.isEmpty,
              let signature = signatureHeader?.trimmingWhitespace(), let given = hexBytes(Substring(signature)),
              abs(now - timestamp) <= maxAgeSeconds else { return false }
        let expected = sevenSignatureBytes(method: method, url: url, body: body, timestamp: timestamp, nonce: nonce, signingSecret: signingSecret)
        return constantTimeEquals(expected, given)
    }

    /// The `X-Signature` value seven would send (lower-case hex).
    public static func sevenSignature(method: String, url: String, body: [UInt8], timestamp: Int, nonce: String, signingSecret: [UInt8]) -> String {
        Crypto.hex(sevenSignatureBytes(method: method, url: url, body: body, timestamp: timestamp, nonce: nonce, signingSecret: signingSecret))
    }

    private static func sevenSignatureBytes(method: String, url: String, body: [UInt8], timestamp: Int, nonce: String, signingSecret: [UInt8]) -> [UInt8] {
        let signed = [String(timestamp), nonce, method.uppercased(), url, Crypto.hex(Crypto.md5(body))].joined(separator: "\n")
        return Crypto.hmacSHA256(key: signingSecret, Array(signed.utf8))
    }

    /// Decodes an `application/x-www-form-urlencoded` body (for `verifyTwilio` and the handler).
    public static func formParameters(_ body: [UInt8]) -> [(String, String)] {
        Wire.formDecode(body)
    }

    /// The once-only keys of the reports of a verified request, one per report (docs/ARCHITECTURE.md#sms): a receiver
    /// that has seen a key must change nothing for its report. webhook and seven sign a timestamp that must
    /// be within the replay window, so each signed request is accepted once within it — keyed by its
    /// signature (webhook) or its nonce (seven) with the timestamp; twilio signs no time, so each
    /// message SID with its status counts once, however often the same report arrives.
    public static func onceKeys(provider: SMSProviderName, timestampHeader: String?, signatureHeader: String?, nonceHeader: String?,
                                reports: [Report]) -> [String] {
        let timestamp = timestampHeader?.trimmingWhitespace() ?? ""
        switch provider {
        case .webhook:
            let signature = (signatureHeader?.trimmingWhitespace() ?? "").lowercased()
            return reports.indices.map { "webhook:\(timestamp):\(signature):\($0)" }
        case .seven:
            let nonce = nonceHeader?.trimmingWhitespace() ?? ""
            return reports.indices.map { "seven:\(timestamp):\(nonce):\($0)" }
        case .twilio:
            return reports.map { "twilio:\($0.providerID ?? ""):\($0.status.rawValue)" }
        case .console:
            return reports.indices.map { "console:\($0)" }
        }
    }

    /// Reads the reports in a verified body. Throws `.unreadableBody` when the body is not in the provider's shape.
    ///
    /// - webhook: JSON `{"reference", "id"?, "status"}` or an array of them; status `delivered`, `failed`,
    ///   `expired` (others → `.unknown`).
    /// - seven: the `dlr` webhook JSON `{"webhook_event": "dlr", "data": {"msg_id", "status", "foreign_id"?}}`,
    ///   the same fields unwrapped, or as a form; status DELIVERED, NOTDELIVERED/REJECTED/FAILED, EXPIRED,
    ///   others (BUFFERED, TRANSMITTED, ACCEPTED, UNKNOWN) → `.unknown`.
    /// - twilio: the status-callback form `MessageSid`, `MessageStatus`, `ErrorCode`; delivered/read,
    ///   undelivered/failed/canceled, others (queued, sending, sent, …) → `.unknown`.
    public static func parse(provider: SMSProviderName, body: [UInt8], contentType: String?) throws(SMSError) -> [Report] {
        let isForm = contentType?.lowercased().hasPrefix("application/x-www-form-urlencoded") ?? false
        switch provider {
        case .webhook:
            let json = Wire.json(body)
            let objects = (json as? [Any])?.compactMap { $0 as? [String: Any] } ?? (json as? [String: Any]).map { [$0] }
            guard let objects, !objects.isEmpty else { throw unreadable(provider) }
            return try objects.map { object throws(SMSError) in
                let reference = Wire.text(object["reference"])
                let id = Wire.text(object["id"])
                guard reference != nil || id != nil, let status = Wire.text(object["status"]) else { throw unreadable(provider) }
                return Report(reference: reference, providerID: id, status: webhookStatus(status), errorCode: Wire.text(object["error_code"]))
            }
        case .seven:
            var fields: [String: Any]
            if isForm {
                fields = Dictionary(formParameters(body), uniquingKeysWith: { first, _ in first })
            } else {
                guard let object = Wire.json(body) as? [String: Any] else { throw unreadable(provider) }
                fields = (object["data"] as? [String: Any]) ?? object
                if let event = Wire.text(object["webhook_event"]), event != "dlr" { return [] }
            }
            let id = Wire.text(fields["msg_id"]) ?? Wire.text(fields["id"])
            let reference = Wire.text(fields["foreign_id"]).flatMap { $0.isEmpty ? nil : $0 }
            guard id != nil || reference != nil, let status = Wire.text(fields["status"]) else { throw unreadable(provider) }
            return [Report(reference: reference, providerID: id, status: sevenStatus(status))]
        case .twilio:
            let fields = Dictionary(formParameters(body), uniquingKeysWith: { first, _ in first })
            guard let sid = fields["MessageSid"] ?? fields["SmsSid"], let status = fields["MessageStatus"] ?? fields["SmsStatus"] else {
                throw unreadable(provider)
            }
            let errorCode = fields["ErrorCode"].flatMap { $0.isEmpty ? nil : $0 }
            return [Report(providerID: sid, status: twilioStatus(status), errorCode: errorCode)]
        case .console:
            throw SMSError(.invalidConfiguration, reason: "the console provider sends no delivery reports")
        }
    }

    private static func unreadable(_ provider: SMSProviderName) -> SMSError {
        SMSError(.unreadableBody, reason: "\(provider.rawValue) delivery report not in the expected shape")
    }

    static func webhookStatus(_ status: String) -> Report.Status {
        Report.Status(rawValue: status.lowercased()) ?? .unknown
    }

    static func sevenStatus(_ status: String) -> Report.Status {
        switch status.uppercased() {
        case "DELIVERED": .delivered
        case "NOTDELIVERED", "REJECTED", "FAILED": .failed
        case "EXPIRED": .expired
        default: .unknown
        }
    }

    static func twilioStatus(_ status: String) -> Report.Status {
        switch status.lowercased() {
        case "delivered", "read": .delivered
        case "undelivered", "failed", "canceled": .failed
        default: .unknown
        }
    }

    private static func hexBytes(_ text: Substring) -> [UInt8]? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count.isMultiple(of: 2) else { return nil }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count / 2)
        var index = 0
        while index < bytes.count {
            guard let high = Wire.hexValue(bytes[index]), let low = Wire.hexValue(bytes[index + 1]) else { return nil }
            result.append(high << 4 | low)
            index += 2
        }
        return result
    }
}
