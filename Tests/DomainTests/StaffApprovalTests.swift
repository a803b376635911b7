import Foundation
import Testing
@testable import Domain

@Suite("Four-eyes approvals")
struct StaffApprovalTests {
    @Test func mobileNumberChange_needsApproval_fromDeliveryOn() {
        let free: Set<ApplicationState> = [.registered, .inProduction]
        for state in ApplicationState.allCases {
            #expect(StaffApproval.mobileNumberChangeNeedsApproval(in: state) == !free.contains(state), "\(state)")
        }
    }

    @Test func pinReissue_needsApproval_onlyWithin24HoursOfANumberChange() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(!StaffApproval.pinReissueNeedsApproval(numberChangedAt: nil, now: now))
        #expect(StaffApproval.pinReissueNeedsApproval(numberChangedAt: now, now: now))
        #expect(StaffApproval.pinReissueNeedsApproval(numberChangedAt: now.addingTimeInterval(-24 * 3600 + 1), now: now))
        #expect(!StaffApproval.pinReissueNeedsApproval(numberChangedAt: now.addingTimeInterval(-24 * 3600), now: now))
    }

    @Test func decide_refusesTheRequester_andAnythingNotPending() {
        let anna = UUID()
        let chef = UUID()
        func outcome(_ decision: ApprovalDecision, _ state: ApprovalState, by decider: UUID) -> String {
            do { return try StaffApproval.decide(decision, state: state, requester: anna, decider: decider).rawValue } catch { return error.rawValue }
        }
        #expect(outcome(.approve, .pending, by: chef) == "approved")
        #expect(outcome(.reject, .pending, by: chef) == "rejected")
        #expect(outcome(.approve, .pending, by: anna) == "second_staff_member_required")
        #expect(outcome(.reject, .pending, by: anna) == "second_staff_member_required")
        for state in ApprovalState.allCases where state != .pending {
            #expect(outcome(.approve, state, by: chef) == "approval_not_pending")
        }
    }
}
