import Foundation
import Testing

/// The App module stays readable in pieces: no file over 250 lines and no function over 50, so a
/// handler stays decode → call → encode and rules and SQL live in their own types.
@Suite("App sources keep their shape")
struct SourceShapeTests {
    static let maxFileLines = 250
    static let maxFunctionLines = 50

    /// Allowed to be longer, by name. The route table is one line per route, read top to bottom.
    static let longFunctions: Set<String> = [
        "Routes.swift entries(for:)",
    ]
    static let longFiles: Set<String> = []

    /// Every `.swift` file of App (not the browser frontend under `Public/`), by path below `Sources/App`.
    static func appSources() throws -> [(path: String, text: String)] {
        let directory = packageRoot + "/Sources/App"
        return try (FileManager.default.enumerator(atPath: directory)?.compactMap { $0 as? String } ?? [])
            .filter { $0.hasSuffix(".swift") && !$0.hasPrefix("Public/") }
            .sorted()
            .map { ($0, try String(contentsOfFile: directory + "/" + $0, encoding: .utf8)) }
    }

    /// Each function or initializer with a body: its name with argument labels, and its length in lines
    /// from the declaration to the closing brace at the declaration's indentation.
    static func functions(in text: String) -> [(name: String, lines: Int)] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let declaration = try! NSRegularExpression(pattern: #"^(\s*)(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|private|fileprivate|internal|static|class|override|mutating|nonisolated|final|convenience|required)\s+)*(func\s+[^\s(<]+|init[?!]?)"#)
        var found: [(String, Int)] = []
        for (index, line) in lines.enumerated() {
            guard let match = declaration.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)),
                  let indentRange = Range(match.range(at: 1), in: line), let nameRange = Range(match.range(at: 2), in: line) else { continue }
            let indent = String(line[indentRange])
            // A one-line body, or a requirement without one.
            if line.hasSuffix("}") || !line.contains("{") && !lines[index...].prefix(8).contains(where: { $0.hasSuffix("{") }) { continue }
            guard let end = lines[(index + 1)...].firstIndex(where: { $0.hasPrefix(indent + "}") && !($0.dropFirst(indent.count).first?.isWhitespace ?? false) }) else { continue }
            found.append((name(line[nameRange], declaration: lines[index...end].joined(separator: "\n")), end - index + 1))
        }
        return found
    }

    /// `func load(_ app: Application, box: BoxPrincipal)` → `load(_:box:)`.
    static func name(_ head: Substring, declaration: String) -> String {
        let base = head.hasPrefix("func") ? String(head.dropFirst(4).drop { $0 == " " }) : String(head)
        guard let open = declaration.firstIndex(of: "(") else { return base }
        var depth = 0, labels: [String] = [], current = "", atLabel = true
        for character in declaration[open...] {
            switch character {
            case "(", "[", "<": depth += 1; if depth == 1 { continue }
            case ")", "]", ">": depth -= 1
            default: break
            }
            if depth == 0 { break }
            if depth == 1 && character == "," { atLabel = true; current = ""; continue }
            if depth == 1 && atLabel {
                if character == ":" || character == " " {
                    if !current.isEmpty { labels.append(current); atLabel = false }
                } else {
                    current.append(character)
                }
            }
        }
        return base + "(" + labels.map { $0 + ":" }.joined() + ")"
    }

    @Test func measuresAFunctionFromItsDeclarationToItsClosingBrace() {
        let text = """
            enum E {
                static func short(_ a: Int, b: Int) -> Int { a + b }
                static func long(_ a: Int, label b: String) throws -> Int {
                    let x = a
                    if x > 0 {
                        return x
                    }
                    return 0
                }
            }
            """
        let found = Self.functions(in: text)
        #expect(found.count == 1)
        #expect(found.first?.name == "long(_:label:)")
        #expect(found.first?.lines == 7)
        // A real long function is seen: the route table, allowed by name.
        let routes = try? Self.appSources().first { $0.path == "Routes.swift" }.map { Self.functions(in: $0.text) }
        #expect(routes?.contains { $0.name == "entries(for:)" && $0.lines > Self.maxFunctionLines } == true)
    }

    @Test func noAppFileIsLongerThanTheLimit() throws {
        let sources = try Self.appSources()
        #expect(sources.count > 100)
        let long = sources.filter { !Self.longFiles.contains($0.path) }
            .map { ($0.path, $0.text.split(separator: "\n", omittingEmptySubsequences: false).count - ($0.text.hasSuffix("\n") ? 1 : 0)) }
            .filter { $0.1 > Self.maxFileLines }
            .map { "\($0.0): \($0.1) lines" }
        #expect(long == [], "split these files by responsibility (handler, store, rule)")
    }

    @Test func noAppFunctionIsLongerThanTheLimit() throws {
        var long: [String] = []
        var measured = 0
        for (path, text) in try Self.appSources() {
            for function in Self.functions(in: text) {
                measured += 1
                let key = "\(path) \(function.name)"
                if function.lines > Self.maxFunctionLines && !Self.longFunctions.contains(key) { long.append("\(key): \(function.lines) lines") }
            }
        }
        #expect(measured > 500)
        #expect(long == [], "split these functions (decode → call → encode; rules and SQL in their own functions)")
    }

    /// A row of several columns is decoded by column name, so adding or moving a column in the SQL
    /// cannot shift what another line reads; only a single-column result may be read at position 0.
    @Test func rowsOfSeveralColumnsAreDecodedByName() throws {
        let positional = try NSRegularExpression(pattern: #"decode\([^()]*\.self, at: (?!0\))"#)
        var found: [String] = []
        for (path, text) in try Self.appSources() {
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = String(line)
                if positional.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil { found.append("\(path):\(number + 1)") }
            }
        }
        #expect(found == [], "decode these by column name (`row.decode(_:column:)`)")
        // The pattern itself finds what it is meant to.
        let sample = "let x = try row.decode(Int.self, at: 2)"
        #expect(positional.firstMatch(in: sample, range: NSRange(sample.startIndex..., in: sample)) != nil)
    }
}
