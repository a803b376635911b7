import Domain
import Foundation
import HTTPServer

/// `POST /api/v1/applications/preview`: the registration form checked as it is typed, without saving.
/// The same Domain rules as `POST /applications` (phone numbers, dates of birth, Vorgangsnummern,
/// fees), all problems at once instead of the first, and what the server would make of the input:
/// the mobile number in E.164, the date of birth as stored, the fee with its exemption.
enum ApplicationPreview {
    /// The form as far as it is filled: every field optional.
    struct Draft: Codable {
        var vorgangsnummer: String?
        var siteId: String?
        var documentType: String?
        var issuance: String?
        var familyName: String?
        var givenNames: String?
        var dateOfBirth: String?
        var mobileNumber: String?
        var pickupMethod: String?
        var needsAccessibleCompartment: Bool?
        var smsLanguage: String?
        var oldDocumentCan: String?
        var feeExemption: String?
        var feeSettled: Bool?
        var householdGroup: String?
    }

    struct Fee: Codable {
        var amountCents: Int
        var exemption: String?
        /// Under 18 on the day of the application (or possibly so, for partial dates): the lower fee.
        var minor: Bool
    }

    struct Result: Codable {
        var problems: [ValidationProblem]
        /// E.164, as it would be stored.
        var mobileNumber: String?
        /// For reading back: `+49 151 23456789`.
        var mobileNumberDisplay: String?
        /// As stored: `1984-08-12`, partial dates with `00`.
        var dateOfBirth: String?
        var fee: Fee?
    }

    static func preview(_ draft: Draft) throws -> Response {
        var problems: [ValidationProblem] = []
        /// Runs one field's check; a refusal becomes a problem and the value nil.
        func check<T>(_ body: () throws -> T) -> T? {
            do { return try body() } catch let error as AppError {
                problems.append(ValidationProblem(error))
            } catch {
                problems.append(ValidationProblem(field: nil, error: "invalid_field", message: "The input could not be checked."))
            }
            return nil
        }
        func domain<T>(_ body: () throws(DomainError) -> T) -> T? {
            do { return try body() } catch {
                problems.append(ValidationProblem(field: error.field, error: error.code, message: error.message))
                return nil
            }
        }
        let today = ApplicationHandlers.today()
        if let site = draft.siteId, UUID(uuidString: site) == nil {
            problems.append(ValidationProblem(field: "siteId", error: "unknown_site", message: "No such site."))
        }
        _ = draft.documentType.flatMap { t in check { try ApplicationHandlers.enumValue(DocumentType.self, t, field: "documentType") } }
        let issuance = draft.issuance.flatMap { t in check { try ApplicationHandlers.enumValue(Issuance.self, t, field: "issuance") } }
        let pickup = draft.pickupMethod.flatMap { t in check { try ApplicationHandlers.enumValue(PickupMethod.self, t, field: "pickupMethod") } }
        _ = draft.familyName.flatMap { t in check { try TextField.validate(t, field: "familyName") } }
        _ = draft.givenNames.flatMap { t in check { try TextField.validate(t, field: "givenNames") } }
        let dateOfBirth = draft.dateOfBirth.flatMap { text in domain { () throws(DomainError) in try DateOfBirth(text, today: today, field: "dateOfBirth") } }
        let blankMobile = draft.mobileNumber?.trimmingCharacters(in: .whitespaces).isEmpty ?? true
        let mobile = blankMobile ? nil : draft.mobileNumber.flatMap { text in domain { () throws(DomainError) in try PhoneNumber.parse(text, field: "mobileNumber") } }
        if pickup == .box && blankMobile {
            problems.append(ValidationProblem(field: "mobileNumber", error: "missing_field", message: "Box pickup needs a mobile number for the SMS with the PIN."))
        }
        _ = draft.smsLanguage.flatMap { t in check { try ApplicationHandlers.smsLanguage(t) } }
        let exemption = check { try ApplicationHandlers.exemption(draft.feeExemption?.isEmpty == true ? nil : draft.feeExemption) } ?? nil
        if let can = draft.oldDocumentCan, !can.isEmpty {
            if issuance != .renewal {
                problems.append(ValidationProblem(field: "oldDocumentCan", error: "not_applicable", message: "A CAN belongs to the old card of a renewal."))
            } else if !(can.utf8.count == 6 && can.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }) {
                problems.append(ValidationProblem(field: "oldDocumentCan", error: "invalid_can", message: "The CAN is the 6-digit number on the front of the old card."))
            }
        }
        if let given = draft.vorgangsnummer, !given.isEmpty {
            _ = domain { () throws(DomainError) in try Vorgangsnummer.parse(given, allowExternal: true, field: "vorgangsnummer") }
        }
        if let group = draft.householdGroup, !group.isEmpty, UUID(uuidString: group) == nil {
            problems.append(ValidationProblem(field: "householdGroup", error: "invalid_field", message: "The household group is a UUID."))
        }
        var fee: Fee?
        if let issuance, let dateOfBirth {
            fee = Fee(amountCents: FeeSchedule.feeCents(issuance: issuance, exemption: exemption, dateOfBirth: dateOfBirth, on: today),
                      exemption: exemption?.rawValue, minor: FeeSchedule.isMinor(dateOfBirth, on: today))
        }
        return try .json(Result(problems: problems, mobileNumber: mobile?.e164, mobileNumberDisplay: mobile?.grouped,
                                dateOfBirth: dateOfBirth?.canonical, fee: fee))
    }
}
