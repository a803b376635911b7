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
    /// `AppError.invalid(field, "code"`, `AppError.conflict("code"`, `code: "code"` (HTTPError,
    /// Response.error, the parser's errors), `.bad("code"` (the HTTP parser) and the Domain's codes.
    static func servedCodes() throws -> Set<String> {
        let patterns = [
            #"AppError\(\.[a-zA-Z]+, "([a-z_]+)""#, #"AppError\.invalid\((?:"(?:[^"\\]|\\.)*"|[A-Za-z_.]+), "([a-z_]+)""#, #"_ code: String = "([a-z_]+)""#, #"AppError\.conflict\("([a-z_]+)""#,
            #"code: "([a-z_]+)""#, #"\.bad\("([a-z_]+)""#,
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

    @Test func everyErrorCodeTheServerAnswersWith_isNamedInOpenapi_andTheListedOnesExist() throws {
        let text = try String(contentsOfFile: packageRoot + "/openapi.yaml", encoding: .utf8)
        let served = try Self.servedCodes()
        #expect(served.count > 100)
        let undocumented = served.filter { !text.contains("`\($0)`") }.sorted()
        #expect(undocumented == [], "error codes missing from openapi.yaml")
        // The other way: every code the shared error answers list (the `responses` section) names is one the server uses.
        let responses = String(text[try #require(text.range(of: "\n  responses:\n"))!.lowerBound...])
        let listed = try NSRegularExpression(pattern: "`([a-z]+_[a-z_]+)`").matches(in: responses, range: NSRange(responses.startIndex..., in: responses))
            .compactMap { Range($0.range(at: 1), in: responses).map { String(responses[$0]) } }
        let unknown = Set(listed).subtracting(served).sorted()
        #expect(unknown == [], "codes in openapi.yaml's responses that the server never answers with")
    }
}
