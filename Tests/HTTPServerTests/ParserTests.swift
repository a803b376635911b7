import Foundation
import Testing
@testable import HTTPServer

/// Feeds raw bytes to the parser, optionally one byte at a time, and collects what it reports.
struct ParseRun {
    var heads: [RequestHead] = []
    var bodies: [[UInt8]] = []
    var error: HTTPParseError?

    static func make(_ text: String, bytewise: Bool = false, bodyLimit: Int = 1 << 20, limits: HTTPParserLimits = HTTPParserLimits()) -> ParseRun {
        make(bytes: Array(text.utf8), bytewise: bytewise, bodyLimit: bodyLimit, limits: limits)
    }

    static func make(bytes: [UInt8], bytewise: Bool = false, bodyLimit: Int = 1 << 20, limits: HTTPParserLimits = HTTPParserLimits()) -> ParseRun {
        var run = ParseRun()
        var parser = HTTPRequestParser(limits: limits)
        parser.bodyLimit = bodyLimit
        var buffer = InputBuffer()
        let chunks: [[UInt8]] = bytewise ? bytes.map { [$0] } : [bytes]
        for chunk in chunks {
            buffer.append(chunk)
            loop: while true {
                switch parser.next(&buffer) {
                case .needMore: break loop
                case .head(let h): run.heads.append(h)
                case .complete(let body): run.bodies.append(body)
                case .error(let e): run.error = e; return run
                }
            }
        }
        return run
    }
}

