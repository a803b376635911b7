import Foundation
import Postgres
import PostgresTestSupport
import Testing

@Suite("PostgresListener")
struct ListenerTests {
    @Test func deliversNotificationsWithinOneSecond_andStopsAfterUnsubscribe() throws {
        let connectionString = try TestPostgres.makeDatabase()
        let listener = PostgresListener(connectionString: connectionString, logger: Fixtures.logger)
        listener.start()
        defer { listener.shutdown() }
        let events = Collector<PostgresListener.Event>()
        let id = listener.subscribe(channel: "box_events") { events.append($0) }
        let sender = try PostgresConnection.connect(connectionString, logger: Fixtures.logger)
        defer { sender.close() }
        try sender.simpleQuery("NOTIFY box_events, 'x'")
        #expect(events.wait(timeout: 5) { $0.contains(.notification(channel: "box_events", payload: "x")) })
        try sender.query("SELECT pg_notify(\("other_channel"), \("ignored"))")
        listener.unsubscribe(id)
        try sender.simpleQuery("NOTIFY box_events, 'after'")
        Thread.sleep(forTimeInterval: 0.3)
        #expect(events.snapshot == [.notification(channel: "box_events", payload: "x")])
    }

    @Test func reconnectsAfterItsBackendIsTerminated_andEmitsReconnected() throws {
        let connectionString = try TestPostgres.makeDatabase()
        let listener = PostgresListener(connectionString: connectionString, logger: Fixtures.logger)
        listener.start()
        defer { listener.shutdown() }
        let events = Collector<PostgresListener.Event>()
        _ = listener.subscribe(channel: "jobs") { events.append($0) }
        let killed = try Fixtures.terminateBackends(
            connectionString: connectionString, applicationName: PostgresListener.applicationName
        )
        #expect(killed == 1)
        #expect(events.wait(timeout: 3) { $0.contains(.reconnected) })
        let sender = try PostgresConnection.connect(connectionString, logger: Fixtures.logger)
        defer { sender.close() }
        try sender.query("SELECT pg_notify('jobs', \("again"))")
        #expect(events.wait(timeout: 1) { $0.contains(.notification(channel: "jobs", payload: "again")) })
    }

    @Test func shutdownStopsTheThreadQuickly() throws {
        let listener = PostgresListener(connectionString: try TestPostgres.makeDatabase(), logger: Fixtures.logger)
        listener.start()
        _ = listener.subscribe(channel: "quiet") { _ in }
        let start = ContinuousClock.now
        listener.shutdown()
        #expect(ContinuousClock.now - start < .milliseconds(1500))
    }
}
