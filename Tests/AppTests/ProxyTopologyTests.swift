@testable import App
import Foundation
import HTTPServer
import HTTPTestSupport
import Postgres
import PostgresTestSupport
import Synchronization
import Testing

@Suite("nginx in front of two replicas (deploy/nginx.conf)")
struct ProxyTopologyTests {
    @Test func fullFlowThroughTheProxy_withTheRealClientsAddressInAuditAndThrottles() throws {
        let gateway = try RecordingGateway()
        defer { gateway.shutdown() }
        let topology = try ProxyTopology(environment: ["SMS_PROVIDER": "webhook", "SMS_URL": gateway.url, "SMS_TOKEN": gateway.token,
                                                       "SMS_DISPATCHER": "on", "LOGIN_FAILURES_PER_ADDRESS": "3"])
        defer { topology.stop() }
        let (town, port) = (topology.town, topology.proxy.port)
        let box = try town.makeBox(topology.app, rows: 2, columns: 2)
        let token = try town.boxToken(topology.app, box: box)

        // A caseworker at 127.0.0.7: login, register, deliver — all through nginx.
        let staff = StaffClient(port: port, source: "127.0.0.7")
        let login = try #require(staff.call("POST", "/api/v1/auth/login", json: ["authority": town.slug, "username": "anna", "password": town.password]))
        #expect(login.status == 200, "\(login.text)")
        let (id, number) = try town.register(staff, ["mobileNumber": "0172 3456789"])
        let (delivered, delivery) = staff.json("POST", "/api/v1/deliveries", json: ["deliveryNoteNumber": "PROXY-1", "items": [["documentNumber": documentNumber(8800), "vorgangsnummer": number]]])
        #expect(delivered == 201 || delivered == 200, "\(delivery)")
        // The box loads through nginx; the SMS goes out from whichever replica claims it.
        let (_, instruction, _) = boxPost(port, token: token, "/api/v1/box/loading", json: ["documentNumber": documentNumber(8800)])
        let compartment = try #require(instruction["compartmentNumber"] as? Int, "\(instruction)")
        #expect(boxPost(port, token: token, "/api/v1/box/events", json: ["eventId": "proxy-load", "kind": "loaded", "compartmentNumber": compartment]).0 == 200)
        #expect(SMSFixture.wait { gateway.accepted.contains { $0.to == "+491723456789" } })
        let text = try #require(gateway.accepted.first { $0.to == "+491723456789" }?.text)
        let pin = try #require(text.firstMatch(of: /PIN: ([0-9]{6})/).map { String($0.1) })
        // The applicant at the box, through nginx.
        let (started, session, _) = boxPost(port, token: token, "/api/v1/box/pickups", json: ["mobileNumber": "0172 3456789", "pin": pin])
        #expect(started == 201, "\(session)")
        let pickup = try #require(session["pickupId"] as? String)
        let (opened, open, _) = boxPost(port, token: token, "/api/v1/box/pickups/\(pickup)/factors", json: ["pinLetterConfirmed": true, "dateOfBirth": "15.03.1990"])
        #expect(opened == 200, "\(open)")
        #expect(open["compartmentNumbers"] as? [Int] == [compartment])
        for (n, kind) in ["opened", "document_removed", "closed"].enumerated() {
            let (accepted, answer, _) = boxPost(port, token: token, "/api/v1/box/events", json: ["eventId": "proxy-\(n)", "kind": kind, "compartmentNumber": compartment])
            #expect(accepted == 200, "\(kind): \(answer)")
        }
        let status = try #require(try TestClient(port: port, source: "127.0.0.9").request("GET", "/api/v1/status/\(number)"))
        #expect(status.status == 200)
        #expect(status.text.contains("collected"), "\(status.text)")
        #expect(try TestClient(port: port).request("GET", "/status?vn=\(number)")?.status == 200)
        #expect(staff.json("GET", "/api/v1/applications/\(id)").1["state"] as? String == "collected")

        // The audit log names the caseworker's address, not nginx's — even when the client sends its own X-Forwarded-For.
        let addresses = try topology.app.pool.query("""
            SELECT DISTINCT client_address FROM audit_event WHERE authority_id = \(town.authorityID) AND actor_kind = 'user'
            """).map { try $0.decode(String?.self, at: 0) }
        #expect(addresses == ["127.0.0.7"], "\(addresses)")
        let forged = StaffClient(port: port, source: "127.0.0.8")
        _ = forged.call("POST", "/api/v1/auth/login", json: ["authority": town.slug, "username": "chef", "password": town.password], headers: ["X-Forwarded-For: 10.1.2.3"])
        let chef = try topology.app.pool.query("""
            SELECT client_address FROM audit_event WHERE authority_id = \(town.authorityID) AND action = 'auth.login' ORDER BY at DESC, id DESC LIMIT 1
            """).first?.decode(String?.self, at: 0)
        #expect(chef == "127.0.0.8")
        // X-Forwarded-For is believed only from the proxy: straight to a replica, the header is ignored.
        let direct = StaffClient(port: topology.replicas[0].port, source: "127.0.0.10")
        _ = direct.call("POST", "/api/v1/auth/login", json: ["authority": town.slug, "username": "anna", "password": town.password], headers: ["X-Forwarded-For: 127.0.0.7"])
        let last = try topology.app.pool.query("""
            SELECT client_address FROM audit_event WHERE authority_id = \(town.authorityID) AND action = 'auth.login' ORDER BY at DESC, id DESC LIMIT 1
            """).first?.decode(String?.self, at: 0)
        #expect(last == "127.0.0.10")

        // Login throttling counts the real client: 127.0.0.11 is blocked after its failures (on both
        // replicas: the throttle lives in PostgreSQL), while 127.0.0.12 behind the same proxy logs in.
        var statuses: [Int] = []
        for attempt in 0..<5 {
            let guesser = StaffClient(port: port, source: "127.0.0.11")
            statuses.append(guesser.call("POST", "/api/v1/auth/login", json: ["authority": town.slug, "username": "nobody\(attempt)", "password": "guess"])?.status ?? 0)
        }
        #expect(statuses.last == 429, "\(statuses)")
        #expect(StaffClient(port: port, source: "127.0.0.12").call("POST", "/api/v1/auth/login", json: ["authority": town.slug, "username": "anna", "password": town.password])?.status == 200)
        // Both replicas answered some of it (nginx spreads the requests).
        #expect(topology.replicas.allSatisfy { $0.metrics().contains(#"route="/api/v1/"#) })
    }

