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

    /// The problems of a draft, each field checked on its own: a refusal is noted and the value is nil.
    struct Problems {
        var list: [ValidationProblem] = []

        mutating func check<T>(_ body: () throws -> T) -> T? {
            do { return try body() } catch let error as ServiceError {
                list.append(ValidationProblem(AppError(error)))
            } catch let error as AppError {
                list.append(ValidationProblem(error))
            } catch {
                list.append(ValidationProblem(field: nil, error: "invalid_field", message: "The input could not be checked."))
            }
            return nil
        }

        mutating func domain<T>(_ body: () throws(DomainError) -> T) -> T? {
            do { return try body() } catch {
                list.append(ValidationProblem(field: error.field, error: error.code, message: error.message))
                return nil
            }
        }

        mutating func add(_ field: String, _ code: String, _ message: String) {
            list.append(ValidationProblem(field: field, error: code, message: message))
        }
    }

    static func preview(_ draft: Draft) throws -> Response {
        var p = Problems()
        let today = Input.today()
        if let site = draft.siteId, UUID(uuidString: site) == nil { p.add("siteId", "unknown_site", "No such site.") }
        _ = draft.documentType.flatMap { t in p.check { try Input.enumValue(DocumentType.self, t, field: "documentType") } }
        let issuance = draft.issuance.flatMap { t in p.check { try Input.enumValue(Issuance.self, t, field: "issuance") } }
        let pickup = draft.pickupMethod.flatMap { t in p.check { try Input.enumValue(PickupMethod.self, t, field: "pickupMethod") } }
        _ = draft.familyName.flatMap { t in p.check { try TextField.validate(t, field: "familyName") } }
        _ = draft.givenNames.flatMap { t in p.check { try TextField.validate(t, field: "givenNames") } }
        let dateOfBirth = draft.dateOfBirth.flatMap { text in p.domain { () throws(DomainError) in try DateOfBirth(text, today: today, field: "dateOfBirth") } }
        let blankMobile = draft.mobileNumber?.trimmingCharacters(in: .whitespaces).isEmpty ?? true
        let mobile = blankMobile ? nil : draft.mobileNumber.flatMap { text in p.domain { () throws(DomainError) in try PhoneNumber.parse(text, field: "mobileNumber") } }
        if pickup == .box && blankMobile { p.add("mobileNumber", "missing_field", "Box pickup needs a mobile number for the SMS with the PIN.") }
        _ = draft.smsLanguage.flatMap { t in p.check { try Input.smsLanguage(t) } }
        let exemption = p.check { try Input.exemption(draft.feeExemption?.isEmpty == true ? nil : draft.feeExemption) } ?? nil
        if let can = draft.oldDocumentCan, !can.isEmpty { _ = p.check { try ApplicationRegistration.checkCAN(can, issuance: issuance) } }
        if let given = draft.vorgangsnummer, !given.isEmpty {
            _ = p.domain { () throws(DomainError) in try Vorgangsnummer.parse(given, allowExternal: true, field: "vorgangsnummer") }
        }
        if let group = draft.householdGroup, !group.isEmpty, UUID(uuidString: group) == nil {
            p.add("householdGroup", "invalid_field", "The household group is a UUID.")
        }
        var fee: Fee?
        if let issuance, let dateOfBirth {
            fee = Fee(amountCents: FeeSchedule.feeCents(issuance: issuance, exemption: exemption, dateOfBirth: dateOfBirth, on: today),
                      exemption: exemption?.rawValue, minor: FeeSchedule.isMinor(dateOfBirth, on: today))
        }
        return try .json(Result(problems: p.list, mobileNumber: mobile?.e164, mobileNumberDisplay: mobile?.grouped,
                                dateOfBirth: dateOfBirth?.canonical, fee: fee))
    }
}
