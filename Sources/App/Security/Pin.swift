import Crypto
import Foundation

/// The pickup PIN: 6 digits from the CSPRNG without modulo bias, stored only as
/// HMAC-SHA256(server key, assignment id ‖ PIN) — the key comes from configuration, not the database.
/// Every PIN is drawn and hashed here: at loading (`BoxEvents`), at a new PIN (`PinHandlers`) and at
/// the box (`BoxPickup`, which compares in constant time).
enum Pin {
    static func draw() -> String {
        // 4,294,000,000 is the largest multiple of 10^6 below 2^32: values above it are drawn again.
        while true {
            let bytes = Crypto.randomBytes(4)
            let value = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
            if value < 4_294_000_000 {
                let n = Int(value % 1_000_000)
                return String(repeating: "0", count: 6 - String(n).count) + String(n)
            }
        }
    }

    static func hmac(_ pin: String, assignmentID: UUID, key: [UInt8]) -> [UInt8] {
        Crypto.hmacSHA256(key: key, Array((assignmentID.uuidString.lowercased() + pin).utf8))
    }
}
