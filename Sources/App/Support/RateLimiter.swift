import Foundation
import Synchronization

/// A token bucket per key (client address), in this process. With several processes behind a load
/// balancer the effective limit is the per-process limit times their number; the limit protects
/// against enumeration and overload, not as an exact quota.
final class RateLimiter: Sendable {
    private let capacity: Double
    private let refillPerSecond: Double
    /// Sharded by key, so that worker threads checking different addresses rarely wait on each other.
    private let shards: [Shard] = (0..<16).map { _ in Shard() }

    private final class Shard: Sendable {
        let state = Mutex(State())
    }

    private struct State {
        var buckets: [String: Bucket] = [:]
        var lastPrune = Date()
    }

    private struct Bucket {
        var tokens: Double
        var updated: Date
    }

    init(perMinute: Int) {
        capacity = Double(max(1, perMinute))
        refillPerSecond = Double(max(1, perMinute)) / 60
    }

    /// nil when allowed; otherwise the seconds to wait.
    func take(_ key: String, now: Date = Date()) -> Int? {
        var hasher = Hasher()
        hasher.combine(key)
        let shard = shards[Int(UInt(bitPattern: hasher.finalize()) % UInt(shards.count))]
        return shard.state.withLock { s in
            if now.timeIntervalSince(s.lastPrune) > 60 {
                // Full buckets carry no information: drop them so the map stays small.
                s.buckets = s.buckets.filter { $0.value.tokens + now.timeIntervalSince($0.value.updated) * refillPerSecond < capacity }
                s.lastPrune = now
            }
            // Updated in place: one hash of the key under the lock (every request from one address takes this shard).
            return Self.take(&s.buckets[key, default: Bucket(tokens: capacity, updated: now)], now: now, capacity: capacity, refillPerSecond: refillPerSecond)
        }
    }

    private static func take(_ bucket: inout Bucket, now: Date, capacity: Double, refillPerSecond: Double) -> Int? {
        bucket.tokens = min(capacity, bucket.tokens + now.timeIntervalSince(bucket.updated) * refillPerSecond)
        bucket.updated = now
        if bucket.tokens >= 1 {
            bucket.tokens -= 1
            return nil
        }
        return max(1, Int(((1 - bucket.tokens) / refillPerSecond).rounded(.up)))
    }
}
