@testable import App
import Crypto
import Foundation
import HTTPServer
import HTTPTestSupport
import Postgres
import PostgresTestSupport
import Testing

extension AuthorityFixture {
    /// Gives the box a token (as `POST /boxes/{id}/token` would) and returns it.
    func boxToken(_ app: Application, box: UUID) throws -> String {
        let token = Crypto.token()
        try app.pool.execute("UPDATE box SET token_hash = \(Crypto.sha256(Array(token.utf8))) WHERE id = \(box)")
        return token
    }
}

/// A box controller's request over real HTTP, with its token: (status, JSON object, reply).
func boxRequest(_ port: Int, token: String, _ method: String, _ path: String, json: [String: Any]? = nil, headers extra: [String] = [], timeout: Double = 15) -> (Int, [String: Any], TestClient.Reply?) {
    var headers = ["Authorization: Bearer \(token)"] + extra
    var body: String?
    if let json {
        headers.append("Content-Type: application/json")
        body = String(decoding: (try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
    }
    guard let client = try? TestClient(port: port, timeout: timeout), let reply = client.request(method, path, headers: headers, body: body) else { return (0, [:], nil) }
    return (reply.status, (try? JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any]) ?? [:], reply)
}

/// A box controller's long poll.
func poll(_ port: Int, token: String, since: Int64 = 0, wait: Int = 0, timeout: Double = 15) -> (Int, [String: Any]) {
    let (status, object, _) = boxRequest(port, token: token, "GET", "/api/v1/box/assignments?since=\(since)&wait=\(wait)", timeout: timeout)
    return (status, object)
}

@Suite("Box long poll")
struct LongPollTests {
    @Test func aClientThatClosesItsSide_isDroppedAtOnce_notWhenTheWaitEnds() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let box = try town.makeBox(app, rows: 1, columns: 1)
        let token = try town.boxToken(app, box: box)
        let client = try TestClient(port: app.port, timeout: 5)
        client.send("GET /api/v1/box/assignments?since=999999&wait=60 HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(token)\r\n\r\n")
        let parked = Date().addingTimeInterval(5)
        while app.longPolls.count == 0 && Date() < parked { usleep(10_000) }
        #expect(app.longPolls.count == 1)
        shutdown(client.fd, Int32(SHUT_WR))
        let gone = Date().addingTimeInterval(2)
        while app.longPolls.count > 0 && Date() < gone { usleep(10_000) }
        #expect(app.longPolls.count == 0, "the parked poll of a client that closed must not wait 60 s")
        #expect(client.readToEnd().isEmpty, "closed without an answer")
        #expect(app.server.openConnections == 0)
    }

    @Test func answersAtOnce_withTheWorkToLoad() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let box = try town.makeBox(app, rows: 2, columns: 2)
        let token = try town.boxToken(app, box: box)
        let client = try town.login(app)
        let (_, number) = try town.register(client)
        _ = client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "L-1", "items": [["documentNumber": documentNumber(5), "vorgangsnummer": number]]])
        let (status, feed) = poll(app.port, token: token, wait: 30)
        #expect(status == 200)
        let changes = feed["changes"] as? [[String: Any]] ?? []
        #expect(changes.count == 1)
        #expect(changes.first?["kind"] as? String == "to_load")
        #expect(changes.first?["documentNumbers"] as? [String] == [documentNumber(5)])
        #expect(feed["cursor"] as? Int == 1)
        #expect((feed["configuration"] as? [String: Any])?["siteName"] as? String == "Bürgerhaus")
        // The next poll from that cursor has nothing (wait=0 answers at once).
        #expect((poll(app.port, token: token, since: 1).1["changes"] as? [Any])?.isEmpty == true)
    }

    @Test func waitsThenAnswersNothingNew_andHoldsNoWorker() throws {
        let app = try AppFixture.make { c in c.workerThreads = 2 }
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let box = try town.makeBox(app, rows: 1, columns: 1)
        let token = try town.boxToken(app, box: box)
        // Twenty parked polls on two worker threads; other requests still get through.
        let group = DispatchGroup()
        let statuses = Mutex64()
        for _ in 0..<20 {
            group.enter()
            let port = app.port
            Thread.detachNewThread {
                if poll(port, token: token, wait: 6).0 == 200 { statuses.add() }
                group.leave()
            }
        }
        let started = Date()
        var parked = 0
        // Each poll waits 6 s: all twenty are seen parked at once even when a busy machine spreads their starts.
        while parked < 20 && Date().timeIntervalSince(started) < 6 { parked = app.longPolls.count; usleep(10_000) }
        #expect(parked == 20)
        #expect(app.pool.statistics.inUse == 0)
        #expect(try TestClient(port: app.port).request("GET", "/ready")?.status == 200)
        group.wait()
        #expect(statuses.value == 20)
        #expect(Date().timeIntervalSince(started) >= 5)
    }

    @Test func wakesAtOnce_whenAnotherServerProcessMakesAChange() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let database = try app.pool.query("SELECT current_database()").first?.decode(String.self, at: 0) ?? ""
        let other = try AppFixture.make(AppFixture.makeConfiguration(), connectionString: try TestPostgres.shared().connectionString(database: database))
        defer { other.shutdown() }
        let town = try AuthorityFixture.make(app)
        let box = try town.makeBox(app, rows: 1, columns: 2)
        let token = try town.boxToken(app, box: box)
        let client = try town.login(other)
        let (_, number) = try town.register(client)
        let answered = DispatchSemaphore(value: 0)
        let result = Mutex64()
        let began = Date()
        DispatchQueue.global().async {
            let (status, feed) = poll(app.port, token: token, wait: 20)
            if status == 200 && (feed["changes"] as? [Any])?.count == 1 { result.add() }
            answered.signal()
        }
        while app.longPolls.count < 1 && Date().timeIntervalSince(began) < 3 { usleep(5_000) }
        let changed = Date()
        _ = client.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "W-1", "items": [["documentNumber": documentNumber(8), "vorgangsnummer": number]]])
        #expect(answered.wait(timeout: .now() + 5) == .success)
        #expect(result.value == 1)
        // Far below the poll's 20 s: the change woke it (a bound with room for a busy CI machine).
        #expect(Date().timeIntervalSince(changed) < 5)
    }

    @Test func neverMissesAChange_betweenPolls() throws {
        let app = try AppFixture.make { c in c.workerThreads = 16; c.databasePoolSize = 8 }
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let box = try town.makeBox(app, rows: 5, columns: 10)
        let token = try town.boxToken(app, box: box)
        let supervisor = try town.login(app, as: "chef")
        let (cookie, csrf, port) = (supervisor.cookie, supervisor.csrf, app.port)
        // 40 block/unblock changes from 8 threads while the box polls.
        let done = Mutex64()
        DispatchQueue.global().async {
            DispatchQueue.concurrentPerform(iterations: 8) { k in
                let writer = StaffClient(port: port)
                writer.cookie = cookie
                writer.csrf = csrf
                for n in stride(from: k + 1, through: 40, by: 8) {
                    _ = writer.call("POST", "/api/v1/boxes/\(box)/compartments/\(n)/block", json: ["reason": "maintenance"])
                }
            }
            done.add()
        }
        var cursor: Int64 = 0
        var seen: [Int] = []
        let deadline = Date().addingTimeInterval(20)
        while (done.value == 0 || seen.count < 40) && Date() < deadline {
            let (status, feed) = poll(app.port, token: token, since: cursor, wait: 1)
            #expect(status == 200)
            for change in feed["changes"] as? [[String: Any]] ?? [] { seen.append(change["seq"] as? Int ?? -1) }
            cursor = Int64(feed["cursor"] as? Int ?? Int(cursor))
        }
        #expect(seen == Array(1...40))
    }

    @Test func refusesMissingWrongAndRotatedTokens_andStaffCookies() throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let box = try town.makeBox(app, rows: 1, columns: 1)
        let token = try town.boxToken(app, box: box)
        #expect(poll(app.port, token: token).0 == 200)
        #expect(poll(app.port, token: "wrong-token-wrong-token-wrong").0 == 401)
        let staff = try town.login(app)
        #expect(staff.call("GET", "/api/v1/box/assignments?wait=0")?.status == 401)
        _ = try town.boxToken(app, box: box)   // rotated
        #expect(poll(app.port, token: token).0 == 401)
        let seen = try app.pool.query("SELECT last_seen_at IS NOT NULL FROM box WHERE id = \(box)").first?.decode(Bool.self, at: 0)
        #expect(seen == true)
    }

    @Test(arguments: ["wait=61", "wait=-1", "since=-1", "since=abc", "since=99999999999999999999", "wait=%D9%A1"])
    func refusesBadParameters(_ query: String) throws {
        let app = try AppFixture.make()
        defer { app.shutdown() }
        let town = try AuthorityFixture.make(app)
        let box = try town.makeBox(app, rows: 1, columns: 1)
        let token = try town.boxToken(app, box: box)
        let reply = try TestClient(port: app.port).request("GET", "/api/v1/box/assignments?\(query)", headers: ["Authorization: Bearer \(token)"])
        #expect(reply?.status == 400)
        #expect(reply?.text.contains("invalid_parameter") == true)
    }
}
