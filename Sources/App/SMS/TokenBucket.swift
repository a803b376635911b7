import Foundation
import Synchronization

/// Messages per second for one process: a token bucket with one second of burst.
final class TokenBucket: Sendable {
    private let perSecond: Double
    private let state: Mutex<(tokens: Double, last: ContinuousClock.Instant)>

    init(perSecond: Double) {
        self.perSecond = max(perSecond, 0.001)
        self.state = Mutex((tokens: max(perSecond, 1), last: .now))
    }

    /// Blocks until a token is free.
    func acquire() {
        while true {
            let wait: Double = state.withLock { s in
                let now = ContinuousClock.now
                s.tokens = min(max(perSecond, 1), s.tokens + (now - s.last).seconds * perSecond)
                s.last = now
                if s.tokens >= 1 {
                    s.tokens -= 1
                    return 0
                }
                return (1 - s.tokens) / perSecond
            }
            if wait <= 0 { return }
            Thread.sleep(forTimeInterval: wait)
        }
    }
}

extension Duration {
    /// Seconds as a Double.
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
