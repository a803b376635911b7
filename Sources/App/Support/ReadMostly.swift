import Glibc

/// A value read by every worker and replaced rarely (a cache), behind a reader-writer lock: readers do
/// not wait for each other. A `Mutex` there had the status route's workers spinning on each other's
/// look-ups — 6 % of its server CPU on 2 cores (BENCHMARKS.md).
final class ReadMostly<Value>: @unchecked Sendable {
    /// Allocated once, so that the lock never moves.
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>
    /// Read and written only while `lock` is held.
    private var value: Value

    init(_ value: Value) {
        self.value = value
        lock = .allocate(capacity: 1)
        lock.initialize(to: pthread_rwlock_t())
        pthread_rwlock_init(lock, nil)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deinitialize(count: 1)
        lock.deallocate()
    }

    func read<T>(_ body: (Value) throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body(value)
    }

    func write<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body(&value)
    }
}
