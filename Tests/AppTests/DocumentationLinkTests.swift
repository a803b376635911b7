import Foundation
import Testing

/// Comments point to files of this repository: a cited section (`docs/ARCHITECTURE.md#pickup`,
/// `PRIVACY.md#the-audit-log`) exists, and no comment cites a document or issue a reader cannot open.
@Suite("Comments cite the repository's documents")
struct DocumentationLinkTests {
    /// The anchors of a Markdown file: explicit `<a id="…">` and GitHub's slugs of its headings.
    static func anchors(_ file: String) throws -> Set<String> {
        let text = try String(contentsOfFile: packageRoot + "/" + file, encoding: .utf8)
        var anchors = Set<String>()
        for line in text.split(separator: "\n") {
            if line.hasPrefix("#") {
                let heading = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces).lowercased()
                anchors.insert(String(heading.compactMap { $0 == " " ? "-" : ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : nil }))
            }
            if let start = line.range(of: "<a id=\""), let end = line[start.upperBound...].firstIndex(of: "\"") {
                anchors.insert(String(line[start.upperBound..<end]))
            }
        }
        return anchors
    }

    /// Every `.swift` file under Sources and Tests, with its text.
    static func sources() throws -> [(String, String)] {
        var files: [(String, String)] = []
        for top in ["Sources", "Tests"] {
            let directory = packageRoot + "/" + top
            for file in FileManager.default.enumerator(atPath: directory)?.compactMap({ $0 as? String }) ?? [] where file.hasSuffix(".swift") {
                files.append((top + "/" + file, try String(contentsOfFile: directory + "/" + file, encoding: .utf8)))
            }
        }
        return files
    }

    @Test func everyCitedSection_exists() throws {
        let documents = ["docs/ARCHITECTURE.md", "PRIVACY.md", "README.md", "OPERATIONS.md"]
        var known: [String: Set<String>] = [:]
        for document in documents { known[document] = try Self.anchors(document) }
        #expect(known["docs/ARCHITECTURE.md"]?.isSuperset(of: ["pickup", "state-machine", "faults"]) == true)
        let citation = try NSRegularExpression(pattern: #"(docs/ARCHITECTURE\.md|PRIVACY\.md|README\.md|OPERATIONS\.md)#([a-z0-9_-]+)((?:(?:, | and )#[a-z0-9_-]+)*)"#)
        var cited = 0
        var missing: [String] = []
        for (path, text) in try Self.sources() {
            for match in citation.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                guard let document = Range(match.range(at: 1), in: text).map({ String(text[$0]) }),
                      let first = Range(match.range(at: 2), in: text).map({ String(text[$0]) }) else { continue }
                // `docs/ARCHITECTURE.md#pickup, #loading and #deadline`: the further anchors are in the same file.
                let more = Range(match.range(at: 3), in: text).map { text[$0].split(separator: "#").dropFirst().map { $0.prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" } } } ?? []
                for anchor in [first] + more.map(String.init) {
                    cited += 1
                    if known[document]?.contains(anchor) != true { missing.append("\(path): \(document)#\(anchor)") }
                }
            }
        }
        #expect(cited > 50)
        #expect(missing == [], "sections cited that do not exist")
    }

    @Test func noCommentCitesADocumentOrIssueOutsideTheRepository() throws {
        let outside = try NSRegularExpression(pattern: #"DESIGN §|DESIGN\.md|issue #?[0-9]+"#)
        let found = try Self.sources().flatMap { path, text in
            outside.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { Range($0.range, in: text).map { "\(path): \(text[$0])" } }
        }
        // This file names the patterns it looks for.
        #expect(found.filter { !$0.hasPrefix("Tests/AppTests/DocumentationLinkTests.swift") } == [])
    }
}
