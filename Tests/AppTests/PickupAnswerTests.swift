@testable import App
import Crypto
import Domain
import Foundation
import HTTPServer
import HTTPTestSupport
import Testing

/// The pickup steps' answers are written field by field (`BoxPickup+JSON.swift`); they must be the bytes
/// `JSONCoding.encode` (and so JSONEncoder, `ReferenceJSON`) writes for the same values.
@Suite("Pickup: answers written directly")
struct PickupAnswerTests {
    @Test func theSession_isWhatEncodeWrites() throws {
        let factorSets: [[PickupFactor]] = [[], [.pinLetter, .dateOfBirth], [.pinLetter, .can, .oldDocumentDestroyed], PickupFactor.allCases]
        let instants = [Date(timeIntervalSince1970: 1_796_000_000), Date(timeIntervalSince1970: 1_796_000_120.734), Date()]
        for factors in factorSets {
            for expiresAt in instants {
                let session = BoxPickup.Session(pickupId: Crypto.uuid(), factors: factors, expiresAt: expiresAt)
                #expect(session.json == (try JSONCoding.encode(session)))
                #expect(session.json == (try ReferenceJSON.encode(session)))
            }
        }
    }

    @Test func theOpenedCompartments_areWhatEncodeWrites() throws {
        for numbers in [[1], [12, 3], [], [Int.max]] {
            let opened = BoxPickup.Open(assignmentId: Crypto.uuid(), compartmentNumbers: numbers)
            #expect(opened.json == (try JSONCoding.encode(opened)))
            #expect(opened.json == (try ReferenceJSON.encode(opened)))
        }
    }
}
