#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation
import HTTPServer
import HTTPTestSupport

/// The CPU cost of one JSON answer: `JSONCoding.encode` (our writer) against what it replaced (Foundation's
/// `JSONEncoder` plus a second walk of the value to lower-case its ids, `ReferenceJSON`) and `JSONEncoder`
/// alone, on a value shaped like an application's detail answer. The bytes of the first two must agree.
struct JSONCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "json", abstract: "Measure the CPU cost of encoding one JSON answer.")

    @Option(help: "Encodings per encoder.") var count: Int = 200_000

    struct Event: Codable {
        var at: Date
        var kind: String
        var actor: String?
        var detail: [String: String]?
    }

    /// An application's detail answer in size and shape (about 25 fields, ids, dates, optionals, a list).
    struct Detail: Codable {
        var id = UUID()
        var vorgangsnummer = "ABH-2026-004711"
        var state = "ready_in_box"
        var pickupMethod = "box"
        var documentType = "residence_permit"
        var familyName = "Mustermann"
        var givenNames = "Erika Maria"
        var dateOfBirth = "1990-03-15"
        var mobileNumber = "+491711234567"
        var mobileNumberChangedAt: Date? = nil
        var siteId = UUID()
        var assignmentId: UUID? = UUID()
        var compartmentNumbers = [3, 4]
        var pickupDeadline: String? = "2026-12-14"
        var secondFactor = "date_of_birth"
        var accessible = false
        var notes: String? = "Bitte \"Zusatzblatt\" beilegen / Rückfrage bei Frau Ö."
        var createdAt = Date(timeIntervalSince1970: 1_764_480_000)
        var updatedAt = Date(timeIntervalSince1970: 1_764_483_661.25)
        var collectedAt: Date? = nil
        var personalDataErasedAt: Date? = nil
        var events = [
            Event(at: Date(timeIntervalSince1970: 1_764_480_000), kind: "created", actor: "sachbearbeitung", detail: nil),
            Event(at: Date(timeIntervalSince1970: 1_764_483_661), kind: "assigned", actor: nil, detail: ["compartment": "3", "box": "Foyer"]),
        ]
    }

    func run() throws {
        let value = Detail()
        let ours = try JSONCoding.encode(value)
        guard ours == (try ReferenceJSON.encode(value)) else { throw ValidationError("JSONCoding.encode and the reference disagree") }
        let foundation = JSONEncoder()
        foundation.dateEncodingStrategy = .iso8601
        foundation.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let encoders: [(String, () throws -> Int)] = [
            ("JSONCoding.encode (our writer)", { try JSONCoding.encode(value).count }),
            ("JSONEncoder + id walk (before)", { try ReferenceJSON.encode(value).count }),
            ("JSONEncoder alone", { try foundation.encode(value).count }),
        ]
        print("one answer: \(ours.count) bytes")
        for (name, encode) in encoders {
            var bytes = 0
            for _ in 0..<(count / 10) { bytes &+= try encode() }
            let start = AccessLogCommand.cpuNanoseconds(CLOCK_THREAD_CPUTIME_ID)
            for _ in 0..<count { bytes &+= try encode() }
            let perValue = Double(AccessLogCommand.cpuNanoseconds(CLOCK_THREAD_CPUTIME_ID) - start) / Double(count) / 1000
            print(String(format: "%@: %.2f µs CPU per answer (%d answers)", name, perValue, count))
        }
    }
}
