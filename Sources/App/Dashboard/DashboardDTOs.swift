import Foundation

/// The bodies of `GET /api/v1/dashboard` and `GET /api/v1/boxes/{id}/forecast` (camelCase, as in openapi.yaml).
extension DashboardHandlers {
    struct Counts: Codable {
        /// Documents matched in deliveries received today.
        var deliveredToday: Int
        /// Compartments loaded today.
        var loadedToday: Int
        /// Documents collected today (box and counter).
        var collectedToday: Int
        /// Documents in a box whose last pickup day is today.
        var expiringToday: Int
    }

    struct Attention: Codable {
        /// A "ready" SMS failed: call or write to the applicant.
        var contactRequired: Int
        /// Compartments locked after failed pickup attempts (a new PIN unlocks them).
        var lockedAssignments: Int
        /// Documents past their deadline to be taken out of a box.
        var retrievalDue: Int
        /// `fault` events reported by boxes in the last 24 hours.
        var faultsLast24Hours: Int
        var smsFailedLast24Hours: Int
        /// Delivered box pickups without a compartment (box full, or fee open).
        var waitingForCompartment: Int
    }

    struct BoxSummary: Codable {
        var id: UUID
        var name: String
        var siteId: UUID
        var siteName: String
        var online: Bool
        var lastSeenAt: Date?
        var pickupsBlockedUntil: Date?
        /// Set while the box refuses loading after refused badges or unknown documents.
        var loadingBlockedUntil: Date?
        var compartments: BoxDTO.Counts
    }

    struct DayCount: Codable {
        var date: String
        var count: Int
    }

    struct Bucket: Codable {
        var days: Int
        var count: Int
        /// The last bucket holds this many days or more.
        var orMore: Bool
    }

    struct OccupancyPoint: Codable {
        var date: String
        var occupied: Int
    }

    struct Occupancy: Codable {
        var boxId: UUID
        var name: String
        var capacity: Int
        var points: [OccupancyPoint]
    }

    struct Dashboard: Codable {
        var generatedAt: Date
        var today: String
        var counts: Counts
        var attention: Attention
        var boxes: [BoxSummary]
        /// Collected documents per day, the last 30 days, oldest first.
        var pickupsPerDay: [DayCount]
        /// Days from delivery to collection, documents collected in the last 90 days.
        var daysToPickup: [Bucket]
        /// Occupied compartments of each box at the end of each of the last 30 days.
        var occupancy: [Occupancy]
    }

    // MARK: - Forecast

    struct ForecastDay: Codable {
        var date: String
        var expectedArrivals: Double
        var expectedPickups: Double
        var expectedOccupied: Double
    }

    struct ForecastBasis: Codable {
        /// Box pickups at the box's site still in production (or delivered without a compartment).
        var inProduction: Int
        /// This box's share of the site's arrivals (its usable compartments over the site's).
        var shareOfSite: Double
        /// Median days from registration to delivery at the site (observed, or 21 without data).
        var medianDaysToDelivery: Int
        /// Median days a document stayed in this box (observed, or from the built-in distribution).
        var medianDaysToPickup: Int
        /// Stays observed at this box in the last 180 days.
        var observedPickups: Int
    }

    struct Forecast: Codable {
        var boxId: UUID
        var name: String
        /// Usable compartments (not blocked).
        var capacity: Int
        var occupiedNow: Int
        var days: [ForecastDay]
        var fullOn: String?
        var basis: ForecastBasis
    }
}
