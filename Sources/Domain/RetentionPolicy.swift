import Foundation

/// How long personal data is kept (PRIVACY.md#erasure-on-schedule): one policy for the whole installation.
///
/// The personal data of an application (names, date of birth, mobile number, CAN hash, document
/// numbers, proxy name, free-text notes, household, fee exemption reason, accessibility need) is
/// erased ``daysAfterClose`` days after the application was collected or cancelled — unless its
/// document still lies in a box (a cancelled application whose compartment waits for retrieval) —
/// and in any case ``maxAgeDays`` days after it was registered (applications that never close).
/// Client addresses in the audit log are erased after ``auditAddressDays`` days. What stays — ids,
/// Vorgangsnummer, site, document type, dates and states — names nobody.
public struct RetentionPolicy: Sendable, Hashable {
    /// Why an application's personal data is erased.
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        /// ``RetentionPolicy/daysAfterClose`` days after it was collected or cancelled.
        case closed
        /// ``RetentionPolicy/maxAgeDays`` days after it was registered, closed or not.
        case maxAge = "max_age"
    }

    /// The accepted length of every period, in days.
    public static let allowedDays = 1...3650

    /// `RETENTION_DAYS_AFTER_CLOSE`.
    public let daysAfterClose: Int
    /// `RETENTION_DAYS_MAX`; at least ``daysAfterClose``.
    public let maxAgeDays: Int
    /// `AUDIT_IP_DAYS`.
    public let auditAddressDays: Int
    /// `AUDIT_IP_TRUNCATE`: audit addresses are stored as their /24 (IPv4) or /48 (IPv6) network from the start.
    public let truncateAuditAddresses: Bool

    /// 30 days after close, 400 days at most, client addresses for 90 days, stored in full.
    public static let standard = RetentionPolicy(validated: 30, 400, 90, false)

    /// The states in which the clock of ``daysAfterClose`` runs.
    public static let closingStates: Set<ApplicationState> = [.collected, .cancelled]

    /// A policy; throws `invalid_configuration` (with the variable as field) for a period outside
    /// ``allowedDays`` or a maximum shorter than the period after close.
    public init(daysAfterClose: Int, maxAgeDays: Int, auditAddressDays: Int, truncateAuditAddresses: Bool) throws(DomainError) {
        for (value, field) in [(daysAfterClose, "RETENTION_DAYS_AFTER_CLOSE"), (maxAgeDays, "RETENTION_DAYS_MAX"), (auditAddressDays, "AUDIT_IP_DAYS")]
        where !Self.allowedDays.contains(value) {
            throw .invalidConfiguration(field: field)
        }
        guard maxAgeDays >= daysAfterClose else { throw .invalidConfiguration(field: "RETENTION_DAYS_MAX") }
        self.init(validated: daysAfterClose, maxAgeDays, auditAddressDays, truncateAuditAddresses)
    }

    private init(validated daysAfterClose: Int, _ maxAgeDays: Int, _ auditAddressDays: Int, _ truncate: Bool) {
        self.daysAfterClose = daysAfterClose
        self.maxAgeDays = maxAgeDays
        self.auditAddressDays = auditAddressDays
        self.truncateAuditAddresses = truncate
    }

    /// The instants before which data is due at `now`. Days are 24-hour periods (the clock runs in UTC;
    /// a day more or less around a change of daylight saving time does not matter for erasure).
    public struct Cutoffs: Sendable, Hashable {
        /// Applications closed (collected or cancelled) before this are due (``Reason/closed``).
        public let closedBefore: Date
        /// Applications registered before this are due whatever their state (``Reason/maxAge``).
        public let registeredBefore: Date
        /// Audit events recorded before this lose their client address.
        public let auditAddressesBefore: Date
    }

    public func cutoffs(at now: Date) -> Cutoffs {
        Cutoffs(closedBefore: now.addingTimeInterval(-Self.day * Double(daysAfterClose)),
                registeredBefore: now.addingTimeInterval(-Self.day * Double(maxAgeDays)),
                auditAddressesBefore: now.addingTimeInterval(-Self.day * Double(auditAddressDays)))
    }

    /// Whether the personal data of one application is due for erasure at `now`, and why. The erasure
    /// pass selects the same applications in SQL with ``cutoffs(at:)`` and ``closingStates``.
    /// - Parameters:
    ///   - closedAt: when it was collected or cancelled (nil while open).
    ///   - documentInBox: its document still lies in a compartment (loaded or waiting for retrieval).
    public func erasureReason(state: ApplicationState, closedAt: Date?, registeredAt: Date, documentInBox: Bool, now: Date) -> Reason? {
        let cutoffs = cutoffs(at: now)
        if registeredAt < cutoffs.registeredBefore { return .maxAge }
        if Self.closingStates.contains(state), let closedAt, closedAt < cutoffs.closedBefore, !documentInBox { return .closed }
        return nil
    }

    /// When the personal data of one application becomes due: ``maxAgeDays`` after registration, or
    /// ``daysAfterClose`` after it closed if that comes first and its document is not in a box. The pass
    /// erases it at its first run after that.
    public func erasureDue(state: ApplicationState, closedAt: Date?, registeredAt: Date, documentInBox: Bool) -> Date {
        let maxAge = registeredAt.addingTimeInterval(Self.day * Double(maxAgeDays))
        guard Self.closingStates.contains(state), let closedAt, !documentInBox else { return maxAge }
        return min(maxAge, closedAt.addingTimeInterval(Self.day * Double(daysAfterClose)))
    }

    private static let day: TimeInterval = 86_400
}
