#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import Testing
@testable import HTTPServer

@Suite("Log lines: builder, access line, sink")
struct LogSinkTests {
    @Test func dateTime_isUTC_acrossLeapDaysAndBeforeTheEpoch() {
        let cases: [(Int, String)] = [(0, "1970-01-01T00:00:00"), (951_782_400, "2000-02-29T00:00:00"), (1_796_010_307, "2026-11-30T03:45:07"),
                                      (-1, "1969-12-31T23:59:59"), (4_102_444_799, "2099-12-31T23:59:59")]
        for (seconds, expected) in cases {
            #expect(String(decoding: LogLineBuilder.dateTime(seconds), as: UTF8.self) == expected)
        }
    }

    @Test func jsonEscaping_keepsEveryStringReadable() throws {
        var line = LogLineBuilder()
        let nasty = "quote \" backslash \\ newline \n tab \t bell \u{07} del \u{7F} umlaut ü emoji 🙂"
        line.append("{\"m\":")
        line.appendJSONString(nasty)
        line.append(",\"n\":")
        line.appendDecimal(-1234567890)
        line.append(",\"d\":")
        line.appendMilliseconds(nanoseconds: 12_345_678)
        line.append("}")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.bytes)) as? [String: Any])
        #expect(object["m"] as? String == nasty)
        #expect(object["n"] as? Int == -1234567890)
        #expect(object["d"] as? Double == 12.345)
    }

    @Test func textValues_cannotStartANewLine() {
        var line = LogLineBuilder()
        line.appendTextValue("a\nb\rc")
        #expect(String(decoding: line.bytes, as: UTF8.self) == "a?b?c")
    }

    static func pipe() -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        _ = Glibc.pipe(&fds)
        return (fds[0], fds[1])
    }

    static func readAll(_ fd: Int32) -> String {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            data += chunk[0..<n]
        }
        return String(decoding: data, as: UTF8.self)
    }

    @Test func accessLine_isOneJSONObject_withTheRouteNeverThePath() throws {
        let (r, w) = Self.pipe()
        let sink = LogSink(fileDescriptor: w)
        var line = AccessLogLine()
        line.write(format: .json, instance: "replica-1", method: .POST, route: "/api/v1/box/pickups/{id}/factors", status: 422,
                   durationNanoseconds: 1_234_567, requestID: "abc-1", to: sink, lane: sink.makeLane())
        line.write(format: .text, instance: "replica-1", method: .GET, route: "/health", status: 200,
                   durationNanoseconds: 80_000, requestID: "abc-2", to: sink, lane: sink.makeLane())
        sink.shutdown()
        close(w)
        let lines = Self.readAll(r).split(separator: "\n").map(String.init)
        close(r)
        #expect(lines.count == 2)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(object["http.route"] as? String == "/api/v1/box/pickups/{id}/factors")
        #expect(object["http.status"] as? Int == 422)
        #expect(object["http.duration_ms"] as? Double == 1.234)
        #expect(object["instance"] as? String == "replica-1")
        #expect(object["request.id"] as? String == "abc-1")
        #expect(object["level"] as? String == "info" && object["message"] as? String == "request")
        #expect(lines[1].contains(" info pickupbox : http.duration_ms=0.080 http.method=GET http.route=/health http.status=200 instance=replica-1 request.id=abc-2 [HTTPServer] request"))
    }

    @Test func appendingNeverBlocks_andCountsDroppedLines_whenTheOutputStalls() throws {
        // A pipe nobody reads: the writer thread blocks once its 64 KiB are full; appending must not.
        let (r, w) = Self.pipe()
        let sink = LogSink(fileDescriptor: w, capacity: 16 * 1024)
        let lane = sink.makeLane()
        let line = [UInt8](repeating: UInt8(ascii: "x"), count: 199) + [10]
        let started = Date()
        for _ in 0..<20_000 { line.withUnsafeBytes { sink.append($0, lane: lane) } }
        usleep(100_000)
        for _ in 0..<20_000 { line.withUnsafeBytes { sink.append($0, lane: lane) } }
        #expect(Date().timeIntervalSince(started) < 5)
        let dropped = sink.droppedLines
        #expect(dropped > 30_000, "dropped \(dropped)")
        // Reading unblocks the writer; whatever was accepted arrives whole.
        let reader = Thread { _ = Self.readAll(r) }
        reader.start()
        sink.shutdown()
        close(w)
        usleep(50_000)
        close(r)
    }

    @Test func handler_writesTextAndJSON_withMetadataAndInstance() throws {
        let (r, w) = Self.pipe()
        let sink = LogSink(fileDescriptor: w)
        let json = Logger(label: "pickupbox") { SinkLogHandler(label: $0, format: .json, instance: "i-1", sink: sink) }
        var text = Logger(label: "pickupbox") { SinkLogHandler(label: $0, format: .text, instance: "i-1", sink: sink) }
        text[metadataKey: "instance"] = "i-1"
        json.info("box \"polled\"", metadata: ["box.id": "b-1", "count": "\(3)"])
        text.warning("line\nbreak", metadata: ["box.id": "b-2"])
        sink.shutdown()
        close(w)
        let lines = Self.readAll(r).split(separator: "\n").map(String.init)
        close(r)
        #expect(lines.count == 2)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(object["message"] as? String == "box \"polled\"")
        #expect(object["box.id"] as? String == "b-1")
        #expect(object["instance"] as? String == "i-1")
        #expect(object["level"] as? String == "info")
        #expect(lines[1].contains(" warning pickupbox : box.id=b-2 instance=i-1 ["))
        #expect(lines[1].hasSuffix("] line?break"))
    }
}
