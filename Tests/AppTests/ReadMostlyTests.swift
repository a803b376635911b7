@testable import App
import Foundation
import Testing

@Suite("A read-mostly value")
struct ReadMostlyTests {
    /// Writers exclude each other and readers; readers see only whole values.
    @Test func concurrentWritesAreAllKept_andReadsSeeWholeValues() {
        let shared = ReadMostly<[Int]>([0, 0])
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            for _ in 0..<2_000 {
                if i % 2 == 0 {
                    shared.write { $0[0] += 1; $0[1] += 1 }
                } else {
                    let pair = shared.read { $0 }
                    #expect(pair[0] == pair[1])
                }
            }
        }
        #expect(shared.read { $0 } == [8_000, 8_000])
    }
}
