@testable import App
import Domain
import Foundation
import HTTPServer
import Testing

/// The rules of `PATCH /applications/{id}` without a database: `ApplicationChanges.plan(for:today:)`
/// decides from the current row alone, and a service's refusal answers over HTTP as before.
@Suite("Application changes, decided without I/O")
struct ApplicationChangesTests {
    static let today = CivilDate(date: Date(timeIntervalSince1970: 1_795_000_000), timeZone: .gmt)

    static func make(state: ApplicationState = .registered, pickup: PickupMethod = .box, mobile: String? = "+4915112345678",
                     dateOfBirth: String? = "1990-03-15", feeCents: Int = 10_000) -> ApplicationDTO.Application {
        ApplicationDTO.Application(
            id: UUID(), vorgangsnummer: "K7M4XQ9TRC", siteId: UUID(), documentType: .eat, issuance: .first, familyName: "Muster",
            givenNames: "Erika", dateOfBirth: dateOfBirth, mobileNumber: mobile, mobileNumberDisplay: nil, mobileNumberChangedAt: nil,
            pickupMethod: pickup, needsAccessibleCompartment: false, smsLanguage: "de", hasOldDocumentCan: false,
            fee: ApplicationDTO.Fee(amountCents: feeCents, exemption: nil, settled: false), state: state, cancelReason: nil, householdGroup: nil,
            pickupDeadline: nil, contactRequired: false, assignment: nil, createdAt: Date(), updatedAt: Date(), collectedAt: nil, handover: nil,
            personalDataErasedAt: nil)
    }

    static func changes(_ body: ApplicationDTO.Update) throws -> ApplicationChanges { try ApplicationChanges(body) }

    @Test func movingADeliveredBoxPickupToTheCounter_makesItReadyAtTheCounter() throws {
        let plan = try Self.changes(.init(pickupMethod: "counter")).plan(for: Self.make(state: .delivered), today: Self.today)
        #expect(plan.state == .readyAtCounter)
        #expect(plan.pickupMethod == .counter)
    }

    @Test func aNewMobileNumberAfterDelivery_needsASecondStaffMember() throws {
        let changes = try Self.changes(.init(mobileNumber: "+49 151 99999999"))
        #expect(throws: AppError.self) { try changes.plan(for: Self.make(state: .delivered), today: Self.today) }
        let plan = try changes.plan(for: Self.make(state: .registered), today: Self.today)
        #expect(plan.mobileChanged)
    }

    @Test func changingThePickupMethodOnceAssigned_isRefused() throws {
        let changes = try Self.changes(.init(pickupMethod: "counter"))
        #expect(throws: AppError.self) { try changes.plan(for: Self.make(state: .assigned), today: Self.today) }
    }

    @Test func boxPickupWithoutAnyMobileNumber_isRefused() throws {
        let changes = try Self.changes(.init(pickupMethod: "box"))
        #expect(throws: AppError.self) { try changes.plan(for: Self.make(pickup: .counter, mobile: nil), today: Self.today) }
    }

    @Test func aFeeExemption_recomputesTheFeeFromTheDateOfBirth() throws {
        let changes = try Self.changes(.init(feeExemption: FeeExemption.allCases[0].rawValue))
        let plan = try changes.plan(for: Self.make(feeCents: 10_000), today: Self.today)
        let expected = FeeSchedule.feeCents(issuance: .first, exemption: FeeExemption.allCases[0],
                                            dateOfBirth: try DateOfBirth("1990-03-15", today: Self.today), on: Self.today)
        #expect(plan.feeCents == expected)
        #expect(changes.fieldNames == "feeExemption")
    }

    @Test func aServiceRefusal_answersWithTheSameStatusCodeAndField() {
        #expect(AppError(ServiceError.invalid("slug", "invalid_slug", "x")).status == .badRequest)
        #expect(AppError(ServiceError.notFound("site")).status == .notFound)
        let conflict = AppError(ServiceError.conflict("slug_taken", "x", field: "slug", extra: ["a": "b"]))
        #expect(conflict.status == .conflict)
        #expect(conflict.code == "slug_taken" && conflict.field == "slug" && conflict.extra == ["a": "b"])
    }
}
