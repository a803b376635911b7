#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HTTPTestSupport
import Synchronization
import Testing

extension FaultScenarios {
    /// 30 seconds of garbage on every route of openapi.yaml, with and without credentials: malformed
    /// request lines and framing, hostile paths, headers and bodies, cut-off requests, raw bytes.
    @Test func garbageFloodOnEveryRoute_answersOnly4xxJSONOrCloses_andMemoryComesBack() throws {
        let cluster = try FaultSuite.cluster("restart")
        defer { try? cluster.stop() }
        let (connectionString, demo) = try FaultSuite.demoDatabase(on: cluster)
        let server = Pickupbox(connectionString: connectionString)
        try server.start()
        defer { server.stop() }
        let staff = try Staff.login(port: server.port, username: "sachbearbeitung", password: demo.caseworkerPassword)
        let chef = try Staff.login(port: server.port, username: "chef", password: demo.supervisorPassword)
        let routes = try Garbage.routes()
        #expect(routes.count > 40)
        // Warm up (first use of every route), then take the memory figure to come back to.
        for route in routes { _ = exchange(server.port, "GET", Garbage.fill(route, seed: 0)) }
        Thread.sleep(forTimeInterval: 1)
        let rssStart = server.rssMiB

        let tally = Tally()
        let bad = Mutex<[String]>([])
        // No answer within a second: the server closed the connection, or it still waits for the rest of a
        // request that is incomplete on purpose (raw bytes without a line end, a chunk size beyond the
        // data); the client then gives up and closes, as a flood would. Waiting for the server's own
        // header and body time-outs would make the flood a trickle.
        let unanswered = Atomic<Int>(0)
        let workers = Workers()
        let credentials = [
            [], ["Cookie: \(staff.cookie)", "X-CSRF-Token: \(staff.csrf)"], ["Cookie: \(chef.cookie)", "X-CSRF-Token: \(chef.csrf)"],
            ["Cookie: \(staff.cookie)"], ["Authorization: Bearer \(demo.boxToken)"], ["Cookie: pickupbox_session=\(UUID().uuidString).\(String(repeating: "A", count: 43))"],
        ]
        workers.start(12) { i, w in
            var generator = SystemRandomNumberGenerator()
            var seed = i * 1_000_003
            while !w.isStopped {
                seed += 1
                let request = Garbage.request(routes: routes, credentials: credentials, seed: seed, using: &generator)
                guard let client = try? TestClient(port: server.port, timeout: 1) else { continue }
                client.send(request.bytes)
                if request.cutOff { continue }  // the client goes away mid-request
                // An interim 100 Continue (the request sent Expect with its body) precedes the answer.
                var reply = client.readResponse(headRequest: request.isHead)
                if reply?.status == 100 { reply = client.readResponse(headRequest: request.isHead) }
                guard let reply else {
                    unanswered.wrappingAdd(1, ordering: .relaxed)
                    continue
                }
                tally.record(Exchange(status: reply.status, body: reply.body, seconds: 0))
                let isJSONError = request.isHead || ((try? JSONSerialization.jsonObject(with: Data(reply.body))) as? [String: Any])?["error"] is String
                if reply.status >= 500 || ((400..<500).contains(reply.status) && !isJSONError) {
                    bad.withLock { if $0.count < 5 { $0.append("\(reply.status) for \(String(decoding: request.bytes.prefix(120), as: UTF8.self).debugDescription): \(reply.text.prefix(200))") } }
                }
            }
        }
        let started = now()
        var rssPeak = rssStart
        while now() - started < 30 {
            Thread.sleep(forTimeInterval: 0.5)
            rssPeak = max(rssPeak, server.rssMiB)
        }
        workers.stop()
        #expect(workers.join())
        let cameBack = eventually(seconds: 10) { server.rssMiB <= rssStart * 1.2 }
        let rssAfter = server.rssMiB
        FaultSuite.report("garbage-flood", [
            ("seconds", 30), ("routes", routes.count), ("answered", tally.count), ("unanswered_within_1s", unanswered.load(ordering: .relaxed)),
            ("status", tally.statuses.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")),
            ("rss_mib_start_peak_after", String(format: "%.0f/%.0f/%.0f", rssStart, rssPeak, rssAfter)),
        ])
        #expect(bad.withLock { $0 } == [], "only 4xx JSON (or 2xx for what happened to be valid), never 5xx")
        #expect(tally.count(where: { $0 >= 500 }) == 0)
        #expect(cameBack, "RSS back within 20 % of its start: \(rssStart) → \(rssAfter) MiB")
        #expect(server.isRunning)
        #expect(server.ready())
    }
}

/// Hostile requests, generated from a seed.
enum Garbage {
    struct Request {
        var bytes: [UInt8]
        var isHead = false
        var cutOff = false
    }

