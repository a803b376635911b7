import Testing
@testable import Domain

@Suite("Pickup factors")
struct PickupFactorsTests {
    static func policy(pinLetter: Bool = true, second: PickupSecondFactor = .dateOfBirthOrCAN, oldDocument: Bool = true) -> PickupFactorPolicy {
        PickupFactorPolicy(requiresPinLetter: pinLetter, secondFactor: second, requiresOldDocument: oldDocument)
    }

    @Test func firstIssuance_asksForThePinLetterAndTheDateOfBirth() {
        #expect(Self.policy().factors(issuance: .first, hasCAN: false) == [.pinLetter, .dateOfBirth])
        #expect(Self.policy().factors(issuance: .first, hasCAN: true) == [.pinLetter, .dateOfBirth])
    }

    @Test func renewal_asksForTheCANWhenOnFile_andTheOldDocument() {
        #expect(Self.policy().factors(issuance: .renewal, hasCAN: true) == [.pinLetter, .can, .oldDocumentDestroyed])
        #expect(Self.policy().factors(issuance: .renewal, hasCAN: false) == [.pinLetter, .dateOfBirth, .oldDocumentDestroyed])
    }

    @Test func aSiteWithoutCAN_asksForTheDateOfBirth_andOneWithoutSecondFactor_forNeither() {
        #expect(Self.policy(second: .dateOfBirth).factors(issuance: .renewal, hasCAN: true) == [.pinLetter, .dateOfBirth, .oldDocumentDestroyed])
        #expect(Self.policy(pinLetter: false, second: .none, oldDocument: false).factors(issuance: .renewal, hasCAN: true) == [])
    }

    @Test func theChoices_areTheFactorsOfEachKindOfApplication_forEverySite() {
        for pinLetter in [true, false] {
            for second in PickupSecondFactor.allCases {
                for oldDocument in [true, false] {
                    let policy = Self.policy(pinLetter: pinLetter, second: second, oldDocument: oldDocument)
                    #expect(policy.choices.first == policy.factors(issuance: .first, hasCAN: true))
                    #expect(policy.choices.first == policy.factors(issuance: .first, hasCAN: false))
                    #expect(policy.choices.renewalWithCAN == policy.factors(issuance: .renewal, hasCAN: true))
                    #expect(policy.choices.renewalWithoutCAN == policy.factors(issuance: .renewal, hasCAN: false))
                }
            }
        }
        #expect(Self.policy().choices.renewalWithCAN == [.pinLetter, .can, .oldDocumentDestroyed])
    }

    @Test func factorNames_areTheOnesTheDatabaseAndPanelUse() {
        #expect(PickupFactor.allCases.map(\.rawValue) == ["pin_letter", "date_of_birth", "can", "old_document_destroyed"])
        #expect(PickupSecondFactor.allCases.map(\.rawValue) == ["date_of_birth_or_can", "date_of_birth", "none"])
    }

    @Test func answers_satisfyOnlyWhenEveryRequiredFactorIsGivenAndRight() {
        let all: [PickupFactor] = [.pinLetter, .dateOfBirth, .can, .oldDocumentDestroyed]
        let right = PickupAnswers(pinLetterConfirmed: true, oldDocumentInserted: true, dateOfBirthMatches: true, canMatches: true)
        #expect(right.satisfy(all))
        #expect(PickupAnswers(pinLetterConfirmed: nil, oldDocumentInserted: true, dateOfBirthMatches: true, canMatches: true).satisfy(all) == false)
        #expect(PickupAnswers(pinLetterConfirmed: false, oldDocumentInserted: true, dateOfBirthMatches: true, canMatches: true).satisfy(all) == false)
        #expect(PickupAnswers(pinLetterConfirmed: true, oldDocumentInserted: nil, dateOfBirthMatches: true, canMatches: true).satisfy(all) == false)
        #expect(PickupAnswers(pinLetterConfirmed: true, oldDocumentInserted: true, dateOfBirthMatches: false, canMatches: true).satisfy(all) == false)
        #expect(PickupAnswers(pinLetterConfirmed: true, oldDocumentInserted: true, dateOfBirthMatches: true, canMatches: false).satisfy(all) == false)
        // What is not asked for does not count.
        #expect(PickupAnswers(pinLetterConfirmed: nil, oldDocumentInserted: nil, dateOfBirthMatches: true, canMatches: false).satisfy([.dateOfBirth]))
        #expect(PickupAnswers(pinLetterConfirmed: nil, oldDocumentInserted: nil, dateOfBirthMatches: false, canMatches: false).satisfy([]))
    }
}
