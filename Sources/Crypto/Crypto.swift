import COpenSSL
import Foundation

/// The hashes, MACs, random bytes and encodings pickupbox needs, through OpenSSL's EVP API. The one
/// place outside the TLS code that calls OpenSSL: `App`, `SMSGateway` and `Postgres` use this.
///
/// OpenSSL failing here (no SHA-256, no memory, no entropy) is a platform error, not bad input: it traps.
public enum Crypto {
    /// SHA-256 (FIPS 180-4) of `bytes`: 32 bytes.
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        digest(bytes, fetchedSHA256 ?? EVP_sha256(), length: 32)
    }

    /// MD5, only because seven's webhook signature hashes the body with it; never for security on its own.
    public static func md5(_ bytes: [UInt8]) -> [UInt8] {
        digest(bytes, EVP_md5(), length: 16)
    }

    /// HMAC-SHA256 (RFC 2104, RFC 4231) of `message` under `key`: 32 bytes. An empty key is allowed.
    public static func hmacSHA256(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        hmac("SHA256", key: key, message: message, length: 32)
    }

    /// HMAC-SHA1, only because Twilio signs its webhooks with it: 20 bytes.
    public static func hmacSHA1(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        hmac("SHA1", key: key, message: message, length: 20)
    }

    /// `count` bytes from OpenSSL's CSPRNG (seeded from the OS).
    public static func randomBytes(_ count: Int) -> [UInt8] {
        precondition(count >= 0 && count <= Int(Int32.max), "randomBytes: count out of range")
        var bytes = [UInt8](repeating: 0, count: count)
        let ok = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        precondition(ok == 1, "RAND_bytes failed")
        return bytes
    }

    /// A random UUID (version 4, RFC 9562) from OpenSSL's CSPRNG. Foundation's `UUID()` opens, reads and
    /// closes `/dev/urandom` for each one: three system calls, ~2 % of the pickup path's server CPU.
    public static func uuid() -> UUID {
        let b = randomBytes(16)
        return UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], (b[6] & 0x0F) | 0x40, b[7],
                           (b[8] & 0x3F) | 0x80, b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
    }

    /// A fresh random token: 32 bytes (256 bits), base64url without padding.
    public static func token() -> String { base64URL(randomBytes(32)) }

    /// Lower-case hexadecimal, two digits per byte.
    public static func hex(_ bytes: [UInt8]) -> String {
        // Byte by byte from a table: `String(format:)` per byte cost the audit sealer ~9 % of the
        // server's CPU under pickup load (a hash and a salt per sealed event).
        String(unsafeUninitializedCapacity: bytes.count * 2) { buffer in
            for (i, byte) in bytes.enumerated() {
                buffer[2 * i] = hexDigits[Int(byte >> 4)]
                buffer[2 * i + 1] = hexDigits[Int(byte & 0x0f)]
            }
            return bytes.count * 2
        }
    }

    /// URL-safe base64 without padding (RFC 4648 §5).
    public static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    // OpenSSL 3 looks up a provider's implementation on every call that names an algorithm by a legacy
    // `EVP_sha256()`, and `HMAC()` looks up both the MAC and its digest. On the quiet benchmark machine
    // (bench/openssl_calls.c) a 43-byte SHA-256 took 0.41-0.58 µs that way and 0.17-0.20 µs with an
    // implementation fetched once; an HMAC-SHA256 1.48-2.08 µs against 1.21-1.73 µs with the MAC fetched once
    // (its digest is still looked up by name in `EVP_MAC_init`). Fetched implementations are immutable and
    // may be used by any thread. SHA-256's look-up falling back to the legacy one costs only speed.
    private nonisolated(unsafe) static let fetchedSHA256: OpaquePointer? = EVP_MD_fetch(nil, "SHA256", nil)
    private nonisolated(unsafe) static let fetchedHMAC: OpaquePointer? = EVP_MAC_fetch(nil, "HMAC", nil)

    private static func digest(_ bytes: [UInt8], _ algorithm: OpaquePointer?, length expected: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { input in
            out.withUnsafeMutableBufferPointer { EVP_Digest(input.baseAddress, input.count, $0.baseAddress, &length, algorithm, nil) }
        }
        precondition(ok == 1 && Int(length) == expected, "EVP_Digest failed")
        return Array(out.prefix(expected))
    }

    private static func hmac(_ digest: String, key: [UInt8], message: [UInt8], length expected: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length = 0
        // An empty key is legal for HMAC; OpenSSL wants a valid pointer all the same.
        let keyBytes = key.isEmpty ? [0] : key
        let ok = digest.withCString { name in
            keyBytes.withUnsafeBufferPointer { k in
                message.withUnsafeBufferPointer { m in
                    out.withUnsafeMutableBufferPointer { o in
                        pickupbox_hmac(fetchedHMAC, name, k.baseAddress, key.count, m.baseAddress, m.count, o.baseAddress, o.count, &length)
                    }
                }
            }
        }
        precondition(ok == 1 && length == expected, "HMAC failed")
        return Array(out.prefix(expected))
    }
}
