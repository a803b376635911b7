import Foundation
import HTTPTestSupport
import Postgres
import PostgresTestSupport
import Synchronization
import Testing

extension FaultScenarios {
    /// The SMS gateway fails in three ways while messages are queued — it answers 503, then refuses
    /// connections, then drops them (answer lost after it took the message, request dropped, reset) —
    /// and recovers. The gateway deduplicates by our reference, as the webhook contract asks.
    @Test func smsGatewayOutage_everyMessageIsDeliveredExactlyOnce_afterRecovery() throws {
        enum Phase: Int { case serverErrors, refused, dropped, recovered }
        let phase = Atomic<Int>(Phase.serverErrors.rawValue)
        let gateway = try RecordingGateway(deduplicates: true) { _, _ in
            phase.load(ordering: .relaxed) == Phase.serverErrors.rawValue ? .status(503) : .accept
        }
        defer { gateway.shutdown() }
        let drops: [FaultProxy.Mode] = [.loseReply, .dropRequest, .reset]
        let proxy = try FaultProxy(upstreamPort: gateway.port) { n in
            phase.load(ordering: .relaxed) == Phase.dropped.rawValue ? drops[n % drops.count] : .pass
        }
        defer { proxy.stop() }
        let connectionString = try TestPostgres.makeDatabase()
        try MigrationRunner(directory: packageRoot + "/Migrations", logger: FaultSuite.logger).migrate(connectionString: connectionString)
        let server = Pickupbox(connectionString: connectionString, environment: [
            "SMS_PROVIDER": "webhook", "SMS_URL": "http://127.0.0.1:\(proxy.port)/sms", "SMS_TOKEN": gateway.token,
            "SMS_DISPATCHER": "on", "SMS_RETRY_BASE_MS": "200", "SMS_TIMEOUT_MS": "2000", "SMS_RATE_PER_SECOND": "1000",
            "SMS_HOURLY_CAP": "100000", "SMS_BATCH_SIZE": "20", "SMS_QUIET_HOURS": "off", "SMS_CLAIM_LEASE_SECONDS": "30",
        ])
        try server.start()
        defer { server.stop() }
        let pool = PostgresPool.forTest(connectionString)
        defer { pool.shutdown() }

        var ids: [UUID] = []
        func queue(_ count: Int) throws {
            let batch = (0..<count).map { _ in UUID() }
            try pool.withConnection { c in
                try c.execute("""
                    INSERT INTO sms_message (authority_id, id, to_number, template, language, body, encoding, segments)
                    SELECT gen_random_uuid(), i, '+4915112345678', 'reminder', 'de', 'Fault ' || n, 'gsm7', 1
                    FROM unnest(\(batch)::uuid[]) WITH ORDINALITY AS t(i, n)
                    """)
                try c.execute("SELECT pg_notify('sms_outbox', '')")
            }
            ids += batch
        }
        try queue(100)                                    // the gateway answers 503
        Thread.sleep(forTimeInterval: 3)
        phase.store(Phase.refused.rawValue, ordering: .relaxed)
        try proxy.refuse(true)                            // connections refused
        proxy.disconnectAll()
        try queue(100)
        Thread.sleep(forTimeInterval: 3)
        try proxy.refuse(false)
        phase.store(Phase.dropped.rawValue, ordering: .relaxed)
        proxy.disconnectAll()
        try queue(100)                                    // connections dropped
        Thread.sleep(forTimeInterval: 3)
        let attemptsDuringOutage = gateway.attempts.values.reduce(0, +)
        let recoveredAt = now()
        phase.store(Phase.recovered.rawValue, ordering: .relaxed)

        let drained = eventually(seconds: 90) { ((try? pool.count("SELECT count(*)::int8 FROM sms_message WHERE status = 'sent'")) ?? 0) == ids.count }
        let drainSeconds = now() - recoveredAt
        let references = Set(ids.map { $0.uuidString.lowercased() })
        let delivered = gateway.accepted.map(\.reference)
        let failed = try pool.count("SELECT count(*)::int8 FROM sms_message WHERE status = 'failed'")
        let maxAttempts = try pool.count("SELECT max(attempts)::int8 FROM sms_message")
        FaultSuite.report("sms-gateway-outage", [
            ("messages", ids.count), ("gateway_requests", gateway.attempts.values.reduce(0, +)), ("requests_during_outage", attemptsDuringOutage),
            ("proxy_connections", proxy.connections), ("delivered", delivered.count), ("failed", failed), ("max_attempts", maxAttempts),
            ("drained_after_recovery_s", String(format: "%.1f", drainSeconds)),
        ])
        #expect(drained, "every message sent after the gateway recovered")
        #expect(failed == 0)
        #expect(Set(delivered) == references, "every message delivered")
        #expect(delivered.count == references.count, "none delivered twice")
        #expect(server.isRunning)
    }
}
