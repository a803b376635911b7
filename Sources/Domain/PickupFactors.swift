/// A factor the box panel asks for after the mobile number and PIN (docs/ARCHITECTURE.md#pickup).
public enum PickupFactor: String, Sendable, Hashable, Codable, CaseIterable {
    /// The applicant confirms the PIN letter arrived.
    case pinLetter = "pin_letter"
    case dateOfBirth = "date_of_birth"
    /// The card access number of the old card (renewals whose old card's CAN is on file).
    case can
    /// The old card went into the destruction slot (renewals).
    case oldDocumentDestroyed = "old_document_destroyed"
}

/// The second factor a site asks for (`site.pickup_second_factor`). Reading an old card's chip by CAN at
/// an unattended box is legally contested, so a site can fall back to the date of birth, or ask neither.
public enum PickupSecondFactor: String, Sendable, CaseIterable {
    case dateOfBirthOrCAN = "date_of_birth_or_can"
    case dateOfBirth = "date_of_birth"
    case none
}

/// Which factors a pickup asks for, from the site's settings and the application, and whether the
/// answers given satisfy them. The server decides with these; the database only records the outcome.
public struct PickupFactorPolicy: Sendable, Equatable {
    public var requiresPinLetter: Bool
    public var secondFactor: PickupSecondFactor
    public var requiresOldDocument: Bool

    public init(requiresPinLetter: Bool, secondFactor: PickupSecondFactor, requiresOldDocument: Bool) {
        self.requiresPinLetter = requiresPinLetter
        self.secondFactor = secondFactor
        self.requiresOldDocument = requiresOldDocument
    }

    /// The factors still to give, in the order the panel asks for them. A renewal is asked for the old
    /// card's CAN only when its hash is on file (`hasCAN`), else for the date of birth.
    public func factors(issuance: Issuance, hasCAN: Bool) -> [PickupFactor] {
        var factors: [PickupFactor] = []
        if requiresPinLetter { factors.append(.pinLetter) }
        switch secondFactor {
        case .dateOfBirthOrCAN: factors.append(issuance == .renewal && hasCAN ? .can : .dateOfBirth)
        case .dateOfBirth: factors.append(.dateOfBirth)
        case .none: break
        }
        if issuance == .renewal && requiresOldDocument { factors.append(.oldDocumentDestroyed) }
        return factors
    }

    /// The factors for each kind of application a mobile number may turn out to hold, decided before the
    /// number is looked up (the database picks the one of the application the PIN opens; Migrations/0024).
    public var choices: PickupFactorChoices {
        PickupFactorChoices(first: factors(issuance: .first, hasCAN: false),
                            renewalWithCAN: factors(issuance: .renewal, hasCAN: true),
                            renewalWithoutCAN: factors(issuance: .renewal, hasCAN: false))
    }
}

/// `PickupFactorPolicy.factors` for every application: a first issuance (with or without a CAN on file,
/// alike), a renewal whose old card's CAN is on file, and one without.
public struct PickupFactorChoices: Sendable, Equatable {
    public var first: [PickupFactor]
    public var renewalWithCAN: [PickupFactor]
    public var renewalWithoutCAN: [PickupFactor]
}

/// What the panel answered, each factor already checked against the stored value (the date of birth as
/// canonical dates, the CAN as keyed hashes in constant time): nil for a factor not given.
public struct PickupAnswers: Sendable {
    public var pinLetterConfirmed: Bool?
    public var oldDocumentInserted: Bool?
    public var dateOfBirthMatches: Bool
    public var canMatches: Bool

    public init(pinLetterConfirmed: Bool?, oldDocumentInserted: Bool?, dateOfBirthMatches: Bool, canMatches: Bool) {
        self.pinLetterConfirmed = pinLetterConfirmed
        self.oldDocumentInserted = oldDocumentInserted
        self.dateOfBirthMatches = dateOfBirthMatches
        self.canMatches = canMatches
    }

    /// True when every required factor is given and right. Every factor is looked at (no early exit),
    /// so the answer takes as long whichever one is wrong.
    public func satisfy(_ required: [PickupFactor]) -> Bool {
        var ok = true
        for factor in required {
            switch factor {
            case .pinLetter: ok = (pinLetterConfirmed == true) && ok
            case .oldDocumentDestroyed: ok = (oldDocumentInserted == true) && ok
            case .dateOfBirth: ok = dateOfBirthMatches && ok
            case .can: ok = canMatches && ok
            }
        }
        return ok
    }
}
