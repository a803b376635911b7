/// True when `a` and `b` are equal, compared without an early exit, so the time taken does not reveal
/// how much matched. The lengths are compared in full: folded into 8 bits, lengths that differ by a
/// multiple of 256 once compared equal.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var bytes: UInt8 = 0
    for i in 0..<max(a.count, b.count) {
        let x = i < a.count ? a[i] : 0
        let y = i < b.count ? b[i] : 0
        bytes |= x ^ y
    }
    return (UInt(bitPattern: a.count ^ b.count) | UInt(bytes)) == 0
}
