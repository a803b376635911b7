import Foundation

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
