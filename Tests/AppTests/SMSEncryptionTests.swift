@testable import App
import Crypto
import EmbeddedPostgres
import Foundation
import HTTPTestSupport
import Postgres
import PostgresTestSupport
import SMSGateway
import Synchronization
import Testing

/// PINs never in clear (PRIVACY.md#pins-never-in-clear): the outbox stores SMS texts encrypted, and only the dispatcher
/// opens them to send them.
@Suite("SMS texts encrypted at rest")
struct SMSEncryptionTests {
    /// A gateway that can be down (503 to everything) and come back.
    final class Switch: Sendable {
        let down = Mutex(true)
        var isDown: Bool { down.withLock { $0 } }
    }

    /// A migrated database of its own (the tests start applications on it and dump it).
    static func database() throws -> String {
        let db = try TestPostgres.makeDatabase()
        try MigrationRunner(directory: packageRoot + "/Migrations", logger: AppFixture.logger).migrate(connectionString: db)
        return db
    }

    @Test func aDatabaseDumpDuringAGatewayOutage_holdsNoPinOfTheQueuedMessages() throws {
        let outage = Switch()
        let gateway = try RecordingGateway { _, _ in outage.isDown ? .status(503) : .accept }
        defer { gateway.shutdown() }
        let db = try Self.database()
        var config = AppFixture.makeConfiguration { SMSFixture.configure(&$0, gateway: gateway) }
        config.sms.retryBaseMilliseconds = 50
        let app = try AppFixture.make(config, connectionString: db)
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        try town.openAllWeek(app)
        let box = try town.makeBox(app, rows: 2, columns: 3)
        let token = try town.boxToken(app, box: box)
        let documents = try (0..<3).map { try LoadedDocument.make(app, town, box: box, token: token, document: 950 + $0) }
        // The gateway refused every attempt so far: the three "ready" SMS wait in the outbox, with their PINs.
        #expect(SMSFixture.wait { gateway.attempts.count == 3 })
        // In one query: a retry moves a message between the two states, and two counts could each miss it.
        #expect(try app.pool.query("SELECT count(*)::int8 FROM sms_message WHERE status IN ('queued', 'sending')").first?.decode(Int.self, at: 0) == 3)
        let texts = try SMSFixture.texts(app)
        #expect(texts.count == 3 && documents.allSatisfy { doc in texts.contains { $0.contains("PIN: \(doc.pin)") } })

        let dump = try Self.pgDump(db)
        #expect(dump.contains("COPY public.sms_message"), "the dump has the outbox")
        for (doc, text) in zip(documents, texts) {
            #expect(!dump.contains("PIN: \(doc.pin)"), "PIN of \(doc.applicationID) in clear")
            #expect(!dump.contains(text))
        }
        #expect(!dump.contains("PIN: ") && !dump.contains("Ausgabebox Bürgerhaus"), "no text of the outbox at all")

        // The gateway comes back: the same texts reach it, and the stored ones are erased.
        outage.down.withLock { $0 = false }
        #expect(try SMSFixture.wait { try SMSFixture.count(app.pool, status: "sent") == 3 })
        #expect(Set(gateway.accepted.map(\.text)) == Set(texts))
        #expect(try app.pool.query("SELECT count(*)::int8 FROM sms_message WHERE body_sealed IS NOT NULL OR body IS NOT NULL").first?.decode(Int.self, at: 0) == 0)
    }

