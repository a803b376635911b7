import Testing
@testable import Domain

@Suite("Counter handover checks")
struct CounterHandoverTests {
    static func make(_ recipient: HandoverRecipient = .applicant, proxyName: String? = nil, powerOfAttorney: Bool = false, identity: Bool = true,
                     oldDocument: Bool = false, feePaidNow: Bool = false) -> CounterHandover {
        CounterHandover(recipient: recipient, proxyName: proxyName, powerOfAttorneyChecked: powerOfAttorney, identityChecked: identity,
                        oldDocumentCollected: oldDocument, feePaidNow: feePaidNow)
    }

    static func code(_ body: () throws(DomainError) -> Void) -> String? {
        do { try body(); return nil } catch { return error.code + "@" + error.field }
    }

    @Test func applicantInPerson_withIdentityChecked_andFeeSettled_passes() {
        #expect(Self.code { () throws(DomainError) in try Self.make().validate(issuance: .first, feeCents: 10_000, feeSettledBefore: true) } == nil)
    }

    @Test func refuses_withoutIdentityCheck_whoeverCollects() {
        #expect(Self.code { () throws(DomainError) in try Self.make(identity: false).validate(issuance: .first, feeCents: 0, feeSettledBefore: false) }
                == "identity_not_checked@identityChecked")
        #expect(Self.code { () throws(DomainError) in
            try Self.make(.proxy, proxyName: "Eva Muster", powerOfAttorney: true, identity: false).validate(issuance: .first, feeCents: 0, feeSettledBefore: false)
        } == "identity_not_checked@identityChecked")
    }

    @Test func proxy_needsName_andPowerOfAttorney() {
        #expect(Self.code { () throws(DomainError) in try Self.make(.proxy, proxyName: "  ", powerOfAttorney: true).validate(issuance: .first, feeCents: 0, feeSettledBefore: false) }
                == "proxy_name_missing@proxyName")
        #expect(Self.code { () throws(DomainError) in try Self.make(.proxy, proxyName: "Eva Muster").validate(issuance: .first, feeCents: 0, feeSettledBefore: false) }
                == "power_of_attorney_missing@powerOfAttorneyChecked")
        #expect(Self.code { () throws(DomainError) in
            try Self.make(.proxy, proxyName: "Eva Muster", powerOfAttorney: true).validate(issuance: .first, feeCents: 0, feeSettledBefore: false)
        } == nil)
    }

    @Test func renewal_needsTheOldDocument_firstIssuanceDoesNot() {
        #expect(Self.code { () throws(DomainError) in try Self.make().validate(issuance: .renewal, feeCents: 0, feeSettledBefore: false) }
                == "old_document_not_collected@oldDocumentCollected")
        #expect(Self.code { () throws(DomainError) in try Self.make(oldDocument: true).validate(issuance: .renewal, feeCents: 0, feeSettledBefore: false) } == nil)
        #expect(Self.code { () throws(DomainError) in try Self.make().validate(issuance: .first, feeCents: 0, feeSettledBefore: false) } == nil)
    }

    @Test func openFee_mustBePaidNow_unlessZeroOrSettledBefore() {
        #expect(Self.code { () throws(DomainError) in try Self.make().validate(issuance: .first, feeCents: 5_000, feeSettledBefore: false) }
                == "fee_not_settled@feeSettled")
        #expect(Self.code { () throws(DomainError) in try Self.make(feePaidNow: true).validate(issuance: .first, feeCents: 5_000, feeSettledBefore: false) } == nil)
        #expect(Self.code { () throws(DomainError) in try Self.make().validate(issuance: .first, feeCents: 0, feeSettledBefore: false) } == nil)
    }
}
