import Crypto

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

    static let nonceLength = AES256GCM.nonceLength
    static let tagLength = AES256GCM.tagLength

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
        return (current.id, nonce + AES256GCM.seal(plaintext, key: current.bytes, nonce: nonce, associatedData: context))
    }

    /// The plaintext of `sealed`, sealed under `keyID` for `context`.
    func open(_ sealed: [UInt8], keyID: String, context: [UInt8]) throws(OpenError) -> [UInt8] {
        guard let key = keys[keyID] else { throw .unknownKey }
        guard sealed.count >= Self.nonceLength + Self.tagLength else { throw .damaged }
        let nonce = Array(sealed.prefix(Self.nonceLength))
        guard let plaintext = AES256GCM.open(Array(sealed.dropFirst(Self.nonceLength)), key: key.bytes, nonce: nonce, associatedData: context) else {
            throw .damaged
        }
        return plaintext
    }
}
