#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import Synchronization

/// Where log lines go: buffers (lanes) that threads append whole lines to, and one writer thread that
/// writes them in batches. Appending never blocks on I/O (an event loop only copies its line under a
/// short lock); when the buffer is full because the output cannot keep up, the line is dropped and
/// counted (`droppedLines`, shown in `/metrics`) rather than stalling the server.
///
/// Lines appended by one thread are written in order; a line is written within ~20 ms, or at once by
/// `flush()` (critical lines flush, and so does the end of every command).
public final class LogSink: Sendable {
    /// Standard error of this process, the default for the server and the command line.
    public static let standardError = LogSink(fileDescriptor: 2)

    /// A buffer of its own for one busy writer (an event loop): its lock is shared with nobody but the
    /// writer thread, which takes it once per batch, so two loops never contend for one lock.
    public final class Lane: Sendable {
        fileprivate let pending: Mutex<[UInt8]>

        fileprivate init(reserve: Int) {
            var buffer: [UInt8] = []
            buffer.reserveCapacity(reserve)
            pending = Mutex(buffer)
        }
    }

    private let fileDescriptor: Int32
    /// Most bytes waiting in one lane; beyond it lines are dropped.
    private let capacity: Int
    /// The writer is woken early once this much waits in a lane (it also wakes every `interval`).
    private let highWater: Int
    private let interval: DispatchTimeInterval = .milliseconds(20)
    /// The lane of everyone without their own (the application's log lines).
    private let shared: Lane
    private let lanes: Mutex<[Lane]>
    /// Held while writing (by the writer thread or `flush`), with the buffer a lane is swapped into.
    private let writing: Mutex<[UInt8]>
    private let dropped = Atomic<Int>(0)
    private let started = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)

    /// - Parameters:
    ///   - fileDescriptor: written to, never closed by the sink.
    ///   - capacity: bytes that may wait in one lane before lines are dropped (2 MiB: ~10,000 access lines).
    public init(fileDescriptor: Int32, capacity: Int = 2 << 20) {
        self.fileDescriptor = fileDescriptor
        self.capacity = capacity
        self.highWater = max(1, capacity / 4)
        shared = Lane(reserve: min(capacity, 64 << 10))
        lanes = Mutex([shared])
        var spare: [UInt8] = []
        spare.reserveCapacity(min(capacity, 256 << 10))
        writing = Mutex(spare)
    }

    /// Lines dropped since start because the writer fell behind.
    public var droppedLines: Int { dropped.load(ordering: .relaxed) }

    /// A lane for one thread that logs a lot (each event loop makes one at start).
    public func makeLane() -> Lane {
        let lane = Lane(reserve: min(capacity, 256 << 10))
        lanes.withLock { $0.append(lane) }
        return lane
    }

    /// Queues one or more whole lines (each ending in "\n") in `lane`. Never blocks on I/O.
    public func append(_ line: UnsafeRawBufferPointer, lane: Lane) {
        if !started.load(ordering: .relaxed) { startWriter() }
        let capacity = self.capacity, highWater = self.highWater
        let (accepted, crossed) = lane.pending.withLock { buffer -> (Bool, Bool) in
            let before = buffer.count
            guard before + line.count <= capacity else { return (false, false) }
            buffer.append(contentsOf: line)
            return (true, before < highWater && buffer.count >= highWater)
        }
        if !accepted { dropped.wrappingAdd(1, ordering: .relaxed) }
        if crossed { wake.signal() }
    }

    /// Queues whole lines in the shared lane.
    public func append(_ line: UnsafeRawBufferPointer) {
        append(line, lane: shared)
    }

    public func append(_ line: [UInt8]) {
        line.withUnsafeBytes { append($0, lane: shared) }
    }

    /// Writes everything queued so far before returning (from any thread but an event loop).
    public func flush() {
        let all = lanes.withLock { $0 }
        writing.withLock { spare in
            for lane in all {
                lane.pending.withLock { swap(&$0, &spare) }
                Self.writeAll(spare, to: fileDescriptor)
                spare.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Stops the writer thread after writing what is queued (tests' own sinks; the standard one lives on).
    public func shutdown() {
        guard started.load(ordering: .acquiring), !stopping.exchange(true, ordering: .acquiringAndReleasing) else {
            flush()
            return
        }
        wake.signal()
        stopped.wait()
        flush()
    }

    private func startWriter() {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let thread = Thread { [self] in
            while !stopping.load(ordering: .acquiring) {
                _ = wake.wait(timeout: .now() + interval)
                flush()
            }
            stopped.signal()
        }
        thread.name = "pickupbox-log-writer"
        thread.start()
    }

    private static func writeAll(_ bytes: [UInt8], to fd: Int32) {
        guard !bytes.isEmpty else { return }
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n > 0 { offset += n; continue }
                if n < 0 && errno == EINTR { continue }
                // A closed or full output: nothing sensible to do with log lines but lose them.
                return
            }
        }
    }
}
