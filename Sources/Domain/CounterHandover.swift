import Foundation

/// Who collected a document at the counter.
public enum HandoverRecipient: String, Sendable, Hashable, Codable, CaseIterable {
    /// The applicant in person.
    case applicant
    /// Another person with a power of attorney signed by the applicant.
    case proxy
}

/// The checks a caseworker confirms when handing a document over at the counter (seed 004: in
/// person, or by a proxy with a signed power of attorney and the expired documents; the previous
/// permit is collected; the fee is paid by card before the handover).
public struct CounterHandover: Sendable, Hashable {
    public let recipient: HandoverRecipient
    /// The proxy's name as on their identity document (kept with the application until erasure).
    public let proxyName: String?
    public let powerOfAttorneyChecked: Bool
    public let identityChecked: Bool
    public let oldDocumentCollected: Bool
    /// The fee was paid now (card payment at the counter).
    public let feePaidNow: Bool

    public init(recipient: HandoverRecipient, proxyName: String?, powerOfAttorneyChecked: Bool, identityChecked: Bool,
                oldDocumentCollected: Bool, feePaidNow: Bool) {
        self.recipient = recipient
        self.proxyName = proxyName
        self.powerOfAttorneyChecked = powerOfAttorneyChecked
        self.identityChecked = identityChecked
        self.oldDocumentCollected = oldDocumentCollected
        self.feePaidNow = feePaidNow
    }

    /// Throws the first check that is missing, naming the API field: the identity of whoever
    /// collects; for a proxy their name and the power of attorney; the old document at a renewal;
    /// the fee unless it is zero or was settled before.
    public func validate(issuance: Issuance, feeCents: Int, feeSettledBefore: Bool) throws(DomainError) {
        guard identityChecked else { throw .handoverCheckMissing(field: "identityChecked", check: .identity) }
        if recipient == .proxy {
            guard let name = proxyName, !name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw .handoverCheckMissing(field: "proxyName", check: .proxyName)
            }
            guard powerOfAttorneyChecked else { throw .handoverCheckMissing(field: "powerOfAttorneyChecked", check: .powerOfAttorney) }
        }
        if issuance == .renewal && !oldDocumentCollected {
            throw .handoverCheckMissing(field: "oldDocumentCollected", check: .oldDocument)
        }
        guard feeCents <= 0 || feeSettledBefore || feePaidNow else { throw .feeNotSettled(field: "feeSettled") }
    }

    /// One of the handover checks, for ``DomainError/handoverCheckMissing(field:check:)``.
    public enum Check: String, Sendable, Hashable, CaseIterable {
        case identity = "identity_not_checked"
        case proxyName = "proxy_name_missing"
        case powerOfAttorney = "power_of_attorney_missing"
        case oldDocument = "old_document_not_collected"
    }
}