    @Test func boxLongPoll_waitsItsFull60Seconds_throughTheProxy_andAChangeWakesIt() throws {
        let topology = try ProxyTopology()
        defer { topology.stop() }
        let box = try topology.town.makeBox(topology.app, rows: 1, columns: 2)
        let token = try topology.town.boxToken(topology.app, box: box)
        let port = topology.proxy.port
        let (first, feed) = poll(port, token: token, wait: 0)
        #expect(first == 200)
        let cursor = Int64(feed["cursor"] as? Int ?? 0)
        // The longest wait a box may ask for: nginx's proxy_read_timeout (75 s) must outlast it.
        let started = Date()
        let (status, idle) = poll(port, token: token, since: cursor, wait: BoxControllerHandlers.maxWaitSeconds, timeout: 90)
        let waited = Date().timeIntervalSince(started)
        #expect(status == 200, "the long poll came back with \(status) after \(waited) s")
        #expect(waited >= Double(BoxControllerHandlers.maxWaitSeconds) - 1 && waited < 75, "\(waited)")
        #expect(idle["cursor"] as? Int == Int(cursor))
        // A change wakes a parked poll through the proxy at once (NOTIFY reaches either replica).
        let woken = Mutex<(Int, Double)?>(nil)
        let poller = Thread {
            let t = Date()
            let (s, _) = poll(port, token: token, since: cursor, wait: 30, timeout: 40)
            woken.withLock { $0 = (s, Date().timeIntervalSince(t)) }
        }
        poller.start()
        usleep(500_000)
        let caseworker = try topology.town.login(topology.app)
        #expect(caseworker.call("POST", "/api/v1/boxes/\(box)/compartments/1/block", json: ["reason": "maintenance"])?.status == 200)
        #expect(SMSFixture.wait(seconds: 10) { woken.withLock { $0 != nil } })
        let result = woken.withLock { $0 }
        #expect(result?.0 == 200 && (result?.1 ?? 99) < 10, "\(String(describing: result))")
    }

