import Crypto
import Foundation
import Postgres

/// The pickup PIN: 6 digits from the CSPRNG without modulo bias, never stored in clear. Every PIN is
/// drawn and hashed here: at loading (`BoxEvents`), at a new PIN (`PinHandlers`) and at the box
/// (`BoxPickup`). The key comes from configuration and never reaches the database.
///
/// Stored as a digest the database can compare without the key (Migrations/0024): the panel's PIN
/// becomes its PIN key, HMAC-SHA256(key, "pin:" ‖ authority id ‖ ":" ‖ PIN), which the server can
/// compute before it knows any assignment; the assignment keeps SHA-256(PIN key ‖ its id's 16 bytes),
/// which `pickup_start_claimed` computes again for each candidate. PINs sent before that migration are
/// only HMAC-SHA256(key, assignment id ‖ PIN) (`legacyHMAC`) until they are collected or replaced; new
/// PINs are stored in both forms, so that replicas of the previous release open them during a rolling
/// upgrade.
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

    /// What the PIN becomes before it reaches the database.
    static func key(_ pin: String, authorityID: UUID, key: [UInt8]) -> [UInt8] {
        Crypto.hmacSHA256(key: key, Array("pin:\(authorityID.uuidString.lowercased()):\(pin)".utf8))
    }

    /// What an assignment stores of its PIN (`assignment.pin_digest`).
    static func digest(_ pin: String, authorityID: UUID, assignmentID: UUID, key: [UInt8]) -> [UInt8] {
        digest(pinKey: self.key(pin, authorityID: authorityID, key: key), assignmentID: assignmentID)
    }

    /// SHA-256(PIN key ‖ the assignment id's 16 bytes), as PostgreSQL's `sha256(key || uuid_send(id))`.
    static func digest(pinKey: [UInt8], assignmentID: UUID) -> [UInt8] {
        Crypto.sha256(pinKey + withUnsafeBytes(of: assignmentID.uuid) { Array($0) })
    }

    /// A PIN of the old form (`assignment.pin_hmac`): compared on the old path only, written for the
    /// previous release's replicas.
    static func legacyHMAC(_ pin: String, assignmentID: UUID, key: [UInt8]) -> [UInt8] {
        Crypto.hmacSHA256(key: key, Array((assignmentID.uuidString.lowercased() + pin).utf8))
    }
}

extension PostgresQuery.StringInterpolation {
    /// `pin_digest = …, pin_hmac = …`: a new PIN as an assignment stores it, in both forms (`Pin`), each
    /// bound as a parameter. Loading (`BoxEvents`) and a new PIN (`PinHandlers`) write it so.
    mutating func appendInterpolation(storedPin pin: String, authorityID: UUID, assignmentID: UUID, key: [UInt8]) {
        appendLiteral("pin_digest = ")
        appendInterpolation(Pin.digest(pin, authorityID: authorityID, assignmentID: assignmentID, key: key))
        appendLiteral(", pin_hmac = ")
        appendInterpolation(Pin.legacyHMAC(pin, assignmentID: assignmentID, key: key))
    }
}
