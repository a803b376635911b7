import Foundation
import Testing
@testable import HTTPServer

@Suite("gzip content coding")
struct GzipTests {
    /// Decodes with the system's gzip, so the coding is checked by another implementation.
    static func gunzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let path = NSTemporaryDirectory() + "pickupbox-gzip-\(UUID().uuidString).gz"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-dc", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return Array(out)
    }

    @Test func compressedBodies_decodeToTheOriginal_withGzipItself() throws {
        let text = Array(String(repeating: "{\"number\":17,\"state\":\"available\",\"vorgangsnummern\":[]},", count: 400).utf8)
        let coded = try #require(Gzip.compress(text))
        #expect(coded.count < text.count / 10)
        #expect(Array(coded.prefix(2)) == [0x1F, 0x8B])   // the gzip magic (RFC 1952 §2.3.1)
        #expect(try Self.gunzip(coded) == text)
        #expect(try Self.gunzip(try #require(Gzip.compress([]))) == [])
    }

    @Test func acceptEncoding_isReadWithItsQualityValues() {
        func accepts(_ value: String?) -> Bool {
            Gzip.isAccepted(by: Request(method: .GET, target: "/", headers: value.map { ["Accept-Encoding": $0] } ?? [:]))
        }
        #expect(accepts("gzip, deflate, br"))
        #expect(accepts("br;q=1.0, GZIP;q=0.5"))
        #expect(accepts("*"))
        #expect(!accepts(nil))
        #expect(!accepts("br"))
        #expect(!accepts("gzip;q=0"))
        #expect(!accepts("*, gzip;q=0"))
        #expect(!accepts("identity"))
    }

    @Test func onlyLargeCompressibleBodies_areCoded_andTheAnswerVariesByAcceptEncoding() {
        let request = Request(method: .GET, target: "/", headers: ["Accept-Encoding": "gzip"])
        let big = Response(status: .ok, headers: ["Content-Type": "application/json"], body: Array(repeating: UInt8(ascii: "a"), count: 5000))
        let coded = big.compressed(for: request)
        #expect(coded.headers["Content-Encoding"] == "gzip")
        #expect(coded.headers["Vary"] == "Accept-Encoding")
        #expect(coded.body.count < 200)
        let plainRequest = big.compressed(for: Request(method: .GET, target: "/"))
        #expect(plainRequest.headers["Content-Encoding"] == nil && plainRequest.headers["Vary"] == "Accept-Encoding")
        let small = Response(status: .ok, headers: ["Content-Type": "application/json"], body: Array("{}".utf8)).compressed(for: request)
        #expect(small.headers["Content-Encoding"] == nil)
        let png = Response(status: .ok, headers: ["Content-Type": "image/png"], body: Array(repeating: 0, count: 5000)).compressed(for: request)
        #expect(png.headers["Content-Encoding"] == nil)
    }
}

@Suite("The over-capacity answer")
struct OverloadedAnswerTests {
    @Test func itsContentLengthIsItsBodysLength_andTheBodyIsJSON() throws {
        let bytes = ServerCore.overloaded
        let text = String(decoding: bytes, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        #expect(parts.count == 2)
        let declared = parts[0].split(separator: "\r\n").first { $0.hasPrefix("Content-Length: ") }.flatMap { Int($0.dropFirst(16)) }
        #expect(declared == parts[1].utf8.count)
        let object = try JSONSerialization.jsonObject(with: Data(parts[1].utf8)) as? [String: Any]
        #expect(object?["error"] as? String == "overloaded")
    }
}
