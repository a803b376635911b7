import Domain
import Foundation
import HTTPServer
import Postgres

/// The caseworkers' start page in figures (`GET /api/v1/dashboard`) and the capacity forecast of a
/// box (`GET /api/v1/boxes/{id}/forecast`). Read-only; every figure is aggregated in SQL for the
/// caller's authority (``DashboardStore``), days are counted in Europe/Berlin.
enum DashboardHandlers {
    static let timeZone = "Europe/Berlin"
    static let histogramDays = 15
    static let defaultProductionDays = 21

    static func dashboard(_ ctx: StaffContext) throws -> Response {
        try .json(try ctx.app.readPool.withConnection { try dashboard($0, authorityID: ctx.authorityID) })
    }

    static func forecast(_ ctx: StaffContext, boxID: UUID) throws -> Response {
        try .json(try ctx.app.readPool.withConnection { try forecast($0, authorityID: ctx.authorityID, boxID: boxID) })
    }

    static func dashboard(_ c: PostgresConnection, authorityID a: UUID) throws -> Dashboard {
        let (today, counts, attention) = try DashboardStore.figures(c, authorityID: a)
        let boxes = try BoxStore.list(c, authorityID: a).map {
            BoxSummary(id: $0.id, name: $0.name, siteId: $0.siteId, siteName: $0.siteName, online: $0.online, lastSeenAt: $0.lastSeenAt,
                       pickupsBlockedUntil: $0.pickupsBlockedUntil, loadingBlockedUntil: $0.loadingBlockedUntil, compartments: $0.compartmentCounts)
        }
        let pickups = try DashboardStore.pickupsPerDay(c, authorityID: a)
        let histogram = try DashboardStore.daysToPickup(c, authorityID: a)
        let daysToPickup = histogram.enumerated().map { Bucket(days: $0.offset, count: $0.element, orMore: $0.offset == histogramDays) }
        let points = try DashboardStore.occupancy(c, authorityID: a)
        let dates = pickups.map(\.date)
        let occupancy = boxes.map { box in
            Occupancy(boxId: box.id, name: box.name, capacity: box.compartments.total - box.compartments.blocked,
                      points: dates.map { OccupancyPoint(date: $0, occupied: points[box.id]?[$0] ?? 0) })
        }
        return Dashboard(generatedAt: Date(), today: today, counts: counts, attention: attention, boxes: boxes,
                         pickupsPerDay: pickups, daysToPickup: daysToPickup, occupancy: occupancy)
    }

    static func forecast(_ c: PostgresConnection, authorityID a: UUID, boxID: UUID) throws -> Forecast {
        let box = try ForecastStore.box(c, authorityID: a, boxID: boxID)
        let share = box.siteCapacity > 0 ? Double(box.capacity) / Double(box.siteCapacity) : 0
        let ages = try ForecastStore.agesInBox(c, authorityID: a, boxID: boxID)
        let stays = try ForecastStore.stays(c, authorityID: a, boxID: boxID)
        let production = try ForecastStore.productionDays(c, authorityID: a, siteID: box.siteID)
        let medianProduction = production.observed >= CapacityForecast.minimumObservations
            ? max(0, production.median ?? defaultProductionDays) : defaultProductionDays
        var arrivals: [CapacityForecast.Arrival] = []
        var inProduction = 0
        for group in try ForecastStore.waiting(c, authorityID: a, siteID: box.siteID) {
            let day = group.delivered ? 1 : CapacityForecast.arrivalDay(ageDays: group.ageDays, medianProductionDays: medianProduction)
            inProduction += group.count
            arrivals += Array(repeating: CapacityForecast.Arrival(day: day, probability: share), count: group.count)
        }
        let stay = CapacityForecast.stayDistribution(histogram: stays)
        let model = CapacityForecast(capacity: box.capacity, agesInBox: ages, arrivals: arrivals, stay: stay)
        var cumulative = 0.0
        let medianStay = stay.firstIndex { cumulative += $0; return cumulative >= 0.5 } ?? 0
        func round2(_ x: Double) -> Double { (x * 100).rounded() / 100 }
        return Forecast(
            boxId: boxID, name: box.name, capacity: box.capacity, occupiedNow: ages.count,
            days: model.days.map { ForecastDay(date: box.today.adding(days: $0.offset).iso, expectedArrivals: round2($0.expectedArrivals),
                                               expectedPickups: round2($0.expectedDepartures), expectedOccupied: round2($0.expectedOccupied)) },
            fullOn: model.fullOnOffset.map { box.today.adding(days: $0).iso },
            basis: ForecastBasis(inProduction: inProduction, shareOfSite: round2(share), medianDaysToDelivery: medianProduction,
                                 medianDaysToPickup: medianStay, observedPickups: CapacityForecast.observations(stays)))
    }
}
