import Crypto
import Testing

@Suite("Constant-time comparison")
struct ConstantTimeTests {
    @Test func equalBytes_compareEqual_andAnyDifferenceIsSeen() {
        #expect(constantTimeEquals([], []))
        #expect(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2]))
    }

    /// Lengths that differ by a multiple of 256 folded to 0 in 8 bits: an empty (or truncated) stored
    /// value then matched any all-zero input of 256 bytes more.
    @Test func lengths_areComparedInFull() {
        #expect(!constantTimeEquals([], [UInt8](repeating: 0, count: 256)))
        #expect(!constantTimeEquals([UInt8](repeating: 0, count: 32), [UInt8](repeating: 0, count: 32 + 512)))
        #expect(!constantTimeEquals([7], [7] + [UInt8](repeating: 0, count: 65_536)))
    }
}
