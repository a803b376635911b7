import CArgon2
import COpenSSL
import Foundation

/// The few cryptographic primitives the application needs, through OpenSSL.
enum Crypto {
    /// Bytes from OpenSSL's CSPRNG (seeded from the OS). Failure means the process cannot be trusted
    /// to make secrets at all, which is a programmer/platform error, not bad input.
    static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let ok = bytes.withUnsafeMutableBytes { RAND_bytes($0.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(count)) }
        precondition(ok == 1, "RAND_bytes failed")
        return bytes
    }

    static func sha256(_ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let ok = data.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { output in
                EVP_Digest(input.baseAddress, input.count, output.baseAddress?.assumingMemoryBound(to: UInt8.self), &length, EVP_sha256(), nil)
            }
        }
        precondition(ok == 1 && length == 32, "EVP_Digest failed")
        return out
    }

    static func hmacSHA256(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { k in
            data.withUnsafeBytes { d in
                out.withUnsafeMutableBytes { o in
                    HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), d.baseAddress?.assumingMemoryBound(to: UInt8.self), d.count,
                         o.baseAddress?.assumingMemoryBound(to: UInt8.self), &length)
                }
            }
        }
        precondition(result != nil && length == 32, "HMAC failed")
        return out
    }

    /// URL-safe base64 without padding (RFC 4648 §5).
    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func hex(_ bytes: [UInt8]) -> String {
        // Byte by byte from a table: `String(format:)` per byte cost the audit sealer ~9 % of the
        // server's CPU under pickup load (a hash and a salt per sealed event).
        let digits = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: bytes.count * 2) { buffer in
            for (i, byte) in bytes.enumerated() {
                buffer[2 * i] = digits[Int(byte >> 4)]
                buffer[2 * i + 1] = digits[Int(byte & 0x0f)]
            }
            return bytes.count * 2
        }
    }

    /// A fresh random token: 32 bytes, base64url (256 bits).
    static func token() -> String { base64URL(randomBytes(32)) }
}

/// Compares without an early exit, so the time taken does not reveal how much matched. The lengths are
/// compared in full: folded into 8 bits, lengths that differ by a multiple of 256 once compared equal.
func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var bytes: UInt8 = 0
    for i in 0..<max(a.count, b.count) {
        let x = i < a.count ? a[i] : 0
        let y = i < b.count ? b[i] : 0
        bytes |= x ^ y
    }
    return (UInt(bitPattern: a.count ^ b.count) | UInt(bytes)) == 0
}

/// Password hashing with Argon2id (BSI TR-02102-1 recommends it; RFC 9106), PHC string format.
/// Parameters: 19 MiB memory, 2 passes, 1 lane (the OWASP minimum for Argon2id), about 30 ms here.
enum PasswordHasher {
    static let timeCost: UInt32 = 2
    static let memoryKiB: UInt32 = 19 * 1024
    static let parallelism: UInt32 = 1
    static let saltLength = 16
    static let hashLength = 32
    /// Longest password accepted: long inputs cost nothing extra in Argon2 but bound memory here.
    static let maxPasswordBytes = 1024

    static func hash(_ password: String) -> String {
        let salt = Crypto.randomBytes(saltLength)
        let pwd = Array(password.utf8)
        let encodedLength = argon2_encodedlen(timeCost, memoryKiB, parallelism, UInt32(saltLength), UInt32(hashLength), Argon2_id)
        var encoded = [CChar](repeating: 0, count: encodedLength)
        let result = pwd.withUnsafeBytes { p in
            salt.withUnsafeBytes { s in
                argon2id_hash_encoded(timeCost, memoryKiB, parallelism, p.baseAddress, p.count, s.baseAddress, s.count, hashLength, &encoded, encodedLength)
            }
        }
        precondition(result == ARGON2_OK.rawValue, "argon2id_hash_encoded failed: \(result)")
        return String(decoding: encoded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func verify(_ password: String, against encoded: String) -> Bool {
        let pwd = Array(password.utf8)
        guard pwd.count <= maxPasswordBytes else { return false }
        return pwd.withUnsafeBytes { p in
            argon2id_verify(encoded, p.baseAddress, p.count) == ARGON2_OK.rawValue
        }
    }

    /// A hash of a random password, verified against when the username is unknown so that the
    /// answer takes as long as for a known one.
    static let dummyHash: String = hash(Crypto.token())
}
