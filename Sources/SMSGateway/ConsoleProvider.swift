import Logging

/// Writes the whole message — number and text, so the demo can show the PIN — to the log and "sends" nothing.
///
/// For local use only (`make run`, the demo): it logs personal data on purpose, which production logging must
/// never do. `SMSProviderFactory` logs a warning whenever it is selected.
public struct ConsoleProvider: SMSProvider {
    public let name = "console"
    /// Nothing is sent twice: the console has no connection to lose.
    public let deduplicatesByReference = true
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func send(_ message: OutgoingSMS) throws(SMSError) -> String? {
        let id = "console-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let cost = SMSText.segments(of: message.text)
        logger.notice(
            "SMS (console provider, not sent)",
            metadata: [
                "sms.reference": "\(message.reference)",
                "sms.id": "\(id)",
                "sms.to": "\(message.to)",
                "sms.text": "\(message.text)",
                "sms.encoding": "\(cost.encoding)",
                "sms.segments": "\(cost.segments)",
            ]
        )
        return id
    }
}