    /// `pg_dump` of the installed PostgreSQL (the one the embedded cluster runs).
    static func pgDump(_ connectionString: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try EmbeddedPostgres.binDirectory() + "/pg_dump")
        process.arguments = ["--dbname=" + connectionString, "--no-owner"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "pg_dump: \(String(decoding: errors, as: UTF8.self))")
        return String(decoding: data, as: UTF8.self)
    }

    @Test func afterARotation_thePreviousKeyStillOpens_andWithoutItTheMessageWaits() throws {
        let gateway = try RecordingGateway()
        defer { gateway.shutdown() }
        let db = try Self.database()
        let oldKey = [UInt8](repeating: 7, count: 32), newKey = [UInt8](repeating: 9, count: 32)
        // Queued under the old key, not sent (no dispatcher).
        let first = try AppFixture.make(AppFixture.makeConfiguration { $0.secretKey = oldKey }, connectionString: db)
        let ids = try SMSFixture.queue(first.pool, count: 2)
        first.shutdown()

        /// The errors of the outbox.
        func errors(_ a: Application) throws -> [String] {
            try a.pool.query("SELECT coalesce(error, '') FROM sms_message").map { try $0.decode(String.self, at: 0) }
        }
        // Rotated without the previous key: the texts cannot be opened, so they wait (and say why).
        let forgetful = try AppFixture.make(AppFixture.makeConfiguration {
            SMSFixture.configure(&$0, gateway: gateway)
            $0.secretKey = newKey
        }, connectionString: db)
        #expect(try SMSFixture.wait { try errors(forgetful).allSatisfy { $0.contains("PICKUPBOX_SECRET_KEY_PREVIOUS") } })
        #expect(try SMSFixture.count(forgetful.pool, status: "failed") == 0)
        forgetful.shutdown()
        #expect(gateway.accepted.isEmpty)

        let rotated = try AppFixture.make(AppFixture.makeConfiguration {
            SMSFixture.configure(&$0, gateway: gateway)
            $0.secretKey = newKey
            $0.previousSecretKey = oldKey
        }, connectionString: db)
        defer { rotated.shutdown() }
        try rotated.pool.execute("UPDATE sms_message SET next_attempt_at = now()")
        #expect(try SMSFixture.wait { try SMSFixture.count(rotated.pool, status: "sent") == 2 })
        #expect(Set(gateway.accepted.map(\.text)) == ["Testnachricht 1", "Testnachricht 2"])
        #expect(Set(gateway.accepted.map(\.reference)) == Set(ids.map { $0.uuidString.lowercased() }))
    }

    @Test func aTextChangedInTheDatabase_failsInsteadOfSendingSomethingElse() throws {
        let gateway = try RecordingGateway()
        defer { gateway.shutdown() }
        let db = try Self.database()
        let quiet = try AppFixture.make(AppFixture.makeConfiguration(), connectionString: db)
        let ids = try SMSFixture.queue(quiet.pool, count: 2)
        // One byte of the first ciphertext flipped.
        try quiet.pool.execute("UPDATE sms_message SET body_sealed = set_byte(body_sealed, 20, get_byte(body_sealed, 20) # 1) WHERE id = \(ids[0])")
        quiet.shutdown()
        let app = try AppFixture.make(AppFixture.makeConfiguration { SMSFixture.configure(&$0, gateway: gateway) }, connectionString: db)
        defer { app.shutdown() }
        #expect(try SMSFixture.wait { try SMSFixture.count(app.pool, status: "failed") == 1 && SMSFixture.count(app.pool, status: "sent") == 1 })
        let failure = try app.pool.query("SELECT error FROM sms_message WHERE id = \(ids[0])").first?.decode(String.self, at: 0)
        #expect(failure?.contains("does not decrypt") == true)
        #expect(gateway.accepted.map(\.reference) == [ids[1].uuidString.lowercased()])
    }

    @Test func textsAnOlderServerLeftInClear_areSealedAtStart_andStillSent() throws {
        let gateway = try RecordingGateway()
        defer { gateway.shutdown() }
        let db = try Self.database()
        let id = UUID(), authority = UUID()
        let pool = PostgresPool(configuration: PostgresConfiguration(connectionString: db, poolSize: 1), logger: AppFixture.logger)
        try pool.execute("""
            INSERT INTO sms_message (authority_id, id, to_number, template, language, body, next_attempt_at)
            VALUES (\(authority), \(id), '+4915112345678', 'new_pin', 'de', 'Ihre neue PIN: 246810.', now() + interval '1 hour')
            """)
        pool.shutdown()
        let app = try AppFixture.make(AppFixture.makeConfiguration { SMSFixture.configure(&$0, gateway: gateway) }, connectionString: db)
        defer { app.shutdown() }
        let row = try #require(try app.pool.query("SELECT body IS NULL, body_sealed IS NOT NULL, body_key_id FROM sms_message").first)
        #expect(try row.decode(Bool.self, at: 0) && row.decode(Bool.self, at: 1))
        #expect(try row.decode(String.self, at: 2) == app.smsCipher.current.id)
        #expect(try !Self.pgDump(db).contains("246810"))
        try app.pool.execute("UPDATE sms_message SET next_attempt_at = now()")
        #expect(try SMSFixture.wait { try SMSFixture.count(app.pool, status: "sent") == 1 })
        #expect(gateway.accepted.map(\.text) == ["Ihre neue PIN: 246810."])
    }

    @Test func previousSecretKey_isReadAndChecked() throws {
        let c = try AppConfiguration.load(from: ["PICKUPBOX_SECRET_KEY_PREVIOUS": String(repeating: "ab", count: 32)])
        #expect(c.previousSecretKey == [UInt8](repeating: 0xAB, count: 32))
        #expect(throws: AppConfiguration.Invalid.self) { try AppConfiguration.load(from: ["PICKUPBOX_SECRET_KEY_PREVIOUS": "abcd"]) }
        #expect(AppConfiguration.variables.contains { $0.name.hasPrefix("PICKUPBOX_SECRET_KEY_PREVIOUS") })
    }
}

