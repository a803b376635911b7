import Domain
import Foundation
import HTTPServer
import Postgres
import Synchronization

/// The public status check (DESIGN §4.7): coarse state only, no personal data, the same answer shape
/// for unknown and malformed numbers, rate-limited per client address.
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
                SELECT weekday, to_char(opens, 'HH24:MI'), to_char(closes, 'HH24:MI') FROM site_pickup_hours
                WHERE authority_id = \(authorityID) AND site_id = \(siteID) ORDER BY weekday, opens
                """).map { PickupHours(weekday: try $0.decode(Int.self, at: 0), opens: try $0.decode(String.self, at: 1), closes: try $0.decode(String.self, at: 2)) }
        }
    }

    static let unknown = StatusResponse(status: "unknown", readyUntil: nil, site: nil)

    static func routes(_ app: Application) -> [AppRoute] {
        let cache = SiteHoursCache()
        return [
            .open(.GET, "/api/v1/status/{vorgangsnummer}") { req in try status(app, req, cache: cache) },
        ]
    }

    /// `{"status":"unknown"}`, as JSONEncoder would write it.
    static let unknownBody = Array(#"{"status":"unknown"}"#.utf8)

    /// The hot path of the public check (one indexed lookup; the site part comes from a cache and the
    /// JSON is assembled from bytes, in the same sorted-key form JSONEncoder writes).
    static func status(_ app: Application, _ request: Request, cache: SiteHoursCache) throws -> Response {
        if let wait = app.statusLimiter.take(TrustedProxies.limiterKey(app.clientAddress(request))) {
            throw AppError.tooManyRequests(retryAfterSeconds: wait)
        }
        guard let number = try? Vorgangsnummer.parse(request.parameter("vorgangsnummer"), allowExternal: true) else {
            return .json(bytes: unknownBody)
        }
        // LIMIT 2: an external number used by two authorities is ambiguous and answered as unknown.
        let rows = try app.pool.query("""
            SELECT a.state, a.pickup_deadline::text, a.authority_id::text, a.site_id::text FROM application a
            WHERE a.vorgangsnummer = \(number.value) LIMIT 2
            """)
        guard rows.count == 1, let row = rows.first else { return .json(bytes: unknownBody) }
        let coarse: String
        switch try row.decode(String.self, at: 0) {
        case "registered", "in_production", "delivered", "assigned": coarse = "in_production"
        case "ready_in_box": coarse = "ready_in_box"
        case "retrieval_due", "ready_at_counter": coarse = "ready_at_counter"
        case "collected": coarse = "collected"
        default: return .json(bytes: unknownBody)
        }
        // Ids as text: the cache is keyed by them, and parsing UUIDs on every request costs more than the lookup.
        let site = try cache.siteJSON(authorityID: try row.decode(String.self, at: 2), siteID: try row.decode(String.self, at: 3), pool: app.pool)
        var body: [UInt8] = []
        body.reserveCapacity(site.count + 64)
        body.append(contentsOf: "{".utf8)
        if coarse == "ready_in_box", let until = try row.decode(String?.self, at: 1) {
            body.append(contentsOf: #""readyUntil":""#.utf8)
            body.append(contentsOf: until.utf8)   // YYYY-MM-DD from PostgreSQL: nothing to escape
            body.append(contentsOf: #"","#.utf8)
        }
        body.append(contentsOf: #""site":"#.utf8)
        body.append(contentsOf: site)
        body.append(contentsOf: #","status":""#.utf8)
        body.append(contentsOf: coarse.utf8)
        body.append(contentsOf: #""}"#.utf8)
        return .json(bytes: body)
    }
}

/// Sites and their pickup hours change rarely and are public: their JSON is kept for a minute.
final class SiteHoursCache: Sendable {
    private let entries = Mutex<[String: (fetched: Date, json: [UInt8])]>([:])
    static let lifetime: TimeInterval = 60

    func siteJSON(authorityID authorityText: String, siteID siteText: String, pool: PostgresPool) throws -> [UInt8] {
        let now = Date()
        if let hit = entries.withLock({ $0[siteText] }), now.timeIntervalSince(hit.fetched) < Self.lifetime {
            return hit.json
        }
        guard let authorityID = UUID(uuidString: authorityText), let siteID = UUID(uuidString: siteText) else { throw AppError.notFound("site") }
        let site = try pool.query("SELECT name, address FROM site WHERE authority_id = \(authorityID) AND id = \(siteID)")
        guard let s = site.first else { throw AppError.notFound("site") }
        let hours = try pool.withConnection { try StatusHandlers.PickupHours.load($0, authorityID: authorityID, siteID: siteID) }
        let json = try JSONCoding.encode(StatusHandlers.SiteInfo(name: try s.decode(String.self, at: 0), address: try s.decode(String.self, at: 1), pickupHours: hours))
        entries.withLock { $0[siteText] = (now, json) }
        return json
    }
}
