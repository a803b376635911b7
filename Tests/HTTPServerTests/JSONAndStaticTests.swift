import Foundation
import Testing
@testable import HTTPServer
import HTTPTestSupport

struct Person: Codable, Equatable {
    var name: String
    var age: Int
    var tags: [String]?
    var address: Address?
    struct Address: Codable, Equatable { var city: String }
}

@Suite("Strict JSON")
struct JSONTests {
    func decode(_ text: String) throws -> Person { try JSONCoding.decode(Person.self, from: Array(text.utf8)) }

    func errorOf(_ text: String) -> HTTPError? {
        do { _ = try decode(text); return nil } catch let e as HTTPError { return e } catch { return nil }
    }

    @Test func decodesAValidBody() throws {
        #expect(try decode(#"{"name":"A","age":3,"tags":["x"],"address":{"city":"B"}}"#) == Person(name: "A", age: 3, tags: ["x"], address: .init(city: "B")))
        #expect(try decode(#"{"name":"A","age":3,"tags":null}"#).tags == nil)
    }

    @Test func rejectsUnknownFields_atAnyDepth() {
        #expect(errorOf(#"{"name":"A","age":3,"admin":true}"#)?.code == "unknown_field")
        #expect(errorOf(#"{"name":"A","age":3,"admin":true}"#)?.field == "admin")
        #expect(errorOf(#"{"name":"A","age":3,"address":{"city":"B","zip":"1"}}"#)?.field == "address.zip")
    }

    @Test func rejectsDuplicateKeys() {
        let e = errorOf(#"{"name":"A","name":"B","age":3}"#)
        #expect(e?.code == "invalid_json")
        #expect(e?.field == "name")
    }

    @Test func rejectsWrongTypesAndMissingFields_namingTheField() {
        #expect(errorOf(#"{"name":"A","age":"3"}"#)?.code == "invalid_type")
        #expect(errorOf(#"{"name":"A","age":"3"}"#)?.field == "age")
        #expect(errorOf(#"{"name":"A"}"#)?.code == "missing_field")
        #expect(errorOf(#"{"name":"A"}"#)?.field == "age")
        #expect(errorOf(#"{"name":"A","age":99999999999999999999999}"#) != nil)
    }

    @Test func rejectsDeepNestingAndMalformedJSON() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(errorOf(#"{"name":"A","age":3,"tags":"# + deep + "}")?.code == "invalid_json")
        for bad in ["", "{", #"{"name":"A","age":3}x"#, #"{'name':1}"#, #"{"name":"\ud800","age":1}"#, "{\"name\":\"a\u{1}\",\"age\":1}", #"{"age":01}"#, "[1,]", "nul"] {
            #expect(errorOf(bad)?.code == "invalid_json", "\(bad)")
        }
    }

    @Test func refusesAnObjectWithManyUnknownKeys_beforeDecodingIt() {
        // 60,000 unknown keys (the fault run's 0.9 MB bodies): refused at the first key past the limit.
        var text = #"{"name":"A","age":3"#
        for i in 0..<60_000 { text += #","k\#(i)":1"# }
        let error = errorOf(text + "}")
        #expect(error?.code == "json_too_complex")
        #expect(error?.status.code == 400)
        #expect(error?.field == nil)
        var limit = #"{"name":"A","age":3"#
        for i in 0..<(JSONValue.Limits.maxObjectMembers - 2) { limit += #","k\#(i)":null"# }
        #expect(errorOf(limit + "}") == nil, "an object at the limit is decoded (null fields are tolerated)")
    }

    @Test func refusesADocumentWithTooManyValues() {
        let many = "[" + Array(repeating: "\"x\"", count: JSONValue.Limits.maxValues + 1).joined(separator: ",") + "]"
        let error = errorOf(#"{"name":"A","age":3,"tags":"# + many + "}")
        #expect(error?.code == "json_too_complex")
        let fine = "[" + Array(repeating: "\"x\"", count: 1000).joined(separator: ",") + "]"
        #expect(errorOf(#"{"name":"A","age":3,"tags":"# + fine + "}") == nil)
    }

    @Test func keepsUnicodeAndQuotesIntact() throws {
        let p = try decode(#"{"name":"Ağa \"x\" \u00e4 \u202e","age":1}"#)
        #expect(p.name == "Ağa \"x\" ä \u{202E}")
    }

    @Test func quotesStringsForErrorBodies() {
        #expect(JSONCoding.quote("a\"b\\c\nd\u{1}") == #""a\"b\\c\nd\u0001""#)
    }
}

@Suite("Static files")
struct StaticFilesTests {
    static func makeRoot() throws -> (String, String) {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("pickupbox-static-\(UUID().uuidString)").path
        let root = base + "/public"
        try FileManager.default.createDirectory(atPath: root + "/css", withIntermediateDirectories: true)
        try "<h1>hi</h1>".write(toFile: root + "/index.html", atomically: true, encoding: .utf8)
        try "body{}".write(toFile: root + "/css/app.css", atomically: true, encoding: .utf8)
        try "secret".write(toFile: base + "/secret.txt", atomically: true, encoding: .utf8)
        try "hidden".write(toFile: root + "/.env", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root + "/escape.txt", withDestinationPath: base + "/secret.txt")
        try FileManager.default.createSymbolicLink(atPath: root + "/inside.css", withDestinationPath: root + "/css/app.css")
        return (base, root)
    }

    @Test func servesFilesWithTypesAndETags_andRefusesEveryWayOut() throws {
        let (base, root) = try Self.makeRoot()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let files = StaticFiles(root: root)
        let server = try TestServer.make(routes: [
            Route(.GET, "/{path...}") { req in files.respond(to: req, encodedPath: req.parameter("path")) },
        ])
        defer { server.shutdown() }
        let client = try TestClient(port: server.port)
        let index = try #require(client.request("GET", "/"))
        #expect(index.status == 200)
        #expect(index.header("Content-Type") == "text/html; charset=utf-8")
        let css = try #require(client.request("GET", "/css/app.css"))
        #expect(css.text == "body{}")
        #expect(css.header("Content-Type") == "text/css; charset=utf-8")
        let etag = try #require(css.header("ETag"))
        let cached = try #require(client.request("GET", "/css/app.css", headers: ["If-None-Match: \(etag)"]))
        #expect(cached.status == 304)
        #expect(cached.body.isEmpty)
        #expect(client.request("GET", "/inside.css")?.status == 200)
        for path in ["/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/css/..%2F..%2Fsecret.txt", "/escape.txt", "/.env", "/css/%2e%2e/%2e%2e/secret.txt", "/..%5csecret.txt", "/nope.html", "/css"] {
            let reply = try #require(try TestClient(port: server.port).request("GET", path), "\(path)")
            #expect(reply.status == 404 || reply.status == 400, "\(path)")
            #expect(!reply.text.contains("secret"), "\(path)")
        }
    }
}