    @Test func sigtermToOneReplicaUnderLoad_losesNoRequest() throws {
        let topology = try ProxyTopology()
        defer { topology.stop() }
        let client = try topology.town.login(topology.app)
        let (_, number) = try topology.town.register(client)
        let port = topology.proxy.port
        let outcomes = Mutex<[Int: Int]>([:])
        let stop = Atomic<Bool>(false)
        // A connection per request, as many clients do (and nginx closes a client connection after 1,000).
        let threads = (0..<4).map { _ in
            Thread {
                while !stop.load(ordering: .relaxed) {
                    let status = (try? TestClient(port: port, timeout: 10))?.request("GET", "/api/v1/status/\(number)", headers: ["Connection: close"])?.status ?? 0
                    outcomes.withLock { $0[status, default: 0] += 1 }
                }
            }
        }
        threads.forEach { $0.start() }
        usleep(1_000_000)
        let before = outcomes.withLock { $0.values.reduce(0, +) }
        // Both replicas are answering the load when one of them is told to stop.
        #expect(topology.replicas.allSatisfy { $0.metrics().contains(#"route="/api/v1/status/{vorgangsnummer}""#) })
        // SIGTERM: the replica stops accepting, finishes what it has, closes idle connections and exits.
        kill(topology.replicas[0].process.processIdentifier, SIGTERM)
        #expect(SMSFixture.wait(seconds: 15) { !topology.replicas[0].process.isRunning })
        usleep(1_000_000)
        stop.store(true, ordering: .relaxed)
        usleep(300_000)
        let all = outcomes.withLock { $0 }
        #expect(all.keys.sorted() == [200], "answers by status: \(all)")
        #expect(before > 20 && (all[200] ?? 0) > before + 20, "\(before) before, \(all) in all")
        #expect(topology.replicas[0].process.terminationStatus == 0)
    }

    @Test func nginxLimits_agreeWithTheServers() throws {
        let config = try String(contentsOfFile: packageRoot + "/deploy/nginx.conf", encoding: .utf8)
        func value(_ directive: String) throws -> String {
            let line = try #require(config.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(directive + " ") })
            return String(line.trimmingCharacters(in: .whitespaces).dropFirst(directive.count + 1).dropLast())
        }
        func seconds(_ text: String) -> Int { Int(text.dropLast()) ?? 0 }
        let bodyLimit = try value("client_max_body_size")
        #expect(bodyLimit.hasSuffix("m"))
        let nginxBody = (Int(bodyLimit.dropLast()) ?? 0) << 20
        let readTimeout = seconds(try value("proxy_read_timeout"))
        let upstreamIdle = seconds(try value("keepalive_timeout"))

        let topology = try ProxyTopology()
        defer { topology.stop() }
        // Every route's body limit is below nginx's, so the server (not nginx) refuses large bodies, with its JSON error.
        let server = AppFixture.makeConfiguration().serverConfiguration
        let largest = topology.app.server.router.routes.map { $0.maxBodyBytes ?? server.maxBodyBytes }.max() ?? 0
        #expect(largest > 0 && largest < nginxBody, "largest route body limit \(largest), nginx \(nginxBody)")
        #expect(AppConfiguration().maxBodyBytes < nginxBody)
        // A long poll's longest wait fits in nginx's read time-out; nginx drops idle upstream connections before the server does.
        #expect(BoxControllerHandlers.maxWaitSeconds + 10 <= readTimeout, "proxy_read_timeout \(readTimeout) s")
        #expect(upstreamIdle > 0 && Double(upstreamIdle) < Double(server.keepAliveTimeout.components.seconds), "keepalive_timeout \(upstreamIdle) s")

        let staff = StaffClient(port: topology.proxy.port)
        let login = staff.call("POST", "/api/v1/auth/login", json: ["authority": topology.town.slug, "username": "anna", "password": topology.town.password])
        #expect(login?.status == 200, "\(login?.text ?? "no answer"); nginx: \(topology.proxy.errorLog)")
        // Over a small route's limit (login: 4 KiB): the server's own JSON 413 comes back through nginx.
        let small = try #require(StaffClient(port: topology.proxy.port).call("POST", "/api/v1/auth/login", body: "{\"username\":\"\(String(repeating: "x", count: 6000))\"}"))
        #expect(small.status == 413)
        #expect(small.text.contains("\"body_too_large\""), "the 413 came from nginx, not the server: \(small.text.prefix(200))")
        // Beyond nginx's limit: nginx refuses before the server sees it.
        let beyond = String(repeating: "x", count: nginxBody + 1000)
        #expect(staff.call("POST", "/api/v1/applications", body: "{\"familyName\":\"\(beyond)\"}")?.status == 413)
        // Between the server's largest limit (1 MiB) and nginx's: the server answers 413 before reading the
        // body and drains what the proxy still sends (in full from a trusted proxy), so nginx passes the
        // server's 413 on instead of a 502 from a reset connection. Three times, as it was a race.
        let between = String(repeating: "x", count: largest + 1000)
        for _ in 0..<3 {
            let refused = staff.call("POST", "/api/v1/applications", body: "{\"familyName\":\"\(between)\"}")
            #expect(refused?.status == 413, "nginx: \(topology.proxy.errorLog)")
            #expect(refused?.text.contains("\"body_too_large\"") == true)
        }
    }
}
