/// How long failed logins block (docs/ARCHITECTURE.md#sessions). An account is guarded by a delay that doubles with every
/// failure past the free ones — from unknown addresses only, so strangers cannot lock a user out of the
/// addresses she logs in from — and a client address by a fixed block once it is over its limit.
public struct LoginBackoff: Sendable, Hashable {
    /// Failures in a row that cost nothing.
    public let freeFailures: Int
    /// The longest delay (and the fixed block of an address).
    public let maximumSeconds: Int

    public init(freeFailures: Int, maximumSeconds: Int = 15 * 60) {
        precondition(freeFailures >= 0 && maximumSeconds > 0, "a backoff needs a non-negative allowance and a positive maximum")
        self.freeFailures = freeFailures
        self.maximumSeconds = maximumSeconds
    }

    /// Seconds an account stays blocked after its `failures`-th failure in a row: 0 within the allowance,
    /// then 2, 4, 8, … up to `maximumSeconds`.
    public func accountDelaySeconds(afterFailures failures: Int) -> Int {
        guard failures > freeFailures else { return 0 }
        let doublings = min(failures - freeFailures, 30)
        return min(maximumSeconds, 1 << doublings)
    }

    /// Seconds an address stays blocked after its `failures`-th failure within the window: all of
    /// `maximumSeconds` once over the allowance.
    public func addressBlockSeconds(afterFailures failures: Int) -> Int {
        failures > freeFailures ? maximumSeconds : 0
    }
}
