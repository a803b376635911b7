import Foundation

/// Whether a compartment can take a document (`compartment.state`).
public enum CompartmentState: String, Sendable, Hashable, Codable, CaseIterable {
    case available
    case occupied
    case blocked
}

/// A compartment as seen by the assignment rule (a row of `compartment`).
public struct CompartmentCandidate: Sendable, Hashable, Codable {
    public var id: UUID
    public var boxID: UUID
    /// 1…N within its box.
    public var number: Int
    /// Larger is bigger.
    public var sizeClass: Int
    /// Height of the compartment floor above ground.
    public var floorHeightCm: Int
    /// Reachable from a wheelchair (stored; derived with ``isAccessible(floorHeightCm:)``).
    public var accessible: Bool
    public var state: CompartmentState

    public init(id: UUID, boxID: UUID, number: Int, sizeClass: Int, floorHeightCm: Int, accessible: Bool, state: CompartmentState) {
        self.id = id
        self.boxID = boxID
        self.number = number
        self.sizeClass = sizeClass
        self.floorHeightCm = floorHeightCm
        self.accessible = accessible
        self.state = state
    }

    /// Floor heights reachable from a wheelchair: 40…110 cm.
    ///
    /// The unobstructed reach range from a wheelchair is about 38–122 cm (ADA Standards 2010 §308.2,
    /// 15–48 in); DIN 18040-1 §4.6 puts operating elements at 85 cm (85–105 cm acceptable). The
    /// *floor* of the compartment is where the hand must get to, over the front edge and into the
    /// depth of the compartment, so the upper limit keeps ~10 cm below the maximum reach: 110 cm;
    /// the lower limit is the low reach, rounded up: 40 cm.
    public static let accessibleFloorHeightCm = 40...110

    /// The most comfortable floor height (DIN 18040-1 operating height); tie-break among equals.
    public static let preferredFloorHeightCm = 85

    /// Whether a compartment with its floor at `floorHeightCm` is reachable from a wheelchair.
    public static func isAccessible(floorHeightCm: Int) -> Bool {
        accessibleFloorHeightCm.contains(floorHeightCm)
    }

    /// The compartment to assign, or nil if none fits.
    ///
    /// Only `available` compartments with `sizeClass >= minimumSize`, and only accessible ones when
    /// `needsAccessible`. Among those, in this order:
    /// 1. the smallest size class (large compartments stay free for large items);
    /// 2. for an applicant who does not need an accessible compartment, a non-accessible one — the
    ///    reachable ones are scarce and stay free for wheelchair users;
    /// 3. the floor height closest to ``preferredFloorHeightCm`` (at equal distance the higher one: less bending);
    /// 4. box id, then compartment number, then id — so the choice is deterministic.
    public static func choose(from candidates: [CompartmentCandidate], minimumSize: Int, needsAccessible: Bool) -> CompartmentCandidate? {
        candidates
            .filter { fits($0, minimumSize: minimumSize, needsAccessible: needsAccessible) }
            .min { isPreferred($0, over: $1, needsAccessible: needsAccessible) }
    }

    /// Every compartment that fits, best first: `ranked(…).first == choose(…)`, and assigning `n`
    /// documents of one kind takes the first `n`. The stores claim compartments in this order.
    public static func ranked(_ candidates: [CompartmentCandidate], minimumSize: Int, needsAccessible: Bool) -> [CompartmentCandidate] {
        candidates
            .filter { fits($0, minimumSize: minimumSize, needsAccessible: needsAccessible) }
            .sorted { isPreferred($0, over: $1, needsAccessible: needsAccessible) }
    }

    /// Any document fits the smallest size class today (cards and passport booklets); the parameter is
    /// there for larger items.
    public static let anyDocument = 1

    private static func fits(_ c: CompartmentCandidate, minimumSize: Int, needsAccessible: Bool) -> Bool {
        c.state == .available && c.sizeClass >= minimumSize && (!needsAccessible || c.accessible)
    }

    private static func isPreferred(_ a: CompartmentCandidate, over b: CompartmentCandidate, needsAccessible: Bool) -> Bool {
        if a.sizeClass != b.sizeClass { return a.sizeClass < b.sizeClass }
        if !needsAccessible, a.accessible != b.accessible { return !a.accessible }
        let distanceA = distance(a.floorHeightCm), distanceB = distance(b.floorHeightCm)
        if distanceA != distanceB { return distanceA < distanceB }
        if a.floorHeightCm != b.floorHeightCm { return a.floorHeightCm > b.floorHeightCm }
        if a.boxID != b.boxID { return a.boxID.uuidString < b.boxID.uuidString }
        if a.number != b.number { return a.number < b.number }
        return a.id.uuidString < b.id.uuidString
    }

    /// |height − preferred|, without overflow for absurd heights.
    private static func distance(_ height: Int) -> Int {
        let (difference, overflow) = height.subtractingReportingOverflow(preferredFloorHeightCm)
        guard !overflow, difference != .min else { return .max }
        return abs(difference)
    }
}
