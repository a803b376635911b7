#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation
import HTTPServer

/// The cost of one access-log line as the server pays it: built into the loop's reused buffer and handed
/// to the log sink, whose own thread writes the batches (to a file, as a container runtime would).
struct AccessLogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "access-log", abstract: "Measure the CPU cost of one access-log line (format + hand-over, and the writer).")

    @Option(help: "Lines to write.") var lines: Int = 2_000_000
    @Option(help: "text or json.") var format: String = "json"
    @Option(help: "File the writer thread writes to.") var output: String = "/tmp/pickupbox-bench-access.log"

    static func cpuNanoseconds(_ clock: clockid_t) -> UInt64 {
        var t = timespec()
        clock_gettime(clock, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }

    func run() throws {
        guard let logFormat = LogFormat(rawValue: format) else { throw ValidationError("--format is text or json") }
        let fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ValidationError("cannot open \(output)") }
        defer { close(fd); unlink(output) }
        let sink = LogSink(fileDescriptor: fd)
        var line = AccessLogLine()
        let lane = sink.makeLane()
        let routes = ["/health", "/api/v1/status/{vorgangsnummer}", "/api/v1/box/pickups/{id}/factors", "/api/v1/applications"]
        let ids = (0..<64).map { "3f9a1c2b\($0 % 2)-\(String($0 * 7919, radix: 16))" }
        // Warm-up: the buffer's capacity and the per-second timestamp.
        for i in 0..<10_000 {
            line.write(format: logFormat, instance: "bench-1", method: .GET, route: routes[i & 3], status: 200, durationNanoseconds: 123_456, requestID: ids[i & 63], to: sink, lane: lane)
        }
        sink.flush()
        let droppedBefore = sink.droppedLines
        let process0 = Self.cpuNanoseconds(CLOCK_PROCESS_CPUTIME_ID), thread0 = Self.cpuNanoseconds(CLOCK_THREAD_CPUTIME_ID)
        let wall0 = DispatchTime.now().uptimeNanoseconds
        for i in 0..<lines {
            line.write(format: logFormat, instance: "bench-1", method: i & 7 == 0 ? .POST : .GET, route: routes[i & 3], status: i & 15 == 0 ? 404 : 200,
                       durationNanoseconds: UInt64(50_000 + i & 0xFFFF), requestID: ids[i & 63], to: sink, lane: lane)
        }
        let thread1 = Self.cpuNanoseconds(CLOCK_THREAD_CPUTIME_ID)
        let wall1 = DispatchTime.now().uptimeNanoseconds
        sink.shutdown()
        let process1 = Self.cpuNanoseconds(CLOCK_PROCESS_CPUTIME_ID)
        let written = lines - (sink.droppedLines - droppedBefore)
        let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
        let perLine = Double(thread1 - thread0) / Double(lines) / 1000
        let total = Double(process1 - process0) / Double(lines) / 1000
        print(String(format: "access-log line (%@): %.2f µs on the calling thread (format + hand-over), %.2f µs CPU in all with the writer thread; %.2f M lines/s; %d written (%.0f bytes each), %d dropped",
                     format, perLine, total, Double(lines) / Double(wall1 - wall0) * 1000, written, Double(size) / Double(max(1, written)), sink.droppedLines - droppedBefore))
    }
}
