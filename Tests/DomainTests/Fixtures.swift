import Foundation
@testable import Domain

/// A deterministic generator (SplitMix64) so generated numbers are reproducible in tests.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A generator that always returns the same value (edge cases of `next(upperBound:)`).
struct ConstantGenerator: RandomNumberGenerator {
    var value: UInt64
    mutating func next() -> UInt64 { value }
}

extension CivilDate {
    /// A date known to be valid in the test; traps (in the test only) if not.
    static func make(_ year: Int, _ month: Int, _ day: Int) -> CivilDate {
        guard let date = try? CivilDate(year: year, month: month, day: day) else {
            fatalError("invalid test date \(year)-\(month)-\(day)")
        }
        return date
    }
}

extension CompartmentCandidate {
    static let boxA = UUID(uuidString: "00000000-0000-0000-0000-00000000000A") ?? UUID()
    static let boxB = UUID(uuidString: "00000000-0000-0000-0000-00000000000B") ?? UUID()

    static func make(
        number: Int = 1,
        boxID: UUID = boxA,
        sizeClass: Int = 1,
        floorHeightCm: Int = 150,
        accessible: Bool? = nil,
        state: CompartmentState = .available
    ) -> CompartmentCandidate {
        let id = UUID(uuidString: String(format: "00000000-0000-0000-%04X-%012X", sizeClass & 0xFFFF, number)) ?? UUID()
        return CompartmentCandidate(
            id: id, boxID: boxID, number: number, sizeClass: sizeClass, floorHeightCm: floorHeightCm,
            accessible: accessible ?? CompartmentCandidate.isAccessible(floorHeightCm: floorHeightCm), state: state
        )
    }
}

/// Hostile inputs every parser must refuse or normalise without trapping.
enum HostileInput {
    static let all: [String] = [
        "",
        " ",
        "\0",
        "0171\01234567",
        "\u{202E}0171 1234567",          // RTL override
        "0171 1234567\u{202E}",
        "😀",
        "0171 😀 1234567",
        "👨‍👩‍👧‍👦👨‍👩‍👧‍👦👨‍👩‍👧‍👦",
        "e\u{301}\u{301}\u{301}\u{301}",  // combining marks
        "ß",
        "ﬃ",
        String(repeating: "9", count: 65_536),
        String(repeating: "A", count: 65_536),
        String(repeating: "😀", count: 16_384),
        String(repeating: "\0", count: 65_536),
        String(repeating: "-", count: 65_536),
        "\u{FEFF}K7M-4XQ-9TR-C",
        "K7M\u{200B}4XQ9TRC",
        "\u{FFFD}",
        "%00",
        "'; DROP TABLE application; --",
        "<script>alert(1)</script>",
        "１２３",
        "٠١٧١١٢٣٤٥٦٧",
        "+",
        "++49",
        "00",
        "-",
        "..",
        "XX.XX.XXXX",
        "\n\r\t",
    ]
}
