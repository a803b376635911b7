import Domain
import Foundation
import Postgres
import Synchronization

/// Failed logins, counted in PostgreSQL so that every server process sees the same counts (docs/ARCHITECTURE.md#sessions).
///
/// - A client **address** (IPv6 by its /64) over `failuresPerAddress` within 15 minutes is blocked for
///   15 minutes; its attempts are then refused before anything else is looked at, so an address that is
///   blocked never counts against an account. Blocks are also remembered in the process, so a client
///   hammering from a blocked address costs no database round trip.
/// - An **account** is guarded per origin: failures from addresses the user has not logged in from in the
///   last 30 days count on the account, with a delay that doubles past `failuresPerAccount` (2 s … 15 min);
///   failures from an address she logged in from count on that account-and-address pair alone. Strangers
///   can therefore slow down guessing at `anna` without stopping `anna` at her usual desk.
/// - Attempts at unknown authorities or users count on the address only: they create no rows.
/// - Rows expire (`expires_at`) and `purge` deletes them.
final class LoginThrottle: Sendable {
    /// An address's counting window and block.
    static let addressWindow = 15 * 60
    /// How long an account remembers failures after the last one.
    static let accountMemory = 24 * 3600
    /// An address the user logged in from within this time is one of hers.
    static let knownAddressDays = 30
    /// Most blocked addresses remembered in the process (a full cache is emptied and the database answers).
    static let cacheCapacity = 10_000

    let account: LoginBackoff
    let address: LoginBackoff
    private let blockedAddresses = Mutex<[String: ContinuousClock.Instant]>([:])

    init(failuresPerAccount: Int, failuresPerAddress: Int) {
        account = LoginBackoff(freeFailures: failuresPerAccount, maximumSeconds: Self.addressWindow)
        address = LoginBackoff(freeFailures: failuresPerAddress, maximumSeconds: Self.addressWindow)
    }

    static func addressKey(_ limiterKey: String) -> String { "addr:" + limiterKey }

    /// The key an attempt at a known account counts on: the account itself from an unknown address, the
    /// account with the address from one the user logged in from recently.
    static func accountKey(_ authority: UUID, _ username: String, knownAddress: String?) -> String {
        "user:" + authority.uuidString.lowercased() + ":" + username + (knownAddress.map { "@" + $0 } ?? "")
    }

    /// Seconds the address stays blocked, as this process remembers it (no database round trip), or nil.
    func cachedBlock(address key: String) -> Int? {
        let now = ContinuousClock.now
        return blockedAddresses.withLock { cache -> Int? in
            guard let until = cache[key] else { return nil }
            guard until > now else {
                cache[key] = nil
                return nil
            }
            return max(1, Int((until - now).components.seconds))
        }
    }

    private func remember(address key: String, seconds: Int) {
        let now = ContinuousClock.now
        blockedAddresses.withLock { cache in
            if cache.count >= Self.cacheCapacity { cache = cache.filter { $0.value > now } }
            if cache.count >= Self.cacheCapacity { cache.removeAll() }
            cache[key] = now + .seconds(seconds)
        }
    }

    /// Counts this attempt *before* the password is checked, so that parallel guesses cannot all pass a
    /// check made before any of them was recorded: first against the address — when it is blocked, the
    /// attempt is refused and the account is not touched — then against `account` (nil for unknown
    /// accounts). Returns the seconds to wait when the attempt is refused unchecked, else nil.
    func reserveAttempt(account accountKey: String?, address addressKey: String, on connection: PostgresConnection) throws -> Int? {
        let row = try connection.query("""
            INSERT INTO login_throttle AS t (key, failures, window_start, expires_at)
            VALUES (\(addressKey), 1, now(), now() + make_interval(secs => \(Self.addressWindow)))
            ON CONFLICT (key) DO UPDATE SET
                failures = CASE WHEN t.window_start < now() - make_interval(secs => \(Self.addressWindow)) AND coalesce(t.blocked_until, now()) <= now()
                                THEN 1 ELSE t.failures + 1 END,
                window_start = CASE WHEN t.window_start < now() - make_interval(secs => \(Self.addressWindow)) AND coalesce(t.blocked_until, now()) <= now()
                                    THEN now() ELSE t.window_start END,
                expires_at = greatest(t.expires_at, now() + make_interval(secs => \(Self.addressWindow)))
            RETURNING failures, ceil(extract(epoch FROM coalesce(blocked_until, now()) - now()))::int8 AS blocked_seconds
            """).first
        let addressFailures = try row?.decode(Int.self, column: "failures") ?? 0
        var blockedFor = try row?.decode(Int.self, column: "blocked_seconds") ?? 0
        if blockedFor <= 0 {
            blockedFor = address.addressBlockSeconds(afterFailures: addressFailures)
            if blockedFor > 0 { try block(addressKey, seconds: blockedFor, on: connection) }
        }
        if blockedFor > 0 {
            remember(address: addressKey, seconds: blockedFor)
            return blockedFor
        }
        guard let accountKey else { return nil }
        // A failure while the account is blocked is not counted: it was refused unchecked.
        let counted = try connection.query("""
            INSERT INTO login_throttle AS t (key, failures, window_start, expires_at)
            VALUES (\(accountKey), 1, now(), now() + make_interval(secs => \(Self.accountMemory)))
            ON CONFLICT (key) DO UPDATE SET
                failures = CASE WHEN t.blocked_until > now() THEN t.failures
                                WHEN t.window_start < now() - make_interval(secs => \(Self.accountMemory)) THEN 1
                                ELSE t.failures + 1 END,
                window_start = CASE WHEN t.blocked_until > now() THEN t.window_start ELSE now() END,
                expires_at = greatest(t.expires_at, now() + make_interval(secs => \(Self.accountMemory)))
            RETURNING failures, ceil(extract(epoch FROM coalesce(blocked_until, now()) - now()))::int8 AS blocked_seconds
            """).first
        let wait = try counted?.decode(Int.self, column: "blocked_seconds") ?? 0
        if wait > 0 { return wait }
        let delay = self.account.accountDelaySeconds(afterFailures: try counted?.decode(Int.self, column: "failures") ?? 0)
        guard delay > 0 else { return nil }
        try block(accountKey, seconds: delay, on: connection)
        return delay
    }

    private func block(_ key: String, seconds: Int, on connection: PostgresConnection) throws {
        try connection.execute("""
            UPDATE login_throttle SET blocked_until = now() + make_interval(secs => \(seconds)),
                expires_at = greatest(expires_at, now() + make_interval(secs => \(seconds)))
            WHERE key = \(key)
            """)
    }

    /// A successful login: the counter it went through is cleared and the address gets its attempt back.
    /// (Failures that strangers ran up on the account stay: a login from a known address skips them.)
    func recordSuccess(account accountKey: String, address addressKey: String, on connection: PostgresConnection) throws {
        try connection.execute("DELETE FROM login_throttle WHERE key = \(accountKey)")
        try connection.execute("UPDATE login_throttle SET failures = greatest(failures - 1, 0) WHERE key = \(addressKey)")
    }

    /// Deletes the rows that no longer matter; returns how many.
    @discardableResult
    static func purge(_ pool: PostgresPool) throws -> Int {
        try pool.withConnection { try $0.execute("DELETE FROM login_throttle WHERE expires_at < now() AND coalesce(blocked_until, now()) <= now()") }
    }
}