@Suite("TextCipher")
struct TextCipherTests {
    static let secret = [UInt8](repeating: 1, count: 32)
    static let context = Array("sms_message:a:b".utf8)

    @Test func opensWhatItSealed_withANewNonceEachTime() throws {
        let cipher = TextCipher(secret: Self.secret, previous: nil, label: "sms-body")
        let plaintext = Array("Ihr Dokument liegt bereit. PIN: 123456. Bürgerhaus €".utf8)
        let a = cipher.seal(plaintext, context: Self.context), b = cipher.seal(plaintext, context: Self.context)
        #expect(a.sealed != b.sealed)
        #expect(a.sealed.count == plaintext.count + TextCipher.nonceLength + TextCipher.tagLength)
        #expect(try cipher.open(a.sealed, keyID: a.keyID, context: Self.context) == plaintext)
        #expect(!Crypto.hex(a.sealed).contains(Crypto.hex(Array("123456".utf8))))
    }

    @Test func refusesAChangedByte_anotherRowsContext_andAnUnknownKey() {
        let cipher = TextCipher(secret: Self.secret, previous: nil, label: "sms-body")
        let box = cipher.seal(Array("PIN: 123456".utf8), context: Self.context)
        for index in [0, 12, box.sealed.count - 1] {
            var changed = box.sealed
            changed[index] ^= 0x01
            #expect(throws: TextCipher.OpenError.damaged, "byte \(index)") { try cipher.open(changed, keyID: box.keyID, context: Self.context) }
        }
        #expect(throws: TextCipher.OpenError.damaged) { try cipher.open(box.sealed, keyID: box.keyID, context: Array("sms_message:a:c".utf8)) }
        #expect(throws: TextCipher.OpenError.damaged) { try cipher.open(Array(box.sealed.prefix(20)), keyID: box.keyID, context: Self.context) }
        #expect(throws: TextCipher.OpenError.unknownKey) { try cipher.open(box.sealed, keyID: "0000000000000000", context: Self.context) }
    }

    @Test func keysDependOnSecretAndLabel_andIdsNameTheSecret() {
        let sms = TextCipher.derive(secret: Self.secret, label: "sms-body")
        let other = TextCipher.derive(secret: Self.secret, label: "other")
        let rotated = TextCipher.derive(secret: [UInt8](repeating: 2, count: 32), label: "sms-body")
        #expect(sms.bytes != other.bytes && sms.bytes != rotated.bytes && sms.bytes != Self.secret)
        #expect(sms.id == other.id && sms.id != rotated.id)
        #expect(sms.id.count == 16 && sms.id.allSatisfy(\.isHexDigit))
        let both = TextCipher(secret: [UInt8](repeating: 2, count: 32), previous: Self.secret, label: "sms-body")
        #expect(both.current.id == rotated.id && Set(both.keys.keys) == [sms.id, rotated.id])
    }
}
