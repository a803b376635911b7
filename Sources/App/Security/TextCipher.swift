import COpenSSL
import Foundation

/// Encrypts texts that must be stored but never in clear — the SMS in the outbox carry the PIN (issue
/// #11 §2) — with AES-256-GCM through OpenSSL.
///
/// The key is derived from `PICKUPBOX_SECRET_KEY` with its own label (HMAC-SHA256 of the label under
/// the secret), so it is never the key of the CAN and PIN hashes. Every sealed text carries the id of
/// its key: after a rotation `PICKUPBOX_SECRET_KEY_PREVIOUS` still opens what the old key sealed. The
/// nonce is 96 random bits per text; the associated data binds a text to its row, so a ciphertext
/// copied to another row does not open.
struct TextCipher: Sendable {
    /// A derived key and its id (16 hex digits, from the secret, not from the key; the id reveals nothing).
    struct Key: Sendable, Equatable {
        let id: String
        let bytes: [UInt8]
    }

    /// Why a sealed text did not open.
    enum OpenError: Error, Equatable {
        /// Sealed with a key this process does not have (neither the current secret nor the previous one).
        case unknownKey
        /// Too short, changed, or not sealed for this row (the GCM tag does not match).
        case damaged
    }

    static let nonceLength = 12
    static let tagLength = 16

    /// Seals with this key.
    let current: Key
    /// Opens with these keys, by id: the current one and the previous secret's.
    let keys: [String: Key]

    /// `label` separates the uses of one secret (`sms-body`); `previous` is the secret before a rotation.
    init(secret: [UInt8], previous: [UInt8]?, label: String) {
        current = Self.derive(secret: secret, label: label)
        var keys = [current.id: current]
        if let previous {
            let old = Self.derive(secret: previous, label: label)
            keys[old.id] = old
        }
        self.keys = keys
    }

    static func derive(secret: [UInt8], label: String) -> Key {
        Key(id: Crypto.hex(Array(Crypto.hmacSHA256(key: secret, Array("pickupbox/key-id/v1".utf8)).prefix(8))),
            bytes: Crypto.hmacSHA256(key: secret, Array("pickupbox/\(label)/v1".utf8)))
    }

    /// `nonce ‖ ciphertext ‖ tag` and the id of the key that sealed it.
    func seal(_ plaintext: [UInt8], context: [UInt8]) -> (keyID: String, sealed: [UInt8]) {
        let nonce = Crypto.randomBytes(Self.nonceLength)
        let ctx = EVP_CIPHER_CTX_new()
        defer { EVP_CIPHER_CTX_free(ctx) }
        var output = [UInt8](repeating: 0, count: plaintext.count + 16)
        var tag = [UInt8](repeating: 0, count: Self.tagLength)
        var length: Int32 = 0
        var total = 0
        // Failures here mean OpenSSL itself is broken (no AES-GCM, no memory): a platform error, not input.
        precondition(ctx != nil && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nil, nil, nil) == 1, "AES-256-GCM unavailable")
        precondition(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, Int32(Self.nonceLength), nil) == 1, "GCM nonce length")
        precondition(EVP_EncryptInit_ex(ctx, nil, nil, current.bytes, nonce) == 1, "GCM key")
        if !context.isEmpty {
            precondition(EVP_EncryptUpdate(ctx, nil, &length, context, Int32(context.count)) == 1, "GCM associated data")
        }
        precondition(output.withUnsafeMutableBufferPointer { EVP_EncryptUpdate(ctx, $0.baseAddress, &length, plaintext, Int32(plaintext.count)) } == 1, "GCM encrypt")
        total = Int(length)
        precondition(output.withUnsafeMutableBufferPointer { EVP_EncryptFinal_ex(ctx, $0.baseAddress! + total, &length) } == 1, "GCM final")
        total += Int(length)
        precondition(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, Int32(Self.tagLength), &tag) == 1, "GCM tag")
        return (current.id, nonce + output.prefix(total) + tag)
    }

    /// The plaintext of `sealed`, sealed under `keyID` for `context`.
    func open(_ sealed: [UInt8], keyID: String, context: [UInt8]) throws(OpenError) -> [UInt8] {
        guard let key = keys[keyID] else { throw .unknownKey }
        guard sealed.count >= Self.nonceLength + Self.tagLength else { throw .damaged }
        let nonce = Array(sealed.prefix(Self.nonceLength))
        var tag = Array(sealed.suffix(Self.tagLength))
        let ciphertext = Array(sealed.dropFirst(Self.nonceLength).dropLast(Self.tagLength))
        let ctx = EVP_CIPHER_CTX_new()
        defer { EVP_CIPHER_CTX_free(ctx) }
        var output = [UInt8](repeating: 0, count: ciphertext.count + 16)
        var length: Int32 = 0
        precondition(ctx != nil && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nil, nil, nil) == 1, "AES-256-GCM unavailable")
        precondition(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, Int32(Self.nonceLength), nil) == 1, "GCM nonce length")
        precondition(EVP_DecryptInit_ex(ctx, nil, nil, key.bytes, nonce) == 1, "GCM key")
        if !context.isEmpty {
            guard EVP_DecryptUpdate(ctx, nil, &length, context, Int32(context.count)) == 1 else { throw .damaged }
        }
        guard output.withUnsafeMutableBufferPointer({ EVP_DecryptUpdate(ctx, $0.baseAddress, &length, ciphertext, Int32(ciphertext.count)) }) == 1 else {
            throw .damaged
        }
        let total = Int(length)
        precondition(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, Int32(Self.tagLength), &tag) == 1, "GCM tag")
        // The tag is checked here: a changed byte anywhere (nonce, text, tag, context) fails.
        guard output.withUnsafeMutableBufferPointer({ EVP_DecryptFinal_ex(ctx, $0.baseAddress! + total, &length) }) == 1 else { throw .damaged }
        return Array(output.prefix(total + Int(length)))
    }
}
