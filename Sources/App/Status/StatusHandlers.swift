import Domain
import Foundation
import HTTPServer
import Postgres

/// The public status check (docs/ARCHITECTURE.md#status-check): coarse state only, no personal data, the same answer shape
/// for unknown and malformed numbers, rate-limited per client address. `GET /status` (the page) and
/// `GET /api/v1/status/{vorgangsnummer}` (JSON) share the lookup and the site cache.
enum StatusHandlers {
    struct StatusResponse: Codable {
        /// `in_production`, `ready_in_box`, `ready_at_counter`, `collected` or `unknown`.
        let status: String
        /// Last day of pickup from the box (Europe/Berlin), for `ready_in_box`.
        let readyUntil: String?
        let site: SiteInfo?
    }

    struct SiteInfo: Codable {
        let name: String
        let address: String
        let pickupHours: [PickupHours]
    }

    struct PickupHours: Codable, Sendable {
        /// ISO weekday, 1 = Monday.
        let weekday: Int
        let opens: String
        let closes: String

        /// A site's weekly pickup hours, by weekday and opening time (the status page and the box both show them).
        static func load(_ connection: PostgresConnection, authorityID: UUID, siteID: UUID) throws -> [PickupHours] {
            try connection.query("""
                SELECT weekday, to_char(opens, 'HH24:MI') AS opens, to_char(closes, 'HH24:MI') AS closes FROM site_pickup_hours
                WHERE authority_id = \(authorityID) AND site_id = \(siteID) ORDER BY weekday, site_pickup_hours.opens
                """).map { PickupHours(weekday: try $0.decode(Int.self, column: "weekday"), opens: try $0.decode(String.self, column: "opens"),
                                   closes: try $0.decode(String.self, column: "closes")) }
        }
    }

    /// What a lookup found: the coarse state, the deadline and the site (ids as text, the cache's keys).
    struct Found {
        let status: PublicStatus
        /// `YYYY-MM-DD`, for `ready_in_box`.
        let readyUntil: String?
        let authorityID: String
        let siteID: String
        /// For `ready_in_box`: the box's pickups are blocked (too many failed attempts) until then.
        var pickupsBlockedUntil: Date? = nil
    }

    /// The rate limit of the public check (API and page alike): nil, or the seconds to wait.
    static func limited(_ app: Application, _ request: Request) -> Int? {
        app.statusLimiter.take(TrustedProxies.limiterKey(app.clientAddress(request)))
    }

    /// One indexed lookup. nil for malformed, unknown, ambiguous and cancelled numbers alike.
    static func lookup(_ app: Application, _ text: String) throws -> Found? {
        guard let number = try? Vorgangsnummer.parse(text, allowExternal: true) else { return nil }
        return try found(in: app.readPool.query(lookupQuery(number)))
    }

    /// The lookup's one statement. LIMIT 2: an external number used by two authorities is ambiguous
    /// and answered as unknown.
    static func lookupQuery(_ number: Vorgangsnummer) -> PostgresQuery {
        """
        SELECT a.state, a.pickup_deadline::text AS pickup_deadline, a.authority_id::text AS authority_id, a.site_id::text AS site_id,
               CASE WHEN a.state = \(ApplicationState.readyInBox.rawValue) THEN (
                   SELECT b.pickups_blocked_until FROM assignment asg
                   JOIN compartment c ON c.authority_id = asg.authority_id AND c.id = asg.compartment_id
                   JOIN box b ON b.authority_id = c.authority_id AND b.id = c.box_id
                   WHERE asg.authority_id = a.authority_id AND asg.id = a.assignment_id AND b.pickups_blocked_until > now())
               END AS pickups_blocked_until
        FROM application a
        WHERE a.vorgangsnummer = \(number.value) LIMIT 2
        """
    }

    /// What the lookup's rows say: nil unless exactly one application with a public state.
    static func found(in rows: PostgresRows) throws -> Found? {
        guard rows.count == 1, let row = rows.first, let state = ApplicationState(rawValue: try row.decode(String.self, column: "state")) else { return nil }
        let status = PublicStatus(state)
        guard status != .unknown else { return nil }
        return Found(status: status, readyUntil: status == .readyInBox ? try row.decode(String?.self, column: "pickup_deadline") : nil,
                     authorityID: try row.decode(String.self, column: "authority_id"), siteID: try row.decode(String.self, column: "site_id"),
                     pickupsBlockedUntil: try row.decode(Date?.self, column: "pickups_blocked_until"))
    }

