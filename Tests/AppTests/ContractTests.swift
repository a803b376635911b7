import App
import Foundation
import HTTPServer
import Testing

@Suite("Contract: openapi.yaml and the route table")
struct ContractTests {
    /// Paths and methods of openapi.yaml (the file is ours: two-space indentation under `paths:`).
    static func documentedOperations() throws -> Set<String> {
        let text = try String(contentsOfFile: packageRoot + "/openapi.yaml", encoding: .utf8)
        var operations = Set<String>()
        var inPaths = false
        var currentPath: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" { inPaths = true; continue }
            if inPaths && !line.isEmpty && !line.hasPrefix(" ") { break }
            guard inPaths else { continue }
            if line.hasPrefix("  /") && line.hasSuffix(":") && !line.hasPrefix("   ") {
                currentPath = String(line.dropFirst(2).dropLast())
            } else if let path = currentPath, line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                let method = line.trimmingCharacters(in: .whitespaces).dropLast().uppercased()
                if ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(method) { operations.insert("\(method) \(path)") }
            }
        }
        return operations
    }

    @Test func everyRouteIsDocumented_andEveryDocumentedPathIsServed() throws {
        let app = try AppFixture.make(AppFixture.makeConfiguration(), connectionString: "host=/nonexistent-pickupbox port=1 dbname=x")
        defer { app.shutdown() }
        // OpenAPI has no rest-of-path parameter: `{file...}` is documented as `{file}`.
        let served = Set(Routes.entries(for: app).map { "\($0.route.method.rawValue) \($0.route.pattern.replacingOccurrences(of: "...}", with: "}"))" })
        let documented = try Self.documentedOperations()
        #expect(!documented.isEmpty)
        #expect(served.subtracting(documented).sorted() == [], "routes missing from openapi.yaml")
        #expect(documented.subtracting(served).sorted() == [], "openapi.yaml paths that are not served")
    }

    @Test func openapiPassesARealValidator() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-m", "openapi_spec_validator", packageRoot + "/openapi.yaml"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "openapi-spec-validator: \(output) (make test installs it)")
    }

    /// The machine codes the server can answer with, read from its sources: `AppError(…, "code"`,
    /// `AppError.invalid(field, "code"`, `AppError.conflict("code"` (and the same of `ServiceError`), `code: "code"` (HTTPError,
    /// Response.error, the parser's errors), `code: test ? "code" : "code"`, `.bad("code"` (the HTTP
    /// parser) and the Domain's codes.
    static func servedCodes() throws -> Set<String> {
        let patterns = [
            #"(?:AppError|ServiceError)\(\.[a-zA-Z]+, "([a-z_]+)""#, #"(?:AppError|ServiceError)\.invalid\((?:"(?:[^"\\]|\\.)*"|[A-Za-z_.]+), "([a-z_]+)""#,
            #"_ code: String = "([a-z_]+)""#, #"(?:AppError|ServiceError)\.conflict\("([a-z_]+)""#,
            #"code: "([a-z_]+)""#, #"\.bad\("([a-z_]+)""#,
            #"code: [^,"]+\? "([a-z_]+)" : "[a-z_]+""#, #"code: [^,"]+\? "[a-z_]+" : "([a-z_]+)""#,
        ]
        var codes = Set<String>()
        // The server's targets only: test support and the benchmark tool answer with codes of their own.
        for target in ["App", "HTTPServer", "Domain"] {
            let directory = packageRoot + "/Sources/" + target
            for file in FileManager.default.enumerator(atPath: directory)?.compactMap({ $0 as? String }) ?? [] where file.hasSuffix(".swift") {
                // `pickupbox authority create` is a command, not a route: its refusals are printed, not answered.
                if file.hasSuffix("AuthorityAdmin.swift") { continue }
                let text = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
                var all = patterns
                if file.hasSuffix("DomainError.swift") { all.append(#"case \.[a-zA-Z]+(?:\([^)]*\))?: "([a-z_]+)""#) }
                if file.hasSuffix("CounterHandover.swift") { all.append(#"case [a-zA-Z]+ = "([a-z_]+)""#) }
                for pattern in all {
                    let regex = try NSRegularExpression(pattern: pattern)
                    for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                        if let range = Range(match.range(at: 1), in: text) { codes.insert(String(text[range])) }
                    }
                }
            }
        }
        // The Domain's deadline-policy check only ever runs under `try?` (a stored policy): it never reaches an answer.
        codes.remove("invalid_configuration")
        return codes
    }

    /// The codes openapi.yaml names as answers: in the description of every 4xx/5xx response of an
    /// operation and of every shared response (`components.responses`), a backquoted snake_case word
    /// with an underscore (`invalid_pin`), or a one-word code that opens the description or a `;` clause
    /// (`` `forbidden`: … ``) — but not the members of the error body (`` `field`: `mobileNumber` ``).
    static func documentedCodes() throws -> [String: Int] {
        let lines = try String(contentsOfFile: packageRoot + "/openapi.yaml", encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func indent(_ line: String) -> Int { line.prefix { $0 == " " }.count }
        let responseKey = try NSRegularExpression(pattern: #"^ +'?[45][0-9][0-9]'?:\s*$"#)
        let sharedKey = try NSRegularExpression(pattern: #"^    [A-Z][A-Za-z]+:\s*$"#)
        let snake = try NSRegularExpression(pattern: "`([a-z]+(?:_[a-z]+)+)`")
        let leading = try NSRegularExpression(pattern: #"(?:^description: ['"|]?\s*|; )`([a-z]+)`:"#)
        var codes: [String: Int] = [:]
        var inShared = false
        for (index, line) in lines.enumerated() {
            // `components.responses` is the two-space key `responses:`; any other key at that depth or above ends it.
            if !line.isEmpty && indent(line) <= 2 { inShared = line == "  responses:" }
            let range = NSRange(line.startIndex..., in: line)
            guard responseKey.firstMatch(in: line, range: range) != nil || (inShared && sharedKey.firstMatch(in: line, range: range) != nil) else { continue }
            // The response's own `description:` (one line, or a block indented under it).
            var text = ""
            var next = index + 1
            while next < lines.count, lines[next].isEmpty || indent(lines[next]) > indent(line) {
                let trimmed = lines[next].trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix("description:") && indent(lines[next]) == indent(line) + 2 {
                    text = trimmed
                    var more = next + 1
                    while more < lines.count, lines[more].isEmpty || indent(lines[more]) > indent(lines[next]) {
                        text += " " + lines[more].trimmingCharacters(in: .whitespaces)
                        more += 1
                    }
                    break
                }
                next += 1
            }
            for regex in [snake, leading] {
                for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                    guard let r = Range(match.range(at: 1), in: text), !["error", "message", "field", "state"].contains(text[r]) else { continue }
                    if codes[String(text[r])] == nil { codes[String(text[r])] = index + 1 }
                }
            }
        }
        return codes
    }

    @Test func everyErrorCodeInOpenapiResponses_isOneTheServerAnswersWith() throws {
        let served = try Self.servedCodes()
        let documented = try Self.documentedCodes()
        #expect(documented.count > 100, "the reader of openapi.yaml's responses found too few codes")
        #expect(documented["invalid_pin"] != nil && documented["forbidden"] != nil && documented["box_throttled"] != nil)
        let unknown = documented.filter { !served.contains($0.key) }.map { "\($0.key) (openapi.yaml line \($0.value))" }.sorted()
        #expect(unknown == [], "codes openapi.yaml documents as answers that no source emits")
    }

    @Test func everyErrorCodeTheServerAnswersWith_isNamedInOpenapi_andTheListedOnesExist() throws {
        let text = try String(contentsOfFile: packageRoot + "/openapi.yaml", encoding: .utf8)
        let served = try Self.servedCodes()
        #expect(served.count > 100)
        let undocumented = served.filter { !text.contains("`\($0)`") }.sorted()
        #expect(undocumented == [], "error codes missing from openapi.yaml")
        // The other way: every code the shared error answers list (the `responses` section) names is one the server uses.
        let responsesStart = try #require(text.range(of: "\n  responses:\n"))
        let responses = String(text[responsesStart.lowerBound...])
        let listed = try NSRegularExpression(pattern: "`([a-z]+_[a-z_]+)`").matches(in: responses, range: NSRange(responses.startIndex..., in: responses))
            .compactMap { Range($0.range(at: 1), in: responses).map { String(responses[$0]) } }
        let unknown = Set(listed).subtracting(served).sorted()
        #expect(unknown == [], "codes in openapi.yaml's responses that the server never answers with")
    }
}
