import Foundation

/// The SMS settings from the process environment, read and validated in one place at start-up.
///
/// `SMS_PROVIDER` (webhook | seven | twilio | console; default console), `SMS_URL`, `SMS_TOKEN` or
/// `SMS_TOKEN_FILE` (not both; one trailing newline is dropped), `SMS_SENDER`, `SMS_DLR_SECRET`
/// (our webhook's shared secret, or seven's signing secret), `SMS_CALLBACK_URL` (Twilio `StatusCallback`),
/// `SMS_CA_FILE` (a PEM bundle for on-premise gateways).
public struct SMSEnvironment: Sendable {
    public var provider: SMSProviderName
    public var configuration: GatewayConfiguration
    /// The delivery-report secret, when set.
    public var deliveryReportSecret: [UInt8]?

    public init(provider: SMSProviderName, configuration: GatewayConfiguration, deliveryReportSecret: [UInt8]?) {
        self.provider = provider
        self.configuration = configuration
        self.deliveryReportSecret = deliveryReportSecret
    }

    public static func load(_ environment: [String: String]) throws(SMSError) -> SMSEnvironment {
        func value(_ name: String) -> String? {
            guard let text = environment[name]?.trimmingWhitespace(), !text.isEmpty else { return nil }
            return text
        }
        let providerName = value("SMS_PROVIDER") ?? SMSProviderName.console.rawValue
        guard let provider = SMSProviderName(rawValue: providerName.lowercased()) else {
            throw SMSError(.invalidConfiguration, reason: "unknown SMS_PROVIDER (use webhook, seven, twilio or console)")
        }
        var token = value("SMS_TOKEN")
        if let path = value("SMS_TOKEN_FILE") {
            guard token == nil else { throw SMSError(.invalidConfiguration, reason: "set SMS_TOKEN or SMS_TOKEN_FILE, not both") }
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw SMSError(.invalidConfiguration, reason: "SMS_TOKEN_FILE is not a readable UTF-8 file")
            }
            token = text.trimmingWhitespace()
            if token?.isEmpty == true { throw SMSError(.invalidConfiguration, reason: "SMS_TOKEN_FILE is empty") }
        }
        if let caFile = value("SMS_CA_FILE"), !FileManager.default.isReadableFile(atPath: caFile) {
            throw SMSError(.invalidConfiguration, reason: "SMS_CA_FILE is not readable")
        }
        let configuration = GatewayConfiguration(
            url: value("SMS_URL"), token: token, sender: value("SMS_SENDER"), caFile: value("SMS_CA_FILE"),
            callbackURL: value("SMS_CALLBACK_URL")
        )
        return SMSEnvironment(provider: provider, configuration: configuration,
                              deliveryReportSecret: value("SMS_DLR_SECRET").map { Array($0.utf8) })
    }
}