    /// RFC 3339 in UTC to the second, as JSONEncoder's `.iso8601` writes it.
    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: .gmt))
    }

    /// `{"status":"unknown"}`, as JSONEncoder would write it.
    static let unknownBody = Array(#"{"status":"unknown"}"#.utf8)

    /// The public check, answered on the event loop: the rate limit and the number's form are checked
    /// there, the lookup goes out on the loop's own pipelined connection (``LoopDatabase``) and is
    /// answered when its row comes back, with the site from the cache. While that connection is not up
    /// (or is full), and when the site is not cached, the rest runs on a worker with the pool, as before.
    static func status(_ app: Application, _ request: Request, _ responder: Responder) throws {
        if let wait = limited(app, request) {
            throw AppError.tooManyRequests(retryAfterSeconds: wait)
        }
        guard let number = try? Vorgangsnummer.parse(request.parameter("vorgangsnummer"), allowExternal: true) else {
            responder.respond(.json(bytes: unknownBody))
            return
        }
        try lookUp(app, number, responder) { found in
            guard let found else { return .json(bytes: unknownBody) }
            return app.publicSites.cached(authorityID: found.authorityID, siteID: found.siteID).map { body(found, site: $0.json) }
        } onWorker: { lookup in
            try answer(app, found: lookup())
        }
    }

    /// The look-up of `number`, for the API and the page alike. On the event loop's pipelined connection
    /// (``LoopDatabase``) when it takes the statement: `onLoop` answers on the loop with what was found, or
    /// returns nil (a site not cached) for `onWorker`. Otherwise, and when the statement failed there (the
    /// connection went away under it, or the server skipped it after another statement of its round
    /// failed), `onWorker` answers on a worker and its `lookup` asks the pool. Off a loop, `onWorker` runs here.
    static func lookUp(_ app: Application, _ number: Vorgangsnummer, _ responder: Responder,
                       onLoop: @escaping (Found?) throws -> Response?,
                       onWorker: @escaping @Sendable (_ lookup: () throws -> Found?) throws -> Response) throws {
        let askThePool: @Sendable () throws -> Found? = { try lookup(app, number.value) }
        guard let context = EventLoopContext.current else { return responder.respond(try onWorker(askThePool)) }
        let sent = LoopDatabase.on(context, pool: app.readPool, logger: app.logger).send(lookupQuery(number)) { result in
            guard case .success(let rows) = result else {
                app.metrics.countStatusLookup(pipelined: false)
                return offload(context, responder) { try onWorker(askThePool) }
            }
            do {
                let found = try found(in: rows)
                if let response = try onLoop(found) { return responder.respond(response) }
                offload(context, responder) { try onWorker { found } }
            } catch {
                responder.fail(error)
            }
        }
        app.metrics.countStatusLookup(pipelined: sent)
        if !sent { offload(context, responder) { try onWorker(askThePool) } }
    }

    /// Runs `answer` on a worker and responds with it (503 when the workers' queue is full).
    static func offload(_ context: EventLoopContext, _ responder: Responder, _ answer: @escaping @Sendable () throws -> Response) {
        let queued = context.offload {
            do { responder.respond(try answer()) } catch { responder.fail(error) }
        }
        if !queued { responder.respond(.serverBusy) }
    }

    /// The answer to a lookup; a site not cached is read on the calling (worker) thread.
    static func answer(_ app: Application, found: Found?) throws -> Response {
        guard let found else { return .json(bytes: unknownBody) }
        return body(found, site: try app.publicSites.site(authorityID: found.authorityID, siteID: found.siteID, pool: app.readPool).json)
    }

    /// The JSON answer, assembled from bytes in the same sorted-key form JSONEncoder writes.
    static func body(_ found: Found, site: [UInt8]) -> Response {
        var body: [UInt8] = []
        body.reserveCapacity(site.count + 64)
        body.append(contentsOf: "{".utf8)
        if let blocked = found.pickupsBlockedUntil {
            body.append(contentsOf: #""pickupsBlockedUntil":""#.utf8)
            body.append(contentsOf: Self.timestamp(blocked).utf8)
            body.append(contentsOf: #"","#.utf8)
        }
        if let until = found.readyUntil {
            body.append(contentsOf: #""readyUntil":""#.utf8)
            body.append(contentsOf: until.utf8)   // YYYY-MM-DD from PostgreSQL: nothing to escape
            body.append(contentsOf: #"","#.utf8)
        }
        body.append(contentsOf: #""site":"#.utf8)
        body.append(contentsOf: site)
        body.append(contentsOf: #","status":""#.utf8)
        body.append(contentsOf: found.status.rawValue.utf8)
        body.append(contentsOf: #""}"#.utf8)
        return .json(bytes: body)
    }
}

/// Sites with their hours, exceptions and pickup settings change rarely and are public: they are
/// kept for a minute (with the API's JSON of them).
final class SiteHoursCache: Sendable {
    /// A class, so that a hit copies one reference out of the lock, not every field of the site.
    final class Entry: Sendable {
        let fetched: Date
        let site: SiteDTO.Site
        let json: [UInt8]

        init(fetched: Date, site: SiteDTO.Site, json: [UInt8]) {
            self.fetched = fetched
            self.site = site
            self.json = json
        }
    }

    private let entries = ReadMostly<[String: Entry]>([:])
    static let lifetime: TimeInterval = 60

    /// The site if it is cached and fresh; never touches the database (for the event loop).
    func cached(authorityID authorityText: String, siteID siteText: String) -> Entry? {
        guard let hit = entries.read({ $0[siteText] }), Date().timeIntervalSince(hit.fetched) < Self.lifetime else { return nil }
        return hit
    }

    func site(authorityID authorityText: String, siteID siteText: String, pool: PostgresPool) throws -> Entry {
        let now = Date()
        if let hit = entries.read({ $0[siteText] }), now.timeIntervalSince(hit.fetched) < Self.lifetime {
            return hit
        }
        guard let authorityID = UUID(uuidString: authorityText), let siteID = UUID(uuidString: siteText) else { throw AppError.notFound("site") }
        let site = try pool.withConnection { try SiteStore.fetch($0, authorityID: authorityID, id: siteID) }
        let json = try JSONCoding.encode(StatusHandlers.SiteInfo(
            name: site.name, address: site.address,
            pickupHours: site.hours.map { StatusHandlers.PickupHours(weekday: $0.weekday, opens: $0.opens, closes: $0.closes) }))
        let entry = Entry(fetched: now, site: site, json: json)
        entries.write { $0[siteText] = entry }
        return entry
    }
}
