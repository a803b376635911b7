import Testing
@testable import Domain

@Suite("Capacity forecast")
struct CapacityForecastTests {
    @Test func emptyBox_withoutArrivals_staysEmpty_andNeverRunsFull() {
        let f = CapacityForecast(capacity: 10, agesInBox: [], arrivals: [], stay: CapacityForecast.defaultStay)
        #expect(f.days.count == 14)
        #expect(f.days.allSatisfy { $0.expectedOccupied == 0 })
        #expect(f.fullOnOffset == nil)
    }

    @Test func everyDocumentLeavesAfterExactlyTwoDays_whenEveryObservedStayWasTwo() {
        let stay = CapacityForecast.stayDistribution(observedStays: Array(repeating: 2, count: 30))
        // Loaded today (age 0): there at the end of days 1, gone at the end of day 2.
        let f = CapacityForecast(capacity: 10, agesInBox: [0, 0, 1], arrivals: [], stay: stay, horizon: 3)
        #expect(f.days[0].expectedOccupied == 2)   // the two of today stay; the one of yesterday leaves on day 1
        #expect(f.days[1].expectedOccupied == 0)
        #expect(f.days[0].expectedDepartures == 1)
    }

    @Test func arrivals_fillTheBox_andTheFullDayIsTheFirstAtCapacity() {
        let stay = CapacityForecast.stayDistribution(observedStays: Array(repeating: 10, count: 30))
        let arrivals = (0..<12).map { CapacityForecast.Arrival(day: 1 + $0 / 3, probability: 1) }   // 3 a day from tomorrow
        let f = CapacityForecast(capacity: 8, agesInBox: [0], arrivals: arrivals, stay: stay)
        // Day 1: 1 + 3 = 4, day 2: 7, day 3: 10 ≥ 8.
        #expect(f.days[0].expectedOccupied == 4)
        #expect(f.days[0].expectedArrivals == 3)
        #expect(f.fullOnOffset == 3)
    }

    @Test func probabilities_weighArrivals() {
        let stay = CapacityForecast.stayDistribution(observedStays: Array(repeating: 5, count: 30))
        let f = CapacityForecast(capacity: 100, agesInBox: [], arrivals: [.init(day: 1, probability: 0.5), .init(day: 1, probability: 0.25)], stay: stay, horizon: 2)
        #expect(abs(f.days[0].expectedOccupied - 0.75) < 1e-9)
    }

    @Test func fewObservations_fallBackToTheDefaultStay_andTheDefaultIsADistribution() {
        #expect(CapacityForecast.stayDistribution(observedStays: [1, 2, 3]) == CapacityForecast.defaultStay)
        #expect(abs(CapacityForecast.defaultStay.reduce(0, +) - 1) < 1e-9)
    }

    @Test func olderDocuments_leaveSooner_thanFreshOnes() {
        let f = CapacityForecast(capacity: 100, agesInBox: [12], arrivals: [], stay: CapacityForecast.defaultStay, horizon: 1)
        let g = CapacityForecast(capacity: 100, agesInBox: [0], arrivals: [], stay: CapacityForecast.defaultStay, horizon: 1)
        #expect(f.days[0].expectedOccupied < g.days[0].expectedOccupied)
    }

    @Test func overdueProduction_isExpectedTomorrow() {
        #expect(CapacityForecast.arrivalDay(ageDays: 30, medianProductionDays: 21) == 1)
        #expect(CapacityForecast.arrivalDay(ageDays: 5, medianProductionDays: 21) == 16)
    }

    @Test func aBoxWithoutUsableCompartments_orFullNow_isFullToday() {
        #expect(CapacityForecast(capacity: 0, agesInBox: [], arrivals: [], stay: CapacityForecast.defaultStay).fullOnOffset == 0)
        #expect(CapacityForecast(capacity: 2, agesInBox: [0, 3], arrivals: [], stay: CapacityForecast.defaultStay).fullOnOffset == 0)
    }
}
