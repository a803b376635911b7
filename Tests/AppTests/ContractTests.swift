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
}
