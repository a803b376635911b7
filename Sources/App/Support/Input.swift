import DecimalParsing
import Domain
import Foundation
import HTTPServer

/// Checks of untrusted input shared by the handlers and the services: each either returns the typed value
/// or throws a ``ServiceError`` (`invalid`, a 400 over HTTP) that names the field.
enum Input {
    /// Runs a Domain check and refuses its `DomainError` for the same field and code.
    static func domain<T>(_ body: () throws(DomainError) -> T) throws -> T {
        do { return try body() } catch { throw ServiceError.invalid(error.field, error.code, error.message) }
    }

    static func phone(_ text: String) throws -> String {
        try domain { () throws(DomainError) in try PhoneNumber.parse(text, field: "mobileNumber").e164 }
    }

    static func smsLanguage(_ text: String?) throws -> String {
        guard let text else { return "de" }
        guard text.utf8.count == 2, text.utf8.allSatisfy({ $0 >= 0x61 && $0 <= 0x7A }) else {
            throw ServiceError.invalid("smsLanguage", "invalid_language", "Use a two-letter ISO 639-1 code in lower case, e.g. de or en.")
        }
        return text
    }

    static func exemption(_ text: String?) throws -> FeeExemption? {
        try text.map { try enumValue(FeeExemption.self, $0, field: "feeExemption") }
    }

    static func enumValue<E: RawRepresentable & CaseIterable>(_ type: E.Type, _ text: String, field: String) throws -> E where E.RawValue == String {
        guard let value = E(rawValue: text) else {
            throw ServiceError.invalid(field, "invalid_value", "Use one of: " + E.allCases.map(\.rawValue).joined(separator: ", ") + ".")
        }
        return value
    }

    /// Today in Europe/Berlin, the authorities' calendar.
    static func today() -> CivilDate { CivilDate(date: Date(), timeZone: TimeZone(identifier: "Europe/Berlin") ?? .gmt) }

    static func intParameter(_ query: QueryParameters, _ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = query[name] else { return value }
        guard text.utf8.count <= 7, let n = Int(decimal: text, allowingSign: true), range.contains(n) else {
            throw ServiceError.invalid(name, "invalid_parameter", "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound).")
        }
        return n
    }

    static func boolParameter(_ text: String, field: String) throws -> Bool {
        switch text {
        case "true": return true
        case "false": return false
        default: throw ServiceError.invalid(field, "invalid_parameter", "\(field) must be true or false.")
        }
    }

    /// An ISO date (`2026-03-15`), canonical.
    static func date(_ text: String, field: String) throws -> String {
        try domain { () throws(DomainError) in try CivilDate(iso: text, field: field).iso }
    }
}
