import Domain
import Foundation
import Postgres

/// The changes of `PATCH /applications/{id}`, checked from the body; nil: left as it is.
struct ApplicationChanges {
    let familyName: String?
    let givenNames: String?
    let mobileNumber: String?
    let pickupMethod: PickupMethod?
    let needsAccessible: Bool?
    let smsLanguage: String?
    let feeExemption: FeeExemption?
    let feeSettled: Bool?
    let householdGroup: UUID?
    let contactRequired: Bool?

    /// What the changes make of one application: decided by ``plan(for:today:)`` from its current row.
    struct Plan {
        let mobileChanged: Bool
        let pickupMethod: PickupMethod
        /// The state after the change: a delivered document whose applicant now collects at the counter is ready there.
        let state: ApplicationState
        let feeCents: Int
    }

    init(_ body: ApplicationDTO.Update) throws {
        familyName = try body.familyName.map { try TextField.validate($0, field: "familyName") }
        givenNames = try body.givenNames.map { try TextField.validate($0, field: "givenNames") }
        mobileNumber = try body.mobileNumber.map(Input.phone)
        pickupMethod = try body.pickupMethod.map { try Input.enumValue(PickupMethod.self, $0, field: "pickupMethod") }
        needsAccessible = body.needsAccessibleCompartment
        smsLanguage = try body.smsLanguage.map { try Input.smsLanguage($0) }
        feeExemption = try Input.exemption(body.feeExemption)
        feeSettled = body.feeSettled
        householdGroup = body.householdGroup
        contactRequired = body.contactRequired
    }

    /// Whether the change writes a field the erasure pass clears (PRIVACY.md#erasure-on-schedule); the
    /// pickup method, SMS language and fee payment are not personal data.
    var writesPersonalData: Bool {
        familyName != nil || givenNames != nil || mobileNumber != nil || needsAccessible != nil || feeExemption != nil
            || householdGroup != nil || contactRequired != nil
    }

    /// The names of the fields changed, for the audit event (the values are personal data).
    var fieldNames: String {
        [("familyName", familyName != nil), ("givenNames", givenNames != nil), ("mobileNumber", mobileNumber != nil), ("pickupMethod", pickupMethod != nil),
         ("needsAccessibleCompartment", needsAccessible != nil), ("smsLanguage", smsLanguage != nil),
         ("feeExemption", feeExemption != nil), ("feeSettled", feeSettled != nil), ("householdGroup", householdGroup != nil),
         ("contactRequired", contactRequired != nil)]
            .filter(\.1).map(\.0).joined(separator: ",")
    }

    /// The rules of a change, without I/O: which states allow it, when a new number needs a second staff
    /// member, and what the fee and the state become.
    func plan(for current: ApplicationDTO.Application, today: CivilDate) throws -> Plan {
        let state = current.state
        guard state.isOpen else { throw AppError.illegalTransition(current: state, action: "changing it") }
        // Erased at the maximum age while still open: personal data written now would never be erased.
        if current.personalDataErasedAt != nil && writesPersonalData {
            throw AppError.personalDataErased("its personal data cannot be entered again")
        }
        // After delivery a new number would redirect the PIN: that needs a second staff member (docs/ARCHITECTURE.md#four-eyes).
        let mobileChanged = mobileNumber != nil && mobileNumber != current.mobileNumber
        if mobileChanged && StaffApproval.mobileNumberChangeNeedsApproval(in: state) {
            throw AppError.conflict("mobile_number_change_needs_approval",
                                    "After delivery a new mobile number needs a second staff member: ask with POST /api/v1/applications/{id}/mobile-number-changes.",
                                    field: "mobileNumber", extra: ["state": state.rawValue])
        }
        let beforeAssignment: Set<ApplicationState> = [.registered, .inProduction, .delivered]
        if (pickupMethod != nil && pickupMethod != current.pickupMethod) || needsAccessible != nil || householdGroup != nil,
           !beforeAssignment.contains(state) {
            throw AppError.illegalTransition(current: state, action: "changing the pickup method or compartment needs")
        }
        let newPickup = pickupMethod ?? current.pickupMethod
        if newPickup == .box && (mobileNumber ?? current.mobileNumber) == nil {
            throw AppError.invalid("mobileNumber", "missing_field", "Box pickup needs a mobile number for the SMS with the PIN.")
        }
        var newState = state
        if state == .delivered && newPickup == .counter {
            newState = (try? ApplicationLifecycle.next(.delivered, .movedToCounter)) ?? state
        }
        var fee = current.fee.amountCents
        if let feeExemption {
            let dob = try current.dateOfBirth.map { text in try Input.domain { () throws(DomainError) in try DateOfBirth(text, today: today, field: "dateOfBirth") } }
            fee = dob.map { FeeSchedule.feeCents(issuance: current.issuance, exemption: feeExemption, dateOfBirth: $0, on: today) } ?? 0
        }
        return Plan(mobileChanged: mobileChanged, pickupMethod: newPickup, state: newState, feeCents: fee)
    }
}

extension ApplicationStore {
    /// Writes the changed fields (the state is written by ``ApplicationTransitions``).
    static func update(_ connection: PostgresConnection, authorityID: UUID, id: UUID, _ changes: ApplicationChanges, _ plan: ApplicationChanges.Plan) throws {
        try connection.execute("""
            UPDATE application SET
                family_name = coalesce(\(changes.familyName), family_name),
                given_names = coalesce(\(changes.givenNames), given_names),
                mobile_number = coalesce(\(changes.mobileNumber), mobile_number),
                mobile_number_changed_at = CASE WHEN \(plan.mobileChanged) THEN now() ELSE mobile_number_changed_at END,
                pickup_method = \(plan.pickupMethod.rawValue),
                needs_accessible = coalesce(\(changes.needsAccessible), needs_accessible),
                sms_language = coalesce(\(changes.smsLanguage), sms_language),
                fee_exemption = coalesce(\(changes.feeExemption?.rawValue), fee_exemption),
                fee_cents = \(plan.feeCents),
                fee_settled = coalesce(\(changes.feeSettled), fee_settled),
                household_group = coalesce(\(changes.householdGroup), household_group),
                contact_required = coalesce(\(changes.contactRequired), contact_required),
                updated_at = now()
            WHERE authority_id = \(authorityID) AND id = \(id)
            """)
    }
}
