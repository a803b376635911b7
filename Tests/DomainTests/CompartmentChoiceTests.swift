import Foundation
import Testing
@testable import Domain

@Suite("CompartmentCandidate.choose")
struct CompartmentChoiceTests {
    typealias C = CompartmentCandidate

    @Test func choosesTheSmallestFittingAvailableCompartment()  throws {
        let candidates = [C.make(number: 1, sizeClass: 3), C.make(number: 2, sizeClass: 1), C.make(number: 3, sizeClass: 2)]
        #expect(C.choose(from: candidates, minimumSize: 2, needsAccessible: false)?.number == 3)
        #expect(C.choose(from: candidates, minimumSize: 1, needsAccessible: false)?.number == 2)
        #expect(C.choose(from: candidates, minimumSize: 4, needsAccessible: false) == nil)
    }

    @Test func skipsOccupiedAndBlockedCompartments()  throws {
        let candidates = [C.make(number: 1, state: .occupied), C.make(number: 2, state: .blocked), C.make(number: 3, sizeClass: 2)]
        #expect(C.choose(from: candidates, minimumSize: 1, needsAccessible: false)?.number == 3)
        #expect(C.choose(from: [C.make(state: .occupied)], minimumSize: 1, needsAccessible: false) == nil)
        #expect(C.choose(from: [], minimumSize: 1, needsAccessible: true) == nil)
    }

    @Test func assignsAccessibleCompartment_whenNeeded()  throws {
        let candidates = [C.make(number: 1, floorHeightCm: 160), C.make(number: 2, floorHeightCm: 20), C.make(number: 3, sizeClass: 2, floorHeightCm: 90)]
        #expect(C.choose(from: candidates, minimumSize: 1, needsAccessible: true)?.number == 3)
        #expect(C.choose(from: Array(candidates.prefix(2)), minimumSize: 1, needsAccessible: true) == nil)
    }

    @Test func usesTheStoredAccessibleFlag()  throws {
        let overridden = C.make(number: 1, floorHeightCm: 90, accessible: false)
        #expect(C.choose(from: [overridden], minimumSize: 1, needsAccessible: true) == nil)
    }

    @Test func prefersNonAccessibleCompartments_whenNotNeeded()  throws {
        let candidates = [C.make(number: 1, floorHeightCm: 85), C.make(number: 2, floorHeightCm: 130), C.make(number: 3, floorHeightCm: 10)]
        #expect(C.choose(from: candidates, minimumSize: 1, needsAccessible: false)?.number == 2)
        // Among non-accessible ones, still the one nearest a comfortable height: floor at 10 cm beats 180 cm.
        let highOrLow = [C.make(number: 1, floorHeightCm: 180), C.make(number: 2, floorHeightCm: 10)]
        #expect(C.choose(from: highOrLow, minimumSize: 1, needsAccessible: false)?.number == 2)
        // …but takes an accessible one rather than none.
        #expect(C.choose(from: [C.make(number: 1, floorHeightCm: 85)], minimumSize: 1, needsAccessible: false)?.number == 1)
    }

    @Test func sizeComesBeforeAccessibilityPreference()  throws {
        let candidates = [C.make(number: 1, sizeClass: 1, floorHeightCm: 85), C.make(number: 2, sizeClass: 2, floorHeightCm: 180)]
        #expect(C.choose(from: candidates, minimumSize: 1, needsAccessible: false)?.number == 1)
    }

    @Test func prefersHeightClosestToTheComfortableHeight()  throws {
        let candidates = [C.make(number: 1, floorHeightCm: 45), C.make(number: 2, floorHeightCm: 100), C.make(number: 3, floorHeightCm: 80)]
        #expect(C.choose(from: candidates, minimumSize: 1, needsAccessible: true)?.number == 3)
        let tie = [C.make(number: 1, floorHeightCm: 75), C.make(number: 2, floorHeightCm: 95)]
        #expect(C.choose(from: tie, minimumSize: 1, needsAccessible: true)?.number == 2)
    }

    @Test func breaksTiesByBoxThenNumber()  throws {
        let candidates = [
            C.make(number: 7, boxID: C.boxB), C.make(number: 9, boxID: C.boxA), C.make(number: 4, boxID: C.boxA), C.make(number: 1, boxID: C.boxB),
        ]
        let chosen = C.choose(from: candidates, minimumSize: 1, needsAccessible: false)
        #expect(chosen?.boxID == C.boxA)
        #expect(chosen?.number == 4)
    }

    @Test func isDeterministicWhateverTheInputOrder()  throws {
        var rng = SeededGenerator(seed: 5)
        var candidates: [C] = []
        for number in 1...456 {
            let height = 10 + (number % 12) * 15
            let state: CompartmentState = number % 5 == 0 ? .occupied : (number % 17 == 0 ? .blocked : .available)
            candidates.append(C.make(number: number, boxID: number % 2 == 0 ? C.boxA : C.boxB, sizeClass: 1 + number % 3, floorHeightCm: height, state: state))
        }
        for needsAccessible in [true, false] {
            for minimumSize in 1...4 {
                let expected = C.choose(from: candidates, minimumSize: minimumSize, needsAccessible: needsAccessible)
                for _ in 0..<20 {
                    candidates.shuffle(using: &rng)
                    #expect(C.choose(from: candidates, minimumSize: minimumSize, needsAccessible: needsAccessible) == expected)
                }
                if let expected {
                    #expect(expected.state == .available && expected.sizeClass >= minimumSize)
                    if needsAccessible { #expect(expected.accessible) }
                    let fitting = candidates.filter { $0.state == .available && $0.sizeClass >= minimumSize && (!needsAccessible || $0.accessible) }
                    #expect(fitting.allSatisfy { $0.sizeClass >= expected.sizeClass })
                } else {
                    #expect(minimumSize == 4)
                }
            }
        }
    }

    @Test(arguments: [(39, false), (40, true), (85, true), (110, true), (111, false), (0, false), (-5, false), (300, false), (Int.max, false), (Int.min, false)])
    func isAccessible_usesTheDocumentedRange(_ height: Int, _ accessible: Bool)  throws {
        #expect(C.isAccessible(floorHeightCm: height) == accessible)
    }

    @Test func absurdHeights_doNotTrap()  throws {
        let candidates = [C.make(number: 1, floorHeightCm: Int.min), C.make(number: 2, floorHeightCm: Int.max), C.make(number: 3, floorHeightCm: 0)]
        #expect(C.choose(from: candidates, minimumSize: Int.min, needsAccessible: false)?.number == 3)
        #expect(C.choose(from: candidates, minimumSize: Int.max, needsAccessible: false) == nil)
    }
}
