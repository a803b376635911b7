import Foundation
import Postgres

/// Failed logins counted per account and per client address in PostgreSQL, so that every server
/// process sees the same counts. After too many failures within 15 minutes the key is blocked for
/// 15 minutes; a successful login clears the account's count.
struct LoginThrottle: Sendable {
    static let window: TimeInterval = 15 * 60
    let failuresPerAccount: Int
    let failuresPerAddress: Int

    static func accountKey(_ authority: UUID, _ username: String) -> String {
        "user:" + authority.uuidString.lowercased() + ":" + username
    }

    static func addressKey(_ address: String) -> String { "addr:" + address }

    /// Seconds until the earliest of the keys is unblocked, or nil when none is blocked.
    func blockedFor(_ keys: [String], on connection: PostgresConnection) throws -> Int? {
        let rows = try connection.query("""
            SELECT ceil(extract(epoch FROM max(blocked_until) - now()))::int8 FROM login_throttle
            WHERE key = ANY(\(keys)) AND blocked_until > now()
            """)
        guard let row = rows.first, !row.isNull(at: 0) else { return nil }
        return max(1, try row.decode(Int.self, at: 0))
    }

    func recordFailure(account: String, address: String, on connection: PostgresConnection) throws {
        for (key, limit) in [(account, failuresPerAccount), (address, failuresPerAddress)] {
            try connection.execute("""
                INSERT INTO login_throttle AS t (key, failures, window_start) VALUES (\(key), 1, now())
                ON CONFLICT (key) DO UPDATE SET
                    failures = CASE WHEN t.window_start < now() - interval '15 minutes' THEN 1 ELSE t.failures + 1 END,
                    window_start = CASE WHEN t.window_start < now() - interval '15 minutes' THEN now() ELSE t.window_start END,
                    blocked_until = CASE WHEN (CASE WHEN t.window_start < now() - interval '15 minutes' THEN 1 ELSE t.failures + 1 END) >= \(limit)
                                         THEN now() + interval '15 minutes' ELSE t.blocked_until END
                """)
        }
    }

    func recordSuccess(account: String, on connection: PostgresConnection) throws {
        try connection.execute("DELETE FROM login_throttle WHERE key = \(account)")
    }
}
