import Foundation
@testable import Postgres
import Testing

/// The UUID text codec that replaced Foundation's (sscanf/snprintf) on the database path writes exactly
/// what Foundation's does and reads the same canonical forms; it is stricter than Foundation's `sscanf`,
/// which also takes a sign or a space inside a field.
@Suite("UUID text")
struct UUIDTextTests {
    static func parse(_ text: String) -> UUID? {
        Array(text.utf8).withUnsafeBytes { UUIDText.parse($0) }
    }

    @Test func writesAsFoundationDoes_andReadsBothCases() {
        for _ in 0..<2_000 {
            let uuid = UUID()
            #expect(UUIDText.format(uuid) == uuid.uuidString)
            #expect(Self.parse(uuid.uuidString) == uuid)
            #expect(Self.parse(uuid.uuidString.lowercased()) == uuid)
        }
        let edge = UUID(uuid: (0, 0xFF, 0x0F, 0xF0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0xAB, 0xCD))
        #expect(UUIDText.format(edge) == edge.uuidString)
    }

    static let canonical = try! NSRegularExpression(pattern: "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

    static func isCanonical(_ text: String) -> Bool {
        canonical.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    @Test func readsOnlyTheCanonicalForm() {
        let uuid = UUID().uuidString
        let inner = String(uuid.dropFirst().dropLast())
        var malformed: [String] = ["", "0", String(uuid.dropLast()), uuid + "0", "{" + inner + "}"]
        malformed.append(uuid.replacingOccurrences(of: "-", with: "0"))
        malformed.append("g" + String(uuid.dropFirst()))
        malformed.append(String(uuid.dropFirst(9)) + "-" + String(uuid.prefix(8)))
        malformed.append(" " + String(uuid.dropFirst()))
        malformed.append(String(uuid.prefix(35)) + "\u{0}")
        malformed.append("+" + String(uuid.dropFirst()))
        for text in malformed {
            #expect(Self.parse(text) == nil, "\(text.debugDescription)")
        }
        // Random damage over hex digits, hyphens, a stray letter, a sign and a space: the canonical ones
        // read as Foundation reads them, every other one is refused.
        let alphabet = Array("0123456789abcdefABCDEF-g+ ")
        var generator = SystemRandomNumberGenerator()
        for round in 0..<5_000 {
            var characters = Array(UUID().uuidString)
            for _ in 0..<(round % 3 + 1) {
                characters[Int.random(in: 0..<36, using: &generator)] = alphabet.randomElement(using: &generator)!
            }
            let text = String(characters)
            #expect(Self.parse(text) == (Self.isCanonical(text) ? UUID(uuidString: text) : nil), "\(text)")
        }
    }
}
