import Crypto
import Foundation

/// The old card's CAN (renewals), stored only as HMAC-SHA256(server key, "can:" ‖ authority id ‖ ":" ‖ CAN),
/// never in clear: hashed here when an application is registered (`ApplicationRegistration`) and when the box
/// panel sends it (`BoxPickup`, which compares in constant time).
enum CANHash {
    static func hmac(_ can: String, authorityID: UUID, key: [UInt8]) -> [UInt8] {
        Crypto.hmacSHA256(key: key, Array("can:\(authorityID.uuidString.lowercased()):\(can)".utf8))
    }
}
