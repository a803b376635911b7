import Crypto
import Foundation
import Testing

/// Known-answer vectors from the standards: a wrapper that passes these calls OpenSSL correctly.
@Suite("Crypto: known-answer vectors")
struct CryptoTests {
    static func bytes(hex: String) -> [UInt8] {
        let digits = Array(hex.utf8).map { $0 <= 0x39 ? $0 - 0x30 : $0 - 0x61 + 10 }
        return stride(from: 0, to: digits.count, by: 2).map { digits[$0] << 4 | digits[$0 + 1] }
    }

    /// FIPS 180-4 / NIST CSRC examples: "abc" and the empty message.
    @Test func sha256_matchesNISTVectors() {
        #expect(Crypto.hex(Crypto.sha256(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Crypto.hex(Crypto.sha256([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    /// RFC 4231 §4.2 (test case 1) and §4.3 (test case 2).
    @Test func hmacSHA256_matchesRFC4231Cases1And2() {
        #expect(Crypto.hex(Crypto.hmacSHA256(key: [UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8)))
                == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(Crypto.hex(Crypto.hmacSHA256(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8)))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    /// An empty key is legal HMAC (the key is padded with zeros).
    @Test func hmacSHA256_acceptsEmptyKey() {
        #expect(Crypto.hex(Crypto.hmacSHA256(key: [], []))
                == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
    }

    /// RFC 4231 §4.7 (test case 6): a key longer than SHA-256's block is hashed first.
    @Test func hmacSHA256_matchesRFC4231Case6_aKeyLongerThanABlock() {
        #expect(Crypto.hex(Crypto.hmacSHA256(key: [UInt8](repeating: 0xaa, count: 131),
                                             Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)))
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    /// SHA-256 and HMAC share implementations fetched once per process: many threads at once get the
    /// same answers as one.
    @Test func digestsAndMACs_fromManyThreadsAtOnce_agree() async {
        let expectedDigest = Crypto.hex(Crypto.sha256(Array("abc".utf8)))
        let expectedMAC = Crypto.hex(Crypto.hmacSHA256(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8)))
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    (0..<2_000).allSatisfy { _ in
                        Crypto.hex(Crypto.sha256(Array("abc".utf8))) == expectedDigest
                            && Crypto.hex(Crypto.hmacSHA256(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8))) == expectedMAC
                    }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 8))
    }

    /// RFC 2202 §3 test case 2; RFC 1321 §A.5 (MD5 of "" and of "abc").
    @Test func legacyDigests_matchTheirRFCs() {
        #expect(Crypto.hex(Crypto.hmacSHA1(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8)))
                == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
        #expect(Crypto.hex(Crypto.md5([])) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(Crypto.hex(Crypto.md5(Array("abc".utf8))) == "900150983cd24fb0d6963f7d28e17f72")
    }

    /// The GCM specification's test case 16 (McGrew & Viega, as used in NIST's GCM validation): AES-256,
    /// 96-bit IV, 60-byte plaintext, 20 bytes of associated data.
    @Test func aes256gcm_matchesGCMSpecTestCase16() {
        let key = Self.bytes(hex: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
        let nonce = Self.bytes(hex: "cafebabefacedbaddecaf888")
        let plaintext = Self.bytes(hex: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                                      + "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39")
        let aad = Self.bytes(hex: "feedfacedeadbeeffeedfacedeadbeefabaddad2")
        let sealed = AES256GCM.seal(plaintext, key: key, nonce: nonce, associatedData: aad)
        #expect(Crypto.hex(sealed) == "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                                    + "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
                                    + "76fc6ece0f4e1768cddf8853bb2d551b")
        #expect(AES256GCM.open(sealed, key: key, nonce: nonce, associatedData: aad) == plaintext)
    }

    /// Test case 13: all-zero key and IV, empty plaintext — the tag alone.
    @Test func aes256gcm_sealsEmptyPlaintext_asTagOnly() {
        let sealed = AES256GCM.seal([], key: [UInt8](repeating: 0, count: 32), nonce: [UInt8](repeating: 0, count: 12))
        #expect(Crypto.hex(sealed) == "530f8afbc74536b9a963b4f1c4cb738b")
        #expect(AES256GCM.open(sealed, key: [UInt8](repeating: 0, count: 32), nonce: [UInt8](repeating: 0, count: 12)) == [])
    }

    @Test func aes256gcm_refusesAnyChangedByte_andShortInput() {
        let key = Crypto.randomBytes(32)
        let nonce = Crypto.randomBytes(12)
        let sealed = AES256GCM.seal(Array("123456".utf8), key: key, nonce: nonce, associatedData: [1, 2, 3])
        for i in sealed.indices {
            var changed = sealed
            changed[i] ^= 0x01
            #expect(AES256GCM.open(changed, key: key, nonce: nonce, associatedData: [1, 2, 3]) == nil)
        }
        #expect(AES256GCM.open(sealed, key: key, nonce: nonce, associatedData: [1, 2, 4]) == nil)
        #expect(AES256GCM.open(sealed, key: key, nonce: nonce) == nil)
        #expect(AES256GCM.open(Array(sealed.prefix(15)), key: key, nonce: nonce, associatedData: [1, 2, 3]) == nil)
        #expect(AES256GCM.open([], key: key, nonce: nonce) == nil)
    }

    @Test func hex_isLowerCaseTwoDigitsPerByte() {
        #expect(Crypto.hex([]) == "")
        #expect(Crypto.hex([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
    }

    /// RFC 4648 §5 alphabet, no padding.
    @Test func base64URL_usesURLAlphabetWithoutPadding() {
        #expect(Crypto.base64URL([0xfb, 0xff]) == "-_8")
        #expect(Crypto.base64URL(Array("f".utf8)) == "Zg")
        #expect(Crypto.token().utf8.count == 43)
    }

    @Test func randomBytes_haveTheAskedLength_andDiffer() {
        #expect(Crypto.randomBytes(0).isEmpty)
        #expect(Crypto.randomBytes(32).count == 32)
        #expect(Crypto.randomBytes(32) != Crypto.randomBytes(32))
    }

    /// Version 4 and the RFC 9562 variant in the text Foundation reads, and no two alike.
    @Test func uuid_isAVersion4UUID() throws {
        var seen = Set<UUID>()
        for _ in 0..<1_000 {
            let id = Crypto.uuid()
            let text = Array(id.uuidString.utf8)
            #expect(text[14] == UInt8(ascii: "4"))
            #expect([UInt8(ascii: "8"), UInt8(ascii: "9"), UInt8(ascii: "A"), UInt8(ascii: "B")].contains(text[19]))
            #expect(UUID(uuidString: id.uuidString) == id)
            seen.insert(id)
        }
        #expect(seen.count == 1_000)
    }
}
