import COpenSSL

/// One-shot HMAC and constant-time comparison via OpenSSL.
enum HMAC {
    static func sha256(key: [UInt8], message: [UInt8]) -> [UInt8] { compute(EVP_sha256(), key: key, message: message) }
    static func sha1(key: [UInt8], message: [UInt8]) -> [UInt8] { compute(EVP_sha1(), key: key, message: message) }

    private static func compute(_ digest: OpaquePointer?, key: [UInt8], message: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        // An empty key is legal for HMAC; give OpenSSL a valid pointer in that case.
        let keyBytes = key.isEmpty ? [0] : key
        let result = keyBytes.withUnsafeBytes { keyBuffer in
            message.withUnsafeBytes { messageBuffer in
                COpenSSL.HMAC(digest, keyBuffer.baseAddress, Int32(key.count),
                              messageBuffer.baseAddress?.assumingMemoryBound(to: UInt8.self), messageBuffer.count,
                              &output, &length)
            }
        }
        precondition(result != nil, "HMAC failed")
        return Array(output.prefix(Int(length)))
    }

    /// MD5, only because seven's webhook signature hashes the body with it (not used for security on its own).
    static func md5(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let status = bytes.withUnsafeBytes { EVP_Digest($0.baseAddress, $0.count, &digest, &length, EVP_md5(), nil) }
        precondition(status == 1 && length == 16, "EVP_Digest(MD5) failed")
        return Array(digest.prefix(16))
    }

    /// True when both are equal, in time that depends only on the length (CRYPTO_memcmp).
    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        guard !lhs.isEmpty else { return true }
        return lhs.withUnsafeBytes { a in rhs.withUnsafeBytes { b in CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0 } }
    }
}
