import Foundation

/// How full a box will be over the next days (the dashboard's "Box Foyer runs full on 12 Dec").
///
/// The model, in expected values:
/// - Every document stays in the box for a number of days `L` (from loading to pickup or retrieval),
///   drawn from the distribution observed at this box (``stayDistribution(observedStays:)``), which
///   also carries the deadline: nobody stays longer than the longest observed stay.
/// - A document in the box for `a` days is still there at the end of day `t` with probability
///   `S(a + t) / P(L ≥ a)`, where `S(k) = P(L > k)` (the survival function, conditioned on its age).
/// - A document still in production arrives on its expected day (``Arrival``, with the probability that
///   it comes to this box) and then stays like any other: it counts `p · S(t − day)` on day `t`.
/// Expected occupancy on day `t` is the sum over both. The box runs full on the first day on which it
/// reaches the usable capacity (compartments that are not blocked).
public struct CapacityForecast: Sendable, Hashable {
    /// A document expected to arrive `day` days from today (≥ 0) with `probability` for this box.
    public struct Arrival: Sendable, Hashable {
        public let day: Int
        public let probability: Double

        public init(day: Int, probability: Double) {
            self.day = day
            self.probability = probability
        }
    }

    public struct Day: Sendable, Hashable {
        /// Days from today: 1 is tomorrow.
        public let offset: Int
        public let expectedArrivals: Double
        public let expectedDepartures: Double
        public let expectedOccupied: Double
    }

    public let capacity: Int
    public let occupiedNow: Int
    public let days: [Day]
    /// The first day (offset; 0 = today, when the box is full now) on which the expected occupancy
    /// reaches the capacity, if within the horizon.
    public let fullOnOffset: Int?

    /// `stay[k]` = P(L = k days), k = 0…; used when fewer than ``minimumObservations`` stays are known:
    /// most documents are collected within the first days, the rest by the deadline (about two weeks).
    public static let defaultStay: [Double] = [0.22, 0.20, 0.13, 0.09, 0.07, 0.06, 0.05, 0.04, 0.03, 0.03, 0.02, 0.02, 0.02, 0.01, 0.01]
    public static let minimumObservations = 20

    /// The distribution of stays: observed stays (whole days ≥ 0) when there are enough, else ``defaultStay``.
    public static func stayDistribution(observedStays: [Int]) -> [Double] {
        stayDistribution(histogram: Dictionary(observedStays.map { ($0, 1) }, uniquingKeysWith: +))
    }

    /// The same from counts per stay length (`days → documents`), as a database aggregates them.
    public static func stayDistribution(histogram: [Int: Int]) -> [Double] {
        let stays = histogram.filter { $0.key >= 0 && $0.value > 0 }
        let total = stays.values.reduce(0, +)
        guard total >= minimumObservations, let longest = stays.keys.max() else { return defaultStay }
        var counts = [Double](repeating: 0, count: min(longest, 365) + 1)
        for (stay, count) in stays { counts[min(stay, counts.count - 1)] += Double(count) }
        return counts.map { $0 / Double(total) }
    }

    /// Observations behind a histogram.
    public static func observations(_ histogram: [Int: Int]) -> Int { histogram.values.reduce(0, +) }

    /// `S(k) = P(L > k)` for k = 0…horizon+longest, from a stay distribution.
    static func survival(_ stay: [Double], upTo limit: Int) -> [Double] {
        var s = [Double](repeating: 0, count: limit + 1)
        var remaining = 1.0
        for k in 0...limit {
            remaining -= k < stay.count ? stay[k] : 0
            s[k] = max(0, remaining)
        }
        return s
    }

    /// - Parameters:
    ///   - capacity: usable compartments (not blocked).
    ///   - agesInBox: for each document in the box now (or assigned and about to be loaded: age 0), its days since loading.
    ///   - arrivals: documents expected to arrive.
    ///   - stay: ``stayDistribution(observedStays:)``.
    ///   - horizon: days ahead (14 on the dashboard).
    public init(capacity: Int, agesInBox: [Int], arrivals: [Arrival], stay: [Double], horizon: Int = 14) {
        precondition(horizon >= 1, "the horizon is at least one day")
        let maxAge = agesInBox.max() ?? 0
        let survival = Self.survival(stay, upTo: maxAge + horizon + 1)
        func s(_ k: Int) -> Double { k < 0 ? 1 : (k < survival.count ? survival[k] : 0) }
        self.capacity = capacity
        self.occupiedNow = agesInBox.count
        var days: [Day] = []
        // Full already (every usable compartment taken): full today.
        var full: Int? = agesInBox.count >= capacity ? 0 : nil
        var previous = Double(agesInBox.count)
        for t in 1...horizon {
            var occupied = 0.0
            for age in agesInBox {
                // Conditioned on being there now; a document older than every observed stay leaves at once.
                // In the box now means L ≥ age; still there at the end of day t means L > age + t.
                let now = s(age - 1)
                occupied += now > 0 ? s(age + t) / now : 0
            }
            var arriving = 0.0
            for arrival in arrivals where arrival.day <= t {
                occupied += arrival.probability * s(t - arrival.day)
                if arrival.day == t { arriving += arrival.probability }
            }
            let departures = max(0, previous + arriving - occupied)
            days.append(Day(offset: t, expectedArrivals: arriving, expectedDepartures: departures, expectedOccupied: occupied))
            if full == nil && capacity > 0 && occupied >= Double(capacity) { full = t }
            previous = occupied
        }
        self.days = days
        self.fullOnOffset = full
    }

    /// Expected arrival day of a document still in production: its age against the median production
    /// time; overdue documents are expected tomorrow.
    public static func arrivalDay(ageDays: Int, medianProductionDays: Int) -> Int {
        max(1, medianProductionDays - ageDays)
    }
}
