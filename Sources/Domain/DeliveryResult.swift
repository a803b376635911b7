/// What became of one scanned item of a delivery (`delivery_item.result`).
public enum DeliveryResult: String, Sendable, Hashable, Codable, CaseIterable {
    /// The document belongs to an application waiting for it, which moved on.
    case matched
    /// No application has the Vorgangsnummer (or none was given).
    case unknown
    /// The document number is already recorded, or twice in this delivery.
    case duplicate
    /// The application has its document already.
    case alreadyDelivered = "already_delivered"
    /// The application was withdrawn.
    case cancelled
    /// The document number or Vorgangsnummer is malformed.
    case invalid
}