@Suite("HTTP/1.1 request parser")
struct ParserTests {
    @Test func parsesSimpleGet() {
        let run = ParseRun.make("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(run.error == nil)
        #expect(run.heads.count == 1)
        #expect(run.heads.first?.method == .GET)
        #expect(run.heads.first?.target == "/health")
        #expect(run.heads.first?.keepAlive == true)
        #expect(run.bodies == [[]])
    }

    @Test func parsesRequestArrivingOneByteAtATime() {
        let text = "POST /a?b=c HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello"
        let run = ParseRun.make(text, bytewise: true)
        #expect(run.error == nil)
        #expect(run.heads.first?.headers["x-a"] == "1")
        #expect(run.bodies == [Array("hello".utf8)])
    }

    @Test func parsesPipelinedRequestsInOrder() {
        let text = "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nokGET /3 HTTP/1.1\r\nHost: x\r\n\r\n"
        for bytewise in [false, true] {
            let run = ParseRun.make(text, bytewise: bytewise)
            #expect(run.error == nil)
            #expect(run.heads.map(\.target) == ["/1", "/2", "/3"])
            #expect(run.bodies == [[], Array("ok".utf8), []])
        }
    }

    @Test func decodesChunkedBody_withExtensionsAndTrailers() {
        let text = "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
        for bytewise in [false, true] {
            let run = ParseRun.make(text, bytewise: bytewise)
            #expect(run.error == nil)
            #expect(run.bodies == [Array("hello world".utf8)])
        }
    }

    @Test func acceptsHTTP10_withoutHost_andDefaultsToClose() {
        let run = ParseRun.make("GET / HTTP/1.0\r\n\r\n")
        #expect(run.error == nil)
        #expect(run.heads.first?.keepAlive == false)
        let keep = ParseRun.make("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(keep.heads.first?.keepAlive == true)
    }

    @Test func honoursConnectionClose() {
        let run = ParseRun.make("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(run.heads.first?.keepAlive == false)
    }

    // RFC 9112 §3.2.2: a server MUST accept the absolute-form; the origin server uses its path and query.
    static let absoluteForms: [(String, String)] = [
        ("GET http://host/health HTTP/1.1", "/health"),
        ("GET http://host:8080/a/b?c=d&e HTTP/1.1", "/a/b?c=d&e"),
        ("GET HTTPS://HOST/x HTTP/1.1", "/x"),
        ("GET http://host HTTP/1.1", "/"),
        ("GET http://host?q=1 HTTP/1.1", "/?q=1"),
        ("GET http://127.0.0.1:8080/status HTTP/1.1", "/status"),
        ("GET http://[::1]:8080/status HTTP/1.1", "/status"),
        ("GET http://xn--bcher-kva.example/%C3%A4 HTTP/1.1", "/%C3%A4"),
    ]

    @Test(arguments: absoluteForms)
    func acceptsAbsoluteFormTarget_andUsesItsPathAndQuery(_ testCase: (String, String)) {
        for bytewise in [false, true] {
            let run = ParseRun.make(testCase.0 + "\r\nHost: other\r\n\r\n", bytewise: bytewise)
            #expect(run.error == nil, "\(testCase.0)")
            #expect(run.heads.first?.target == testCase.1, "\(testCase.0)")
        }
    }

    // RFC 9110 §6.2: a higher minor version within major version 1 is processed as HTTP/1.1 (a garbage
    // flood found HTTP/1.9 answered 505); another major version is refused with 505.
    @Test(arguments: ["HTTP/1.2", "HTTP/1.9"])
    func processesHigherMinorVersion_asHTTP11(_ version: String) {
        for bytewise in [false, true] {
            let run = ParseRun.make("GET /a HTTP/1.1\r\nHost: x\r\n\r\n".replacingOccurrences(of: "HTTP/1.1", with: version), bytewise: bytewise)
            #expect(run.error == nil, "\(version)")
            #expect(run.heads.first?.minorVersion == 1, "\(version)")
            #expect(run.heads.first?.keepAlive == true, "\(version)")
        }
        #expect(ParseRun.make("GET / HTTP/3.0\r\nHost: x\r\n\r\n").error?.status.code == 505)
    }

    @Test(arguments: ["x", "", "example.org:8080", "127.0.0.1", "[::1]:8080", "[2001:db8::7]", "a-b.c_d~e", "h:", "%41b", "sub!$&'()*+,;=delims"])
    func acceptsValidHost(_ host: String) {
        let run = ParseRun.make("GET / HTTP/1.1\r\nHost: \(host)\r\n\r\n")
        #expect(run.error == nil, "Host: \(host)")
    }

    @Test func ignoresOneEmptyLineBeforeTheRequestLine() {
        let run = ParseRun.make("\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(run.error == nil)
        #expect(run.heads.count == 1)
    }

    static let malformed: [(String, String, Int)] = [
        ("content-length with transfer-encoding", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("transfer-encoding gzip", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
        ("transfer-encoding gzip, chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 400),
        ("transfer-encoding twice", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("two different content-lengths", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400),
        ("content-length -1", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
        ("content-length +5", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n", 400),
        ("content-length 0x10", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n", 400),
        ("content-length list", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\n", 400),
        ("content-length 20 digits", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12345678901234567890\r\n\r\n", 400),
        ("content-length empty", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n", 400),
        ("whitespace before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
        ("obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400),
        ("NUL in header value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u{0}b\r\n\r\n", 400),
        ("bare CR in header value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400),
        ("bare LF line ending", "GET / HTTP/1.1\nHost: x\r\n\r\n", 400),
        ("bare LF in headers", "GET / HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n", 400),
        ("control byte in header value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u{7}b\r\n\r\n", 400),
        ("DEL in header value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u{7f}b\r\n\r\n", 400),
        ("NUL in request line", "GET /a\u{0}b HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("bare CR in request line", "GET /a\rb HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("space in header name", "GET / HTTP/1.1\r\nHost: x\r\nX A: b\r\n\r\n", 400),
        ("missing host in 1.1", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400),
        ("two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        ("unknown method", "BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("lowercase method", "get / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("malformed method", "GE(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("absolute-form with userinfo", "GET http://user@example.org/ HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("absolute-form of another scheme", "GET ftp://example.org/ HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("absolute-form without authority", "GET http:/health HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("absolute-form with empty host", "GET http:///health HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("absolute-form with a bad port", "GET http://example.org:80a/ HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("absolute-form with a fragment", "GET http://example.org/a#b HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("absolute-form without host header", "GET http://example.org/ HTTP/1.1\r\n\r\n", 400),
        ("host with a space", "GET / HTTP/1.1\r\nHost: local host\r\n\r\n", 400),
        ("host with a slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
        ("host with userinfo", "GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400),
        ("host with a bad port", "GET / HTTP/1.1\r\nHost: a:8o\r\n\r\n", 400),
        ("host with two colons", "GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", 400),
        ("host IPv6 without bracket end", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400),
        ("host IPv6 with junk after bracket", "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", 400),
        ("host with a bad percent escape", "GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n", 400),
        ("invalid host in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a b\r\n\r\n", 400),
        ("asterisk-form target", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("authority-form target", "CONNECT example.org:443 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("bad percent escape", "GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("truncated percent escape", "GET /a% HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("fragment in target", "GET /a#b HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("non-ascii in target", "GET /ä HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("double space in request line", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("garbage version", "GET / HTTX/1.1\r\nHost: x\r\n\r\n", 400),
        ("HTTP/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        ("transfer-encoding in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("unknown expectation", "POST / HTTP/1.1\r\nHost: x\r\nExpect: tea\r\nContent-Length: 1\r\n\r\nx", 417),
        ("chunk size not hex", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        ("chunk size too large", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n123456789\r\n", 400),
        ("chunk size negative", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\n", 400),
        ("chunk data without CRLF", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n0\r\n\r\n", 400),
        ("chunk line bare LF", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\nab\r\n", 400),
        ("chunk extension over the limit", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;" + String(repeating: "a", count: 300) + "\r\nx\r\n0\r\n\r\n", 400),
        ("chunk extension with NUL", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;a\u{0}\r\nx\r\n0\r\n\r\n", 400),
        ("obs-fold in trailer", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: b\r\n c\r\n\r\n", 400),
    ]

    @Test(arguments: malformed)
    func rejectsMalformedRequest(_ testCase: (String, String, Int)) {
        for bytewise in [false, true] {
            let run = ParseRun.make(testCase.1, bytewise: bytewise)
            #expect(run.error?.status.code == testCase.2, "\(testCase.0) (bytewise: \(bytewise))")
            #expect(run.bodies.isEmpty, "\(testCase.0) must not deliver a body")
        }
    }

    @Test func rejectsRequestLine_whenLongerThanLimit() {
        let long = "GET /" + String(repeating: "a", count: 9000) + " HTTP/1.1\r\nHost: x\r\n\r\n"
        #expect(ParseRun.make(long).error?.status.code == 414)
        // Without a line end: refused as soon as the limit is passed, not after buffering everything.
        let partial = "GET /" + String(repeating: "a", count: 8300)
        #expect(ParseRun.make(partial).error?.status.code == 414)
    }

    @Test func rejectsHeaders_whenBlockTooLarge() {
        var text = "GET / HTTP/1.1\r\nHost: x\r\n"
        for i in 0..<40 { text += "X-\(i): " + String(repeating: "v", count: 500) + "\r\n" }
        #expect(ParseRun.make(text + "\r\n").error?.status.code == 431)
        // Also while still incomplete.
        #expect(ParseRun.make(text).error?.status.code == 431)
    }

    @Test func rejectsHeaders_whenTooMany() {
        var text = "GET / HTTP/1.1\r\nHost: x\r\n"
        for i in 0..<101 { text += "X-\(i): v\r\n" }
        #expect(ParseRun.make(text + "\r\n").error?.status.code == 431)
        var ok = "GET / HTTP/1.1\r\nHost: x\r\n"
        for i in 0..<99 { ok += "X-\(i): v\r\n" }
        #expect(ParseRun.make(ok + "\r\n").error == nil)
    }

    @Test func rejectsChunkedBody_whenLargerThanLimit() {
        let text = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n"
        #expect(ParseRun.make(text, bodyLimit: 10).error?.status.code == 413)
        #expect(ParseRun.make(text, bodyLimit: 16).error == nil)
    }

    @Test func acceptsRepeatedIdenticalContentLength() {
        let run = ParseRun.make("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab")
        #expect(run.error == nil)
        #expect(run.bodies == [Array("ab".utf8)])
    }

    @Test func trimsOptionalWhitespaceAroundValues() {
        let run = ParseRun.make("GET / HTTP/1.1\r\nHost:   x  \r\nX-Empty:\r\n\r\n")
        #expect(run.heads.first?.headers["Host"] == "x")
        #expect(run.heads.first?.headers["X-Empty"] == "")
    }

    @Test func acceptsObsTextInHeaderValues() {
        var bytes = Array("GET / HTTP/1.1\r\nHost: x\r\nX-A: ".utf8)
        bytes += [0xC3, 0xA4]
        bytes += Array("\r\n\r\n".utf8)
        #expect(ParseRun.make(bytes: bytes).error == nil)
    }
}

@Suite("Router")
struct RouterTests {
    static func make() -> Router {
        let ok: @Sendable (Request) throws -> Response = { _ in Response() }
        return Router([
            Route(.GET, "/health", ok),
            Route(.GET, "/api/v1/applications/{id}", ok),
            Route(.PATCH, "/api/v1/applications/{id}", ok),
            Route(.GET, "/api/v1/applications/search", ok),
            Route(.POST, "/api/v1/applications/{id}/cancel", ok),
            Route(.GET, "/static/{path...}", ok),
        ])
    }

    @Test func matchesLiteralBeforeParameter() {
        let router = Self.make()
        #expect(router.match(method: .GET, path: "/api/v1/applications/search") == .found(index: 3, parameters: [:]))
        #expect(router.match(method: .GET, path: "/api/v1/applications/42") == .found(index: 1, parameters: ["id": "42"]))
        #expect(router.match(method: .POST, path: "/api/v1/applications/42/cancel") == .found(index: 4, parameters: ["id": "42"]))
    }

    @Test func decodesParametersExactlyOnce() {
        let router = Self.make()
        #expect(router.match(method: .GET, path: "/api/v1/applications/a%2Fb") == .found(index: 1, parameters: ["id": "a/b"]))
        #expect(router.match(method: .GET, path: "/api/v1/applications/%2541") == .found(index: 1, parameters: ["id": "%41"]))
        #expect(router.match(method: .GET, path: "/api/v1/applications/%ff") == .badPath)
    }

    @Test func answers405WithAllow_andHeadFallsBackToGet() {
        let router = Self.make()
        #expect(router.match(method: .DELETE, path: "/api/v1/applications/1") == .methodNotAllowed(allow: [.GET, .HEAD, .PATCH]))
        #expect(router.match(method: .HEAD, path: "/health") == .found(index: 0, parameters: [:]))
    }

    @Test func answers404ForUnknownAndTrailingSlash() {
        let router = Self.make()
        #expect(router.match(method: .GET, path: "/nope") == .notFound)
        #expect(router.match(method: .GET, path: "/health/") == .notFound)
        #expect(router.match(method: .GET, path: "/api/v1/applications/") == .notFound)
    }

    @Test func decodesLiteralSegments_andComparesThemByteForByte() {
        let router = Self.make()
        // A literal segment may come percent-encoded: it is compared after decoding, as a parameter is.
        #expect(router.match(method: .GET, path: "/api/v1/%61pplications/42") == .found(index: 1, parameters: ["id": "42"]))
        #expect(router.match(method: .GET, path: "/%68ealth") == .found(index: 0, parameters: [:]))
        // A malformed escape anywhere is refused, even in a segment no route would reach.
        #expect(router.match(method: .GET, path: "/nope/%zz") == .badPath)
        #expect(router.match(method: .GET, path: "/health%00") == .badPath)
        // Bytes, not canonical equivalence: KELVIN SIGN is not "K", "e" + COMBINING ACUTE is not "é".
        let unicode = Router([Route(.GET, "/K/é", { _ in Response() })])
        #expect(unicode.match(method: .GET, path: "/K/é") == .found(index: 0, parameters: [:]))
        #expect(unicode.match(method: .GET, path: "/\u{212A}/é") == .notFound)
        #expect(unicode.match(method: .GET, path: "/K/e\u{301}") == .notFound)
    }

    @Test func backtracksFromALiteralToAParameter_keepingOnlyTheParametersOfTheRouteFound() {
        let ok: @Sendable (Request) throws -> Response = { _ in Response() }
        let router = Router([
            Route(.GET, "/a/{x}/c", ok),
            Route(.GET, "/a/b/{y}/d", ok),
            Route(.GET, "/a/{x}/{z}/e", ok),
        ])
        #expect(router.match(method: .GET, path: "/a/b/c") == .found(index: 0, parameters: ["x": "b"]))
        #expect(router.match(method: .GET, path: "/a/b/q/d") == .found(index: 1, parameters: ["y": "q"]))
        // "/a/b/q" then no "e" under the literal: back to {x} = "b", {z} = "q".
        #expect(router.match(method: .GET, path: "/a/b/q/e") == .found(index: 2, parameters: ["x": "b", "z": "q"]))
        #expect(router.match(method: .GET, path: "/a/b/q/f") == .notFound)
        #expect(router.match(method: .POST, path: "/a/b/c") == .methodNotAllowed(allow: [.GET, .HEAD]))
    }

    @Test func catchAllKeepsTheRestEncoded() {
        let router = Self.make()
        #expect(router.match(method: .GET, path: "/static/css/a%20b.css") == .found(index: 5, parameters: ["path": "css/a%20b.css"]))
    }

    @Test func parsesQueryParameters() throws {
        let q = try QueryParameters(parsing: "a=1&b=x+y&c=%C3%A4&d&a=2")
        #expect(q["a"] == "1")
        #expect(q.all("a") == ["1", "2"])
        #expect(q["b"] == "x y")
        #expect(q["c"] == "ä")
        #expect(q["d"] == "")
        #expect(throws: HTTPError.self) { try QueryParameters(parsing: "a=%zz") }
    }
}
