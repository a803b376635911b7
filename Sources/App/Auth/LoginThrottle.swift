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

    /// Counts this attempt against both keys *before* the password is checked, so that parallel
    /// guesses cannot all pass a check made before any of them was recorded. Returns the seconds to
    /// wait when a key is blocked (the attempt is then refused unchecked), else nil.
    func reserveAttempt(account: String, address: String, on connection: PostgresConnection) throws -> Int? {
        var wait: Int?
        for (key, limit) in [(account, failuresPerAccount), (address, failuresPerAddress)] {
            let row = try connection.query("""
                INSERT INTO login_throttle AS t (key, failures, window_start) VALUES (\(key), 1, now())
                ON CONFLICT (key) DO UPDATE SET
                    failures = CASE WHEN t.window_start < now() - interval '15 minutes' AND coalesce(t.blocked_until, now()) <= now()
                                    THEN 1 ELSE t.failures + 1 END,
                    window_start = CASE WHEN t.window_start < now() - interval '15 minutes' AND coalesce(t.blocked_until, now()) <= now()
                                        THEN now() ELSE t.window_start END
                RETURNING failures, ceil(extract(epoch FROM coalesce(blocked_until, now()) - now()))::int8
                """).first
            let failures = try row?.decode(Int.self, at: 0) ?? 0
            let blockedFor = try row?.decode(Int.self, at: 1) ?? 0
            if blockedFor > 0 {
                wait = max(wait ?? 0, blockedFor)
            } else if failures > limit {
                // Over the limit within the window: block from now on.
                try connection.execute("UPDATE login_throttle SET blocked_until = now() + interval '15 minutes' WHERE key = \(key)")
                wait = max(wait ?? 0, Int(Self.window))
            }
        }
        return wait
    }

    /// A successful login: the account's count is cleared and the address gets its attempt back.
    func recordSuccess(account: String, address: String, on connection: PostgresConnection) throws {
        try connection.execute("DELETE FROM login_throttle WHERE key = \(account)")
        try connection.execute("UPDATE login_throttle SET failures = greatest(failures - 1, 0) WHERE key = \(address)")
    }
}
