import Foundation

/// First issuance of a document or renewal (Verlängerung/Neuausstellung after an earlier one).
public enum Issuance: String, Sendable, Hashable, Codable, CaseIterable {
    case first
    case renewal
}

/// Legal grounds on which no fee is charged (see seeds/004).
public enum FeeExemption: String, Sendable, Hashable, Codable, CaseIterable {
    /// Bürgergeld / Grundsicherung für Arbeitsuchende (SGB II).
    case sgbII = "sgb_ii"
    /// Sozialhilfe (SGB XII).
    case sgbXII = "sgb_xii"
    /// Asylbewerberleistungsgesetz.
    case asylbLG = "asylblg"
    /// Recognised refugee.
    case recognisedRefugee = "recognised_refugee"
}

/// The fee for an electronic residence permit and the rule that box pickup needs it settled.
///
/// First issuance 100 € (adult) / 50 € (under 18); renewal 93 € / 46.50 €; any exemption 0 €.
/// Amounts are integer euro cents.
///
/// **Age and partial dates of birth**: the applicant is a minor unless they are 18 *for certain* on
/// the reference day. A partial date is read as the latest possible birthday (unknown month →
/// 31 December, unknown day → last day of the month), so an ambiguous case gets the lower fee —
/// ambiguity in a document must not cost the applicant. Someone born on 29 February comes of age
/// on 1 March in common years (§ 188 Abs. 3 BGB).
public enum FeeSchedule {
    /// First issuance, adult.
    public static let firstIssuanceAdultCents = 10_000
    /// First issuance, under 18.
    public static let firstIssuanceMinorCents = 5_000
    /// Renewal, adult.
    public static let renewalAdultCents = 9_300
    /// Renewal, under 18.
    public static let renewalMinorCents = 4_650

    /// The fee in euro cents, with the applicant's age taken on `date` (the day of the application).
    public static func feeCents(
        issuance: Issuance,
        exemption: FeeExemption?,
        dateOfBirth: DateOfBirth,
        on date: CivilDate
    ) -> Int {
        if exemption != nil { return 0 }
        let minor = isMinor(dateOfBirth, on: date)
        switch issuance {
        case .first: return minor ? firstIssuanceMinorCents : firstIssuanceAdultCents
        case .renewal: return minor ? renewalMinorCents : renewalAdultCents
        }
    }

    /// Under 18 on `date`, or possibly so (partial dates: latest possible birthday).
    public static func isMinor(_ dateOfBirth: DateOfBirth, on date: CivilDate) -> Bool {
        date < comingOfAge(dateOfBirth)
    }

    /// The first day on which the person is certainly 18.
    public static func comingOfAge(_ dateOfBirth: DateOfBirth) -> CivilDate {
        let birthday = dateOfBirth.latestPossibleBirthday
        let year = birthday.year + 18
        if CivilDate.isValid(year: year, month: birthday.month, day: birthday.day) {
            return CivilDate(unchecked: year, birthday.month, birthday.day)
        }
        // Only 29 February in a common year gets here.
        return CivilDate(unchecked: year, 3, 1)
    }

    /// Whether a document may be placed in the box: the fee is zero or settled (a box cannot take
    /// payment). Call before the `compartmentAssigned` transition.
    public static func isSettledForBox(feeCents: Int, settled: Bool) -> Bool {
        feeCents <= 0 || settled
    }

    /// Throws `fee_not_settled` unless ``isSettledForBox(feeCents:settled:)``.
    public static func requireSettledForBox(feeCents: Int, settled: Bool, field: String = "fee_settled") throws(DomainError) {
        guard isSettledForBox(feeCents: feeCents, settled: settled) else { throw .feeNotSettled(field: field) }
    }
}
