import COpenSSL

/// AES-256-GCM (NIST SP 800-38D) through OpenSSL: authenticated encryption with associated data.
///
/// The caller owns the nonce: it must never repeat under one key (96 random bits per message is the
/// usual choice). The tag is 128 bits and follows the ciphertext.
public enum AES256GCM {
    /// 256-bit keys.
    public static let keyLength = 32
    /// 96-bit nonces (the length GCM is defined for without an extra GHASH of the IV).
    public static let nonceLength = 12
    /// 128-bit tags, appended to the ciphertext.
    public static let tagLength = 16

    /// `ciphertext ‖ tag` of `plaintext`, bound to `associatedData` (which is authenticated, not encrypted).
    public static func seal(_ plaintext: [UInt8], key: [UInt8], nonce: [UInt8], associatedData: [UInt8] = []) -> [UInt8] {
        precondition(key.count == keyLength && nonce.count == nonceLength, "AES-256-GCM: key or nonce length")
        precondition(plaintext.count <= Int(Int32.max) && associatedData.count <= Int(Int32.max), "AES-256-GCM: input too long")
        let ctx = EVP_CIPHER_CTX_new()
        defer { EVP_CIPHER_CTX_free(ctx) }
        var output = [UInt8](repeating: 0, count: plaintext.count + 16)
        var tag = [UInt8](repeating: 0, count: tagLength)
        var length: Int32 = 0
        // Failures here mean OpenSSL itself is broken (no AES-GCM, no memory): a platform error, not input.
        precondition(ctx != nil && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nil, nil, nil) == 1, "AES-256-GCM unavailable")
        precondition(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, Int32(nonceLength), nil) == 1, "GCM nonce length")
        precondition(EVP_EncryptInit_ex(ctx, nil, nil, key, nonce) == 1, "GCM key")
        if !associatedData.isEmpty {
            precondition(EVP_EncryptUpdate(ctx, nil, &length, associatedData, Int32(associatedData.count)) == 1, "GCM associated data")
        }
        precondition(output.withUnsafeMutableBufferPointer { EVP_EncryptUpdate(ctx, $0.baseAddress, &length, plaintext, Int32(plaintext.count)) } == 1, "GCM encrypt")
        var total = Int(length)
        precondition(output.withUnsafeMutableBufferPointer { EVP_EncryptFinal_ex(ctx, $0.baseAddress! + total, &length) } == 1, "GCM final")
        total += Int(length)
        precondition(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, Int32(tagLength), &tag) == 1, "GCM tag")
        return Array(output.prefix(total)) + tag
    }

    /// The plaintext of `sealed` (`ciphertext ‖ tag`), or nil when it is too short or the tag does not
    /// match: a changed byte anywhere (ciphertext, tag, nonce, associated data, key) fails.
    public static func open(_ sealed: [UInt8], key: [UInt8], nonce: [UInt8], associatedData: [UInt8] = []) -> [UInt8]? {
        precondition(key.count == keyLength && nonce.count == nonceLength, "AES-256-GCM: key or nonce length")
        guard sealed.count >= tagLength, sealed.count <= Int(Int32.max), associatedData.count <= Int(Int32.max) else { return nil }
        var tag = Array(sealed.suffix(tagLength))
        let ciphertext = Array(sealed.dropLast(tagLength))
        let ctx = EVP_CIPHER_CTX_new()
        defer { EVP_CIPHER_CTX_free(ctx) }
        var output = [UInt8](repeating: 0, count: ciphertext.count + 16)
        var length: Int32 = 0
        precondition(ctx != nil && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nil, nil, nil) == 1, "AES-256-GCM unavailable")
        precondition(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, Int32(nonceLength), nil) == 1, "GCM nonce length")
        precondition(EVP_DecryptInit_ex(ctx, nil, nil, key, nonce) == 1, "GCM key")
        if !associatedData.isEmpty {
            guard EVP_DecryptUpdate(ctx, nil, &length, associatedData, Int32(associatedData.count)) == 1 else { return nil }
        }
        guard output.withUnsafeMutableBufferPointer({ EVP_DecryptUpdate(ctx, $0.baseAddress, &length, ciphertext, Int32(ciphertext.count)) }) == 1 else {
            return nil
        }
        let total = Int(length)
        precondition(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, Int32(tagLength), &tag) == 1, "GCM tag")
        // The tag is checked here.
        guard output.withUnsafeMutableBufferPointer({ EVP_DecryptFinal_ex(ctx, $0.baseAddress! + total, &length) }) == 1 else { return nil }
        return Array(output.prefix(total + Int(length)))
    }
}
