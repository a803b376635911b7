import Foundation

/// Request and response bodies of the site routes (camelCase).
enum SiteDTO {
    struct Create: Codable {
        var name: String
        var address: String
        /// ISO 3166-2:DE code without `DE-`: BW, BY, BE, … TH.
        var land: String
        /// IANA time zone; default Europe/Berlin.
        var timeZone: String?
        /// `working_days` (default) or `calendar_days`.
        var deadlineKind: String?
        /// 1…60, default 10.
        var deadlineDays: Int?
    }

    /// `PUT /sites/{id}/hours`: the complete weekly pickup hours (replaces the old ones).
    struct Hours: Codable {
        var hours: [Interval]
    }

    /// One opening interval on a weekday (1 = Monday … 7 = Sunday, ISO 8601), local time of the site.
    struct Interval: Codable, Equatable {
        var weekday: Int
        /// "HH:MM", 00:00…23:59.
        var opens: String
        /// "HH:MM", after `opens`; "24:00" is the end of the day.
        var closes: String
    }

    /// `POST /sites/{id}/exceptions`: a closed day or special hours on one date (insert or replace).
    struct ExceptionUpsert: Codable {
        var day: String
        var closed: Bool
        var opens: String?
        var closes: String?
        var note: String?
    }

    struct Exception: Codable {
        /// "YYYY-MM-DD".
        var day: String
        var closed: Bool
        var opens: String?
        var closes: String?
        var note: String?
    }

    /// What a pickup at this site's boxes asks for, and whether loading needs two staff badges.
    struct PickupSettings: Codable, Equatable, Sendable {
        /// The applicant confirms the PIN letter was received.
        var pinLetter: Bool
        /// `date_of_birth_or_can` (date of birth at first issuance, the old card's CAN at renewal), `date_of_birth`, or `none`.
        var secondFactor: String
        /// Renewals insert the old document into the destruction slot.
        var oldDocument: Bool
        /// Loading opens a compartment only after two staff badges are scanned (four-eyes).
        var fourEyesLoading: Bool

        static let secondFactors = ["date_of_birth_or_can", "date_of_birth", "none"]
    }

    struct Site: Codable {
        var id: UUID
        var name: String
        var address: String
        var land: String
        var timeZone: String
        var deadlineKind: String
        var deadlineDays: Int
        var pickupSettings: PickupSettings
        /// Weekly hours, by weekday and opening time.
        var hours: [Interval]
        /// Exceptions from today on (in the site's time zone), by day.
        var exceptions: [Exception]
        var createdAt: Date
    }
}
