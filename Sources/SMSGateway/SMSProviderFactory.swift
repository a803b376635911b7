import Logging

/// Builds the provider named by `SMS_PROVIDER`, validating its configuration once, at start-up.
public enum SMSProviderFactory {
    /// `name` is `webhook`, `seven`, `twilio` or `console`; anything else is `.invalidConfiguration`.
    public static func make(
        name: String,
        configuration: GatewayConfiguration,
        client: CurlHTTPClient,
        logger: Logger
    ) throws(SMSError) -> any SMSProvider {
        guard let provider = SMSProviderName(rawValue: name.lowercased()) else {
            throw SMSError(.invalidConfiguration, reason: "unknown SMS_PROVIDER (use webhook, seven, twilio or console)")
        }
        guard configuration.maxResponseBytes > 0 else {
            throw SMSError(.invalidConfiguration, reason: "maxResponseBytes must be positive")
        }
        switch provider {
        case .webhook: return try WebhookProvider(configuration: configuration, client: client, logger: logger)
        case .seven: return try SevenProvider(configuration: configuration, client: client, logger: logger)
        case .twilio: return try TwilioProvider(configuration: configuration, client: client, logger: logger)
        case .console:
            logger.warning("SMS_PROVIDER=console: messages (with numbers and PINs) go to the log; for local use only")
            return ConsoleProvider(logger: logger)
        }
    }
}
