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
    }

    static let unknown = StatusResponse(status: "unknown", readyUntil: nil, site: nil)

    static func routes(_ app: Application) -> [AppRoute] {
        let cache = SiteHoursCache()
        return [
            .open(.GET, "/api/v1/status/{vorgangsnummer}") { req in try status(app, req, cache: cache) },
        ]
    }

    static func status(_ app: Application, _ request: Request, cache: SiteHoursCache) throws -> Response {
        if let wait = app.statusLimiter.take(request.remoteAddress) {
            throw AppError.tooManyRequests(retryAfterSeconds: wait)
        }
        guard let number = try? Vorgangsnummer.parse(request.parameter("vorgangsnummer"), allowExternal: true) else {
            return try .json(unknown)
        }
        // LIMIT 2: an external number used by two authorities is ambiguous and answered as unknown.
        let rows = try app.pool.query("""
            SELECT a.state, a.pickup_deadline::text, s.authority_id, s.id, s.name, s.address
            FROM application a JOIN site s ON s.authority_id = a.authority_id AND s.id = a.site_id
            WHERE a.vorgangsnummer = \(number.value) LIMIT 2
            """)
        guard rows.count == 1, let row = rows.first else { return try .json(unknown) }
        let coarse: String
        switch try row.decode(String.self, at: 0) {
        case "registered", "in_production", "delivered", "assigned": coarse = "in_production"
        case "ready_in_box": coarse = "ready_in_box"
        case "retrieval_due", "ready_at_counter": coarse = "ready_at_counter"
        case "collected": coarse = "collected"
        default: return try .json(unknown)
        }
        let authorityID = try row.decode(UUID.self, at: 2)
        let siteID = try row.decode(UUID.self, at: 3)
        let hours = try cache.hours(authorityID: authorityID, siteID: siteID, pool: app.pool)
        return try .json(StatusResponse(
            status: coarse,
            readyUntil: coarse == "ready_in_box" ? try row.decode(String?.self, at: 1) : nil,
            site: SiteInfo(name: try row.decode(String.self, at: 4), address: try row.decode(String.self, at: 5), pickupHours: hours)
        ))
    }
}

/// Pickup hours change rarely and are public: kept for a minute per site.
final class SiteHoursCache: Sendable {
    private let entries = Mutex<[UUID: (fetched: Date, hours: [StatusHandlers.PickupHours])]>([:])
    static let lifetime: TimeInterval = 60

    func hours(authorityID: UUID, siteID: UUID, pool: PostgresPool) throws -> [StatusHandlers.PickupHours] {
        let now = Date()
        if let hit = entries.withLock({ $0[siteID] }), now.timeIntervalSince(hit.fetched) < Self.lifetime {
            return hit.hours
        }
        let rows = try pool.query("""
            SELECT weekday, to_char(opens, 'HH24:MI'), to_char(closes, 'HH24:MI') FROM site_pickup_hours
            WHERE authority_id = \(authorityID) AND site_id = \(siteID) ORDER BY weekday, opens
            """)
        let hours = try rows.map { row in
            StatusHandlers.PickupHours(weekday: try row.decode(Int.self, at: 0), opens: try row.decode(String.self, at: 1), closes: try row.decode(String.self, at: 2))
        }
        entries.withLock { $0[siteID] = (now, hours) }
        return hours
    }
}