    /// The route patterns of openapi.yaml (`/api/v1/applications/{id}`).
    static func routes() throws -> [String] {
        let text = try String(contentsOfFile: packageRoot + "/openapi.yaml", encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") else { return nil }
            return String(line.dropFirst(2).dropLast())
        }
    }

    static let hostile = [
        "%00", "%zz", "%", "..%2f..%2fetc%2fpasswd", String(repeating: "a", count: 3000), "\u{202E}x", "' OR 1=1 --", "-1",
        "99999999999999999999999", "00000000-0000-0000-0000-000000000000", UUID().uuidString, "K7M-4XQ-9TR-C", "%F0%9F%92%A9", "null",
    ]

    /// The pattern with every `{param}` replaced by something hostile (percent-encoded where needed).
    static func fill(_ route: String, seed: Int) -> String {
        var out = ""
        var rest = Substring(route)
        var k = seed
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out += rest[..<open]
            let value = hostile[abs(k) % hostile.count]
            out += value.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? "x"
            k = k &* 31 &+ 7
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    static let bodies: [String] = [
        "{", "[]", "{}", "null", #"{"a":1,"a":2}"#, String(repeating: "[", count: 5000), #"{"items":[{"documentNumber":"\u0000"}]}"#,
        #"{"deliveryNoteNumber":1e999999,"items":"x"}"#, #"{"x":"\ud800"}"#, "\u{FEFF}{}", "document_number\n\"unterminated",
        #"{"siteId":"00000000-0000-0000-0000-000000000000","documentType":"eat","issuance":"first","familyName":"\u202e","givenNames":"","dateOfBirth":"31.02.1990","mobileNumber":"+999","pickupMethod":"box"}"#,
    ]

    static func request(routes: [String], credentials: [[String]], seed: Int, using generator: inout SystemRandomNumberGenerator) -> Request {
        let route = routes[Int.random(in: 0..<routes.count, using: &generator)]
        let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "BREW", "get", "GET\u{0}"]
        let method = methods[Int.random(in: 0..<methods.count, using: &generator)]
        var path = fill(route, seed: seed)
        if Bool.random(using: &generator) { path += "?" + ["wait=99999", "since=-1", "limit=%zz", "vn=\(hostile[seed % hostile.count])", "format=csv&format=pdf", "a=%00"].randomElement(using: &generator)! }
        var headers = credentials[Int.random(in: 0..<credentials.count, using: &generator)]
        headers += [["Content-Type: application/json"], ["Content-Type: text/csv"], ["Content-Type: x/\u{1}"], ["Accept-Encoding: gzip"], ["Expect: 100-continue"],
                    ["Transfer-Encoding: gzip"], ["Content-Length: -1"], ["Content-Length: 5", "Content-Length: 6"], ["Host: a b"], ["X: \u{7f}"], ["Idempotency-Key: \u{e4}"], []]
            .randomElement(using: &generator)!
        var body = Array(bodies[Int.random(in: 0..<bodies.count, using: &generator)].utf8)
        if Int.random(in: 0..<4, using: &generator) == 0 { body = (0..<Int.random(in: 0..<2000, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        var text = "\(method) \(path) HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
        for h in headers { text += h + "\r\n" }
        var bytes: [UInt8]
        switch Int.random(in: 0..<10, using: &generator) {
        case 0:   // chunked, with a broken chunk size
            bytes = Array((text + "Transfer-Encoding: chunked\r\n\r\n" + String(body.count + 3, radix: 16) + "\r\n").utf8) + body + Array("\r\n0\r\n\r\n".utf8)
        case 1:   // raw bytes, no HTTP at all
            bytes = (0..<Int.random(in: 1..<3000, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        case 2:   // an absolute-form or otherwise odd request line
            bytes = Array("\(method) http://h\(path) HTTP/1.\(Int.random(in: 0...9, using: &generator))\r\nHost: t\r\nConnection: close\r\n\r\n".utf8)
        default:
            bytes = Array((text + "Content-Length: \(body.count)\r\n\r\n").utf8) + body
        }
        var request = Request(bytes: bytes, isHead: method == "HEAD")
        if Int.random(in: 0..<12, using: &generator) == 0 {
            request.bytes = Array(bytes.prefix(Int.random(in: 1...max(1, bytes.count), using: &generator)))
            request.cutOff = true
        }
        return request
    }
}
