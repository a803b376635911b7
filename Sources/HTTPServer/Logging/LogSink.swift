#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import Synchronization

/// Where log lines go: a buffer that any thread appends whole lines to, and one writer thread that
/// writes them in batches. Appending never blocks on I/O (an event loop only copies its line under a
/// short lock); when the buffer is full because the output cannot keep up, the line is dropped and
/// counted (`droppedLines`, shown in `/metrics`) rather than stalling the server.
///
/// Lines appended by one thread are written in order; a line is written within ~20 ms, or at once by
/// `flush()` (errors flush, and so does the end of every command).
public final class LogSink: Sendable {
    /// Standard error of this process, the default for the server and the command line.
    public static let standardError = LogSink(fileDescriptor: 2)

    private let fileDescriptor: Int32
    /// Most bytes waiting; beyond it lines are dropped.
    private let capacity: Int
    /// The writer is woken early once this much waits (it also wakes every `interval`).
    private let highWater: Int
    private let interval: DispatchTimeInterval = .milliseconds(20)
    private let pending: Mutex<[UInt8]>
    /// Held while writing (by the writer thread or `flush`), with the buffer pending is swapped into.
    private let writing: Mutex<[UInt8]>
    private let dropped = Atomic<Int>(0)
    private let started = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)

    /// - Parameters:
    ///   - fileDescriptor: written to, never closed by the sink.
    ///   - capacity: bytes that may wait before lines are dropped (4 MiB: 20,000+ access lines).
    public init(fileDescriptor: Int32, capacity: Int = 4 << 20) {
        self.fileDescriptor = fileDescriptor
        self.capacity = capacity
        self.highWater = max(1, capacity / 4)
        var first: [UInt8] = []
        first.reserveCapacity(min(capacity, 256 << 10))
        var second: [UInt8] = []
        second.reserveCapacity(min(capacity, 256 << 10))
        pending = Mutex(first)
        writing = Mutex(second)
    }

    /// Lines dropped since start because the writer fell behind.
    public var droppedLines: Int { dropped.load(ordering: .relaxed) }

    /// Queues one or more whole lines (each ending in "\n"). Never blocks on I/O.
    public func append(_ line: UnsafeRawBufferPointer) {
        if !started.load(ordering: .relaxed) { startWriter() }
        let capacity = self.capacity, highWater = self.highWater
        let (accepted, crossed) = pending.withLock { buffer -> (Bool, Bool) in
            let before = buffer.count
            guard before + line.count <= capacity else { return (false, false) }
            buffer.append(contentsOf: line)
            return (true, before < highWater && buffer.count >= highWater)
        }
        if !accepted { dropped.wrappingAdd(1, ordering: .relaxed) }
        if crossed { wake.signal() }
    }

    public func append(_ line: [UInt8]) {
        line.withUnsafeBytes { append($0) }
    }

    /// Writes everything queued so far before returning (from any thread but an event loop).
    public func flush() {
        writing.withLock { spare in
            pending.withLock { swap(&$0, &spare) }
            Self.writeAll(spare, to: fileDescriptor)
            spare.removeAll(keepingCapacity: true)
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
