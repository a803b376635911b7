import Foundation
import Testing
@testable import HTTPServer

/// Inputs the HTTP parser fuzz target (`make fuzz`, Tests/Fuzz) found, and its seeds, replayed on every
/// test run with the fuzz target's property: the parse does not depend on how the input is split.
@Suite("HTTP parser: fuzz regressions")
struct FuzzRegressionTests {
    static let fuzzDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz").path

    static func inputs(_ folder: String) -> [(String, [UInt8])] {
        let directory = fuzzDirectory + "/" + folder
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        return names.compactMap { name in FileManager.default.contents(atPath: directory + "/" + name).map { (folder + "/" + name, Array($0)) } }
    }

    /// As the fuzz target: the first byte seeds the splits (1 byte each when divisible by 4, else 1–64).
    static func splits(_ bytes: [UInt8], seed: UInt8) -> [[UInt8]] {
        var state = UInt32(seed) &* 2_654_435_761 | 1
        var chunks: [[UInt8]] = []
        var index = 0
        while index < bytes.count {
            state ^= state << 13; state ^= state >> 17; state ^= state << 5
            let size = seed % 4 == 0 ? 1 : Int(state % 64) + 1
            chunks.append(Array(bytes[index..<min(bytes.count, index + size)]))
            index += size
        }
        return chunks
    }

    static func parse(_ chunks: [[UInt8]]) -> [String] {
        var events: [String] = []
        var parser = HTTPRequestParser(limits: HTTPParserLimits())
        parser.bodyLimit = 4096
        var buffer = InputBuffer()
        for chunk in chunks {
            buffer.append(chunk)
            loop: while true {
                switch parser.next(&buffer) {
                case .needMore: break loop
                case .head(let h): events.append("head \(h.method) \(h.target) 1.\(h.minorVersion) \(h.framing) \(h.keepAlive) \(h.headers)")
                case .complete(let body): events.append("body \(body)")
                case .error(let e): events.append("error \(e.status.code) \(e.code)"); return events
                }
            }
        }
        return events
    }

    @Test func everyRegressionAndSeed_parsesTheSame_howeverItIsSplit() {
        let all = Self.inputs("regressions/http") + Self.inputs("corpus/http")
        #expect(all.count >= 8)
        for (name, input) in all {
            guard let seed = input.first else { continue }
            let bytes = Array(input.dropFirst())
            let whole = Self.parse([bytes])
            #expect(Self.parse(Self.splits(bytes, seed: seed)) == whole, "\(name)")
            #expect(Self.parse(bytes.map { [$0] }) == whole, "\(name), byte by byte")
        }
    }

    // The fuzzer's first find: an empty line before the request line (RFC 9112 §2.2) whose CR and LF
    // arrive in two reads made the CR a request line, and the request got 400.
    @Test func ignoresTheEmptyLineBeforeTheRequestLine_whenItsCRAndLFArriveApart() {
        let run = ParseRun.make("\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n", bytewise: true)
        #expect(run.error == nil)
        #expect(run.heads.first?.target == "/health")
    }
}
