import Foundation
import Testing
@testable import Domain

@Suite("RetentionPolicy")
struct RetentionPolicyTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static func daysAgo(_ days: Double) -> Date { now.addingTimeInterval(-days * 86_400) }

    @Test func standard_isThirtyDaysAfterClose_fourHundredAtMost_andNinetyForAddresses() {
        let p = RetentionPolicy.standard
        #expect(p.daysAfterClose == 30)
        #expect(p.maxAgeDays == 400)
        #expect(p.auditAddressDays == 90)
        #expect(!p.truncateAuditAddresses)
    }

    @Test func cutoffs_areWholeDaysBeforeNow() throws {
        let p = try RetentionPolicy(daysAfterClose: 7, maxAgeDays: 100, auditAddressDays: 2, truncateAuditAddresses: true)
        let c = p.cutoffs(at: Self.now)
        #expect(c.closedBefore == Self.daysAgo(7))
        #expect(c.registeredBefore == Self.daysAgo(100))
        #expect(c.auditAddressesBefore == Self.daysAgo(2))
    }

    @Test func refusesPeriodsOutOfRange_namingTheVariable() {
        let cases: [(Int, Int, Int, String)] = [
            (0, 400, 90, "RETENTION_DAYS_AFTER_CLOSE"), (3651, 4000, 90, "RETENTION_DAYS_AFTER_CLOSE"),
            (30, 0, 90, "RETENTION_DAYS_MAX"), (30, 29, 90, "RETENTION_DAYS_MAX"), (30, 3651, 90, "RETENTION_DAYS_MAX"),
            (30, 400, 0, "AUDIT_IP_DAYS"), (30, 400, -5, "AUDIT_IP_DAYS"),
        ]
        for (after, max, address, field) in cases {
            #expect(throws: DomainError.invalidConfiguration(field: field), "\(after) \(max) \(address)") {
                try RetentionPolicy(daysAfterClose: after, maxAgeDays: max, auditAddressDays: address, truncateAuditAddresses: false)
            }
        }
        #expect(throws: Never.self) { try RetentionPolicy(daysAfterClose: 30, maxAgeDays: 30, auditAddressDays: 1, truncateAuditAddresses: false) }
    }

    @Test func closedApplications_areDueAfterThePeriod_notBefore() {
        let p = RetentionPolicy.standard
        for state in [ApplicationState.collected, .cancelled] {
            #expect(p.erasureReason(state: state, closedAt: Self.daysAgo(31), registeredAt: Self.daysAgo(60), documentInBox: false, now: Self.now) == .closed)
            #expect(p.erasureReason(state: state, closedAt: Self.daysAgo(29), registeredAt: Self.daysAgo(60), documentInBox: false, now: Self.now) == nil)
        }
    }

    @Test func openApplications_areDueOnlyAtTheMaximumAge() {
        let p = RetentionPolicy.standard
        for state in ApplicationState.allCases where state.isOpen {
            #expect(p.erasureReason(state: state, closedAt: nil, registeredAt: Self.daysAgo(399), documentInBox: false, now: Self.now) == nil, "\(state)")
            #expect(p.erasureReason(state: state, closedAt: nil, registeredAt: Self.daysAgo(401), documentInBox: true, now: Self.now) == .maxAge, "\(state)")
        }
    }

    @Test func aDocumentStillInTheBox_holdsTheErasureUntilTheMaximumAge() {
        let p = RetentionPolicy.standard
        // Cancelled while loaded: staff still need its numbers to take it out.
        #expect(p.erasureReason(state: .cancelled, closedAt: Self.daysAgo(90), registeredAt: Self.daysAgo(120), documentInBox: true, now: Self.now) == nil)
        #expect(p.erasureReason(state: .cancelled, closedAt: Self.daysAgo(90), registeredAt: Self.daysAgo(500), documentInBox: true, now: Self.now) == .maxAge)
    }

    @Test func erasureDue_isTheEarlierOfTheTwoClocks_andAgreesWithTheReason() {
        let p = RetentionPolicy.standard
        let registered = Self.daysAgo(100)
        #expect(p.erasureDue(state: .registered, closedAt: nil, registeredAt: registered, documentInBox: false) == Self.daysAgo(-300))
        #expect(p.erasureDue(state: .collected, closedAt: Self.daysAgo(10), registeredAt: registered, documentInBox: false) == Self.daysAgo(-20))
        #expect(p.erasureDue(state: .cancelled, closedAt: Self.daysAgo(10), registeredAt: registered, documentInBox: true) == Self.daysAgo(-300))
        // Closed 395 days after registration: the maximum age comes first.
        #expect(p.erasureDue(state: .collected, closedAt: Self.daysAgo(5), registeredAt: Self.daysAgo(398), documentInBox: false) == Self.daysAgo(-2))
        for state in ApplicationState.allCases {
            for closed in [nil, Self.daysAgo(40), Self.daysAgo(5)] {
                for inBox in [false, true] {
                    let due = p.erasureDue(state: state, closedAt: closed, registeredAt: Self.daysAgo(200), documentInBox: inBox)
                    let reason = p.erasureReason(state: state, closedAt: closed, registeredAt: Self.daysAgo(200), documentInBox: inBox, now: Self.now)
                    #expect((due < Self.now) == (reason != nil), "\(state) \(String(describing: closed)) \(inBox)")
                }
            }
        }
    }

    @Test func closingStates_areExactlyTheTerminalStates() {
        #expect(RetentionPolicy.closingStates == Set(ApplicationState.allCases.filter(\.isTerminal)))
    }
}
