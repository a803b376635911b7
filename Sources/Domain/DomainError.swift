import Foundation

/// The one error type of the `Domain` module.
///
/// Every case carries the name of the input `field` it refers to (as the API calls it, e.g.
/// `mobile_number`) and maps to a stable machine-readable ``code``. ``message`` is a short English
/// sentence for people; neither ever repeats the offending input, so errors are safe to log.
/// Only `App` turns these into HTTP answers (`{"error": code, "message": …, "field": …}`).
public enum DomainError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Not a Vorgangsnummer of ours (wrong length or characters, wrong check character) nor an accepted external one.
    case invalidVorgangsnummer(field: String)
    /// Not a plausible phone number (characters, length, missing prefix).
    case invalidPhoneNumber(field: String)
    /// The number contains non-ASCII digits (Arabic-Indic, full-width, …); ask for 0–9.
    case nonASCIIDigits(field: String)
    /// The country calling code is not on the allow-list.
    case unsupportedCountryCode(field: String, countryCode: Int)
    /// A German number that is not a mobile number (no SMS possible).
    case notAMobileNumber(field: String)
    /// Not a document number (length, characters, first character).
    case invalidDocumentNumber(field: String)
    /// A 10th character was given and is not the ICAO 9303 check digit of the first nine.
    case documentCheckDigitMismatch(field: String)
    /// Not an accepted (full or partial) date of birth, or impossible, or in the future.
    case invalidDateOfBirth(field: String)
    /// Not a calendar date.
    case invalidDate(field: String)
    /// A configuration value (deadline policy, …) outside its range.
    case invalidConfiguration(field: String)
    /// Box pickup needs the fee settled first (a box cannot take payment).
    case feeNotSettled(field: String)
    /// A check of the counter handover was not confirmed (identity, proxy, power of attorney, old document).
    case handoverCheckMissing(field: String, check: CounterHandover.Check)
    /// The lifecycle does not allow this event in the current state.
    case illegalTransition(IllegalTransition)

    /// Stable machine-readable code, snake_case.
    public var code: String {
        switch self {
        case .invalidVorgangsnummer: "invalid_vorgangsnummer"
        case .invalidPhoneNumber: "invalid_phone_number"
        case .nonASCIIDigits: "non_ascii_digits"
        case .unsupportedCountryCode: "unsupported_country_code"
        case .notAMobileNumber: "not_a_mobile_number"
        case .invalidDocumentNumber: "invalid_document_number"
        case .documentCheckDigitMismatch: "document_check_digit_mismatch"
        case .invalidDateOfBirth: "invalid_date_of_birth"
        case .invalidDate: "invalid_date"
        case .invalidConfiguration: "invalid_configuration"
        case .feeNotSettled: "fee_not_settled"
        case .handoverCheckMissing(_, let check): check.rawValue
        case .illegalTransition: "illegal_transition"
        }
    }

    /// The input field the error refers to (`state` for an illegal transition).
    public var field: String {
        switch self {
        case .invalidVorgangsnummer(let field), .invalidPhoneNumber(let field), .nonASCIIDigits(let field),
             .unsupportedCountryCode(let field, _), .notAMobileNumber(let field), .invalidDocumentNumber(let field),
             .documentCheckDigitMismatch(let field), .invalidDateOfBirth(let field), .invalidDate(let field),
             .invalidConfiguration(let field), .feeNotSettled(let field), .handoverCheckMissing(let field, _):
            field
        case .illegalTransition:
            "state"
        }
    }

    /// A short English explanation; never contains the rejected input.
    public var message: String {
        switch self {
        case .invalidVorgangsnummer:
            "Not a valid Vorgangsnummer. Please check the number in your letter."
        case .invalidPhoneNumber:
            "Not a valid mobile number. Use the international form, e.g. +49 171 1234567, or a German number starting with 0."
        case .nonASCIIDigits:
            "The number contains digits other than 0–9. Please type it with the digits 0–9."
        case .unsupportedCountryCode(_, let countryCode):
            "Mobile numbers with the country code +\(countryCode) are not supported."
        case .notAMobileNumber:
            "This German number is not a mobile number; text messages need a mobile number (015…, 016…, 017…)."
        case .invalidDocumentNumber:
            "Not a valid document number: 9 characters from 0–9 and C F G H J K L M N P R T V W X Y Z, starting with a letter."
        case .documentCheckDigitMismatch:
            "The check digit of the document number does not match. Please check the number."
        case .invalidDateOfBirth:
            "Not a valid date of birth. Use DD.MM.YYYY or YYYY-MM-DD; unknown day or month as 00."
        case .invalidDate:
            "Not a valid calendar date."
        case .invalidConfiguration:
            "A configuration value is out of range."
        case .feeNotSettled:
            "The fee must be paid before the document can be placed in the box."
        case .handoverCheckMissing(_, let check):
            switch check {
            case .identity: "Check and confirm the identity of the person collecting the document."
            case .proxyName: "Enter the name of the person collecting with a power of attorney."
            case .powerOfAttorney: "A proxy needs a power of attorney signed by the applicant; check and confirm it."
            case .oldDocument: "At a renewal the previous document is collected; confirm that it was."
            }
        case .illegalTransition(let transition):
            transition.description
        }
    }

    public var description: String { "\(code) (\(field)): \(message)" }
}
