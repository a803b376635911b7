import Domain
import Foundation
import HTTPServer
import Postgres

/// The caseworkers' start page in figures (`GET /api/v1/dashboard`) and the capacity forecast of a
/// box (`GET /api/v1/boxes/{id}/forecast`). Read-only; every figure is aggregated in SQL for the
/// caller's authority, days are counted in Europe/Berlin.
enum DashboardHandlers {
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

    static let timeZone = "Europe/Berlin"
    static let histogramDays = 15

    static func dashboard(_ ctx: StaffContext) throws -> Response {
        try .json(try ctx.app.readPool.withConnection { try dashboard($0, authorityID: ctx.authorityID) })
    }

    static func forecast(_ ctx: StaffContext, boxID: UUID) throws -> Response {
        try .json(try ctx.app.readPool.withConnection { try forecast($0, authorityID: ctx.authorityID, boxID: boxID) })
    }

    static func dashboard(_ c: PostgresConnection, authorityID: UUID) throws -> Dashboard {
        let a = authorityID
        guard let figures = try c.query("""
            WITH day AS (SELECT (now() AT TIME ZONE \(timeZone))::date AS d,
                                ((now() AT TIME ZONE \(timeZone))::date::timestamp AT TIME ZONE \(timeZone)) AS start)
            SELECT day.d::text,
                (SELECT count(*) FROM delivery_item i JOIN delivery dl ON dl.authority_id = i.authority_id AND dl.id = i.delivery_id
                 WHERE i.authority_id = \(a) AND i.result = 'matched' AND dl.received_at >= day.start)::int8,
                (SELECT count(*) FROM assignment WHERE authority_id = \(a) AND loaded_at >= day.start)::int8,
                (SELECT count(*) FROM application WHERE authority_id = \(a) AND collected_at >= day.start)::int8,
                (SELECT count(*) FROM application WHERE authority_id = \(a) AND state = \(ApplicationState.readyInBox.rawValue) AND pickup_deadline = day.d)::int8,
                (SELECT count(*) FROM application WHERE authority_id = \(a) AND contact_required AND state NOT IN ('collected', 'cancelled'))::int8,
                (SELECT count(*) FROM assignment WHERE authority_id = \(a) AND locked AND status = 'loaded')::int8,
                (SELECT count(*) FROM assignment WHERE authority_id = \(a) AND status = 'retrieval_due')::int8,
                (SELECT count(*) FROM box_event WHERE authority_id = \(a) AND kind = 'fault' AND received_at > now() - interval '24 hours')::int8,
                (SELECT count(*) FROM sms_message WHERE authority_id = \(a) AND status IN ('failed', 'expired') AND final_at > now() - interval '24 hours')::int8,
                (SELECT count(*) FROM application WHERE authority_id = \(a) AND state = \(ApplicationState.delivered.rawValue) AND pickup_method = 'box')::int8
            FROM day
            """).first else { throw AppError.notFound("authority") }
        let today = try figures.decode(String.self, at: 0)
        let counts = Counts(deliveredToday: try figures.decode(Int.self, at: 1), loadedToday: try figures.decode(Int.self, at: 2),
                            collectedToday: try figures.decode(Int.self, at: 3), expiringToday: try figures.decode(Int.self, at: 4))
        let attention = Attention(contactRequired: try figures.decode(Int.self, at: 5), lockedAssignments: try figures.decode(Int.self, at: 6),
                                  retrievalDue: try figures.decode(Int.self, at: 7), faultsLast24Hours: try figures.decode(Int.self, at: 8),
                                  smsFailedLast24Hours: try figures.decode(Int.self, at: 9), waitingForCompartment: try figures.decode(Int.self, at: 10))

        let boxes = try BoxStore.list(c, authorityID: a).map {
            BoxSummary(id: $0.id, name: $0.name, siteId: $0.siteId, siteName: $0.siteName, online: $0.online, lastSeenAt: $0.lastSeenAt,
                       pickupsBlockedUntil: $0.pickupsBlockedUntil, loadingBlockedUntil: $0.loadingBlockedUntil, compartments: $0.compartmentCounts)
        }

        let pickups = try c.query("""
            SELECT d::date::text, count(x.collected_at)::int8
            FROM generate_series((now() AT TIME ZONE \(timeZone))::date - 29, (now() AT TIME ZONE \(timeZone))::date, interval '1 day') AS d
            LEFT JOIN (SELECT (collected_at AT TIME ZONE \(timeZone))::date AS day, collected_at FROM application
                       WHERE authority_id = \(a) AND collected_at >= now() - interval '31 days') x ON x.day = d::date
            GROUP BY d ORDER BY d
            """).map { DayCount(date: try $0.decode(String.self, at: 0), count: try $0.decode(Int.self, at: 1)) }

        var histogram = [Int](repeating: 0, count: histogramDays + 1)
        for row in try c.query("""
            SELECT least(\(histogramDays), greatest(0, floor(extract(epoch FROM a.collected_at - dl.received_at) / 86400)))::int8, count(*)::int8
            FROM application a
            JOIN document d ON d.authority_id = a.authority_id AND d.application_id = a.id
            JOIN delivery dl ON dl.authority_id = d.authority_id AND dl.id = d.delivery_id
            WHERE a.authority_id = \(a) AND a.collected_at > now() - interval '90 days'
            GROUP BY 1
            """) {
            let bucket = try row.decode(Int.self, at: 0)
            if histogram.indices.contains(bucket) { histogram[bucket] += try row.decode(Int.self, at: 1) }
        }
        let daysToPickup = histogram.enumerated().map { Bucket(days: $0.offset, count: $0.element, orMore: $0.offset == histogramDays) }

        // Each assignment counts on the days at whose end it occupied its compartment: from the day it was
        // assigned to the day before it ended (only those overlapping the window are read; one row per
        // assignment-day, summed per day and box).
        var points: [UUID: [String: Int]] = [:]
        for row in try c.query("""
            WITH bounds AS (SELECT (now() AT TIME ZONE \(timeZone))::date AS today),
            spans AS (
                SELECT c.box_id,
                       greatest((asg.assigned_at AT TIME ZONE \(timeZone))::date, b.today - 29) AS first_day,
                       least(coalesce((coalesce(asg.collected_at, asg.retrieved_at, asg.released_at) AT TIME ZONE \(timeZone))::date - 1, b.today), b.today) AS last_day
                FROM assignment asg JOIN compartment c ON c.authority_id = asg.authority_id AND c.id = asg.compartment_id, bounds b
                WHERE asg.authority_id = \(a)
                  AND coalesce(asg.collected_at, asg.retrieved_at, asg.released_at, 'infinity') > now() - interval '31 days'
            )
            SELECT d::date::text, s.box_id, count(*)::int8
            FROM spans s, generate_series(s.first_day, s.last_day, interval '1 day') AS d
            WHERE s.first_day <= s.last_day
            GROUP BY 1, 2
            """) {
            points[try row.decode(UUID.self, at: 1), default: [:]][try row.decode(String.self, at: 0)] = try row.decode(Int.self, at: 2)
        }
        let dates = pickups.map(\.date)
        let occupancy = boxes.map { box in
            Occupancy(boxId: box.id, name: box.name, capacity: box.compartments.total - box.compartments.blocked,
                      points: dates.map { OccupancyPoint(date: $0, occupied: points[box.id]?[$0] ?? 0) })
        }
        return Dashboard(generatedAt: Date(), today: today, counts: counts, attention: attention, boxes: boxes,
                         pickupsPerDay: pickups, daysToPickup: daysToPickup, occupancy: occupancy)
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

    static let defaultProductionDays = 21

    static func forecast(_ c: PostgresConnection, authorityID a: UUID, boxID: UUID) throws -> Forecast {
        guard let box = try c.query("""
            SELECT b.name, b.site_id, (now() AT TIME ZONE \(timeZone))::date::text,
                   (SELECT count(*) FROM compartment WHERE authority_id = b.authority_id AND box_id = b.id AND state <> \(CompartmentState.blocked.rawValue))::int8,
                   (SELECT count(*) FROM compartment c JOIN box o ON o.authority_id = c.authority_id AND o.id = c.box_id
                    WHERE c.authority_id = b.authority_id AND o.site_id = b.site_id AND c.state <> \(CompartmentState.blocked.rawValue))::int8
            FROM box b WHERE b.authority_id = \(a) AND b.id = \(boxID)
            """).first else { throw AppError.notFound("box") }
        let name = try box.decode(String.self, at: 0)
        let siteID = try box.decode(UUID.self, at: 1)
        let today = try CivilDate(iso: try box.decode(String.self, at: 2))
        let capacity = try box.decode(Int.self, at: 3)
        let siteCapacity = try box.decode(Int.self, at: 4)
        let share = siteCapacity > 0 ? Double(capacity) / Double(siteCapacity) : 0

        // Documents in the box now: days since loading (assigned but not loaded yet: 0).
        let ages = try c.query("""
            SELECT coalesce(floor(extract(epoch FROM now() - asg.loaded_at) / 86400), 0)::int8
            FROM assignment asg JOIN compartment c ON c.authority_id = asg.authority_id AND c.id = asg.compartment_id
            WHERE asg.authority_id = \(a) AND c.box_id = \(boxID) AND asg.status IN ('assigned', 'loaded', 'retrieval_due')
            """).map { try $0.decode(Int.self, at: 0) }
        // How long documents stayed in this box (loading to pickup or retrieval), the last 180 days, per length.
        var stays: [Int: Int] = [:]
        for row in try c.query("""
            SELECT floor(extract(epoch FROM coalesce(asg.collected_at, asg.retrieved_at) - asg.loaded_at) / 86400)::int8, count(*)::int8
            FROM assignment asg JOIN compartment c ON c.authority_id = asg.authority_id AND c.id = asg.compartment_id
            WHERE asg.authority_id = \(a) AND c.box_id = \(boxID) AND asg.loaded_at IS NOT NULL
              AND coalesce(asg.collected_at, asg.retrieved_at) > now() - interval '180 days'
            GROUP BY 1
            """) {
            stays[try row.decode(Int.self, at: 0), default: 0] += try row.decode(Int.self, at: 1)
        }
        // Production time at the site: registration to the delivery that matched it, over the most recent
        // 2,000 matched documents (newest deliveries first by index; enough for a median, and bounded).
        let productionDays = try c.query("""
            SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY x.days)::int8, count(*)::int8 FROM (
                SELECT floor(extract(epoch FROM dl.received_at - ap.created_at) / 86400) AS days
                FROM delivery dl
                JOIN delivery_item i ON i.authority_id = dl.authority_id AND i.delivery_id = dl.id AND i.result = 'matched'
                JOIN application ap ON ap.authority_id = i.authority_id AND ap.id = i.application_id
                WHERE dl.authority_id = \(a) AND ap.site_id = \(siteID) AND dl.received_at > now() - interval '180 days'
                ORDER BY dl.received_at DESC LIMIT 2000
            ) x
            """).first
        let observedProduction = try productionDays?.decode(Int.self, at: 1) ?? 0
        let medianProduction = observedProduction >= CapacityForecast.minimumObservations
            ? max(0, try productionDays?.decode(Int?.self, at: 0) ?? defaultProductionDays) : defaultProductionDays
        // Box pickups of the site still to come: in production (by age) and delivered without a compartment (tomorrow).
        let waiting = try c.query("""
            SELECT state = \(ApplicationState.delivered.rawValue), floor(extract(epoch FROM now() - created_at) / 86400)::int8, count(*)::int8 FROM application
            WHERE authority_id = \(a) AND site_id = \(siteID) AND pickup_method = 'box' AND state = ANY(\([ApplicationState.registered, .inProduction, .delivered].map(\.rawValue)))
            GROUP BY 1, 2
            """)
        var arrivals: [CapacityForecast.Arrival] = []
        var inProduction = 0
        for row in waiting {
            let day = try row.decode(Bool.self, at: 0) ? 1
                : CapacityForecast.arrivalDay(ageDays: try row.decode(Int.self, at: 1), medianProductionDays: medianProduction)
            let count = try row.decode(Int.self, at: 2)
            inProduction += count
            arrivals += Array(repeating: CapacityForecast.Arrival(day: day, probability: share), count: count)
        }
        let stay = CapacityForecast.stayDistribution(histogram: stays)
        let model = CapacityForecast(capacity: capacity, agesInBox: ages, arrivals: arrivals, stay: stay)
        var cumulative = 0.0
        let medianStay = stay.firstIndex { cumulative += $0; return cumulative >= 0.5 } ?? 0
        func round2(_ x: Double) -> Double { (x * 100).rounded() / 100 }
        return Forecast(
            boxId: boxID, name: name, capacity: capacity, occupiedNow: ages.count,
            days: model.days.map { ForecastDay(date: today.adding(days: $0.offset).iso, expectedArrivals: round2($0.expectedArrivals),
                                               expectedPickups: round2($0.expectedDepartures), expectedOccupied: round2($0.expectedOccupied)) },
            fullOn: model.fullOnOffset.map { today.adding(days: $0).iso },
            basis: ForecastBasis(inProduction: inProduction, shareOfSite: round2(share), medianDaysToDelivery: medianProduction,
                                 medianDaysToPickup: medianStay, observedPickups: CapacityForecast.observations(stays)))
    }
}
