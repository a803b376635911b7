import Foundation
import Testing
@testable import Domain

@Suite("DomainError")
struct DomainErrorTests {
    static let all: [DomainError] = [
        .invalidVorgangsnummer(field: "f"), .invalidPhoneNumber(field: "f"), .nonASCIIDigits(field: "f"),
        .unsupportedCountryCode(field: "f", countryCode: 61), .notAMobileNumber(field: "f"), .invalidDocumentNumber(field: "f"),
        .documentCheckDigitMismatch(field: "f"), .invalidDateOfBirth(field: "f"), .invalidDate(field: "f"),
        .invalidConfiguration(field: "f"), .feeNotSettled(field: "f"),
        .handoverCheckMissing(field: "f", check: .identity), .handoverCheckMissing(field: "f", check: .proxyName),
        .handoverCheckMissing(field: "f", check: .powerOfAttorney), .handoverCheckMissing(field: "f", check: .oldDocument),
        .illegalTransition(IllegalTransition(state: .collected, event: .loaded)),
    ]

    @Test func codes_areUniqueSnakeCase()  throws {
        let codes = Self.all.map(\.code)
        #expect(Set(codes).count == codes.count)
        for code in codes {
            #expect(code.allSatisfy { $0.isLowercase || $0 == "_" })
        }
        #expect(codes.contains("invalid_phone_number"))
        #expect(codes.contains("unsupported_country_code"))
        #expect(codes.contains("non_ascii_digits"))
        #expect(codes.contains("invalid_document_number"))
        #expect(codes.contains("invalid_date_of_birth"))
        #expect(codes.contains("invalid_vorgangsnummer"))
        #expect(codes.contains("illegal_transition"))
    }

    @Test func field_isCarried()  throws {
        for error in Self.all.dropLast() { #expect(error.field == "f") }
        #expect(Self.all.last?.field == "state")
    }

    @Test func messages_areNonEmptyAndDescribeTheError()  throws {
        for error in Self.all {
            #expect(!error.message.isEmpty)
            #expect(error.description.hasPrefix(error.code))
        }
        #expect(DomainError.unsupportedCountryCode(field: "f", countryCode: 61).message.contains("+61"))
    }

    @Test func messages_neverEchoTheRejectedInput()  throws {
        let secret = "0171 9876543"
        let inputs: [() throws -> Void] = [
            { _ = try PhoneNumber.parse(secret + "x") },
            { _ = try DateOfBirth("31.02.1985", today: .make(2025, 1, 1)) },
            { _ = try DocumentNumber("L898902C35") },
            { _ = try Vorgangsnummer("K7M-4XQ-9TR-2") },
        ]
        for run in inputs {
            do {
                try run()
                Issue.record("expected an error")
            } catch let error as DomainError {
                #expect(!error.description.contains("9876543"))
                #expect(!error.description.contains("1985"))
                #expect(!error.description.contains("L898902C3"))
                #expect(!error.description.contains("K7M"))
            } catch {
                Issue.record("unexpected error type \(error)")
            }
        }
    }
}
