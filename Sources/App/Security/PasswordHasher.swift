import CArgon2
import Crypto

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
