import Crypto
import Foundation
import Logging
import Postgres

/// Seals committed audit events into their authority's hash chain (``AuditChain``), in every server
/// process: once a second, the process that gets the advisory lock reads every authority's unsealed
/// events in id order (at most ``batch`` per authority and transaction), computes their hashes and hands
/// them to `audit_event_seal`, which places them after the head under the lock of the authority's
/// `audit_chain` row — and refuses if the head moved. Writers never wait for it; an event is in the chain
/// about a second after its transaction committed, and the chain stays linear however many processes
/// (or `pickupbox audit anchor`) seal at once.
///
/// The hashes are computed here rather than in SQL: the same encoding ``AuditChain/verify`` checks, at a
/// few microseconds per event (a PL/pgSQL sealer took ~240 µs per event — a third of the CPU at 1,000
/// registrations a second on two cores).
final class AuditSealer: Sendable {
    static let lockKey: Int64 = 0x7069_636B_6175_6469   // "pickaudi"
    static let batch = 1000
    static let interval: TimeInterval = 1

    private let pool: PostgresPool
    private let logger: Logger
    private let stop = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)

    init(pool: PostgresPool, logger: Logger) {
        self.pool = pool
        self.logger = logger
    }

    func start() {
        let thread = Thread { [self] in
            while stop.wait(timeout: .now() + Self.interval) == .timedOut {
                do {
                    _ = try Self.sealPending(pool)
                } catch {
                    logger.warning("sealing the audit log failed; the next pass goes on", metadata: ["error": "\(error)"])
                }
            }
            stopped.signal()
        }
        thread.name = "pickupbox-audit-sealer"
        thread.start()
    }

    func shutdown() {
        stop.signal()
        _ = stopped.wait(timeout: .now() + 5)
    }

    /// Seals everything committed so far, a batch per authority and transaction; nil when another process
    /// holds the sealer's lock (it seals them), else how many events were sealed.
    @discardableResult
    static func sealPending(_ pool: PostgresPool, wait: Bool = false) throws -> Int? {
        var total = 0
        while true {
            // (events sealed, whether an authority had a full batch: more may wait)
            let pass = try pool.transaction { c -> (Int, Bool)? in
                if wait {
                    try c.query("SELECT pg_advisory_xact_lock(\(lockKey))")
                } else if try c.query("SELECT pg_try_advisory_xact_lock(\(lockKey))").first?.decode(Bool.self, at: 0) != true {
                    return nil
                }
                var sealed = 0, full = false
                for row in try c.query("SELECT DISTINCT authority_id FROM audit_event WHERE hash IS NULL") {
                    let count = try seal(c, authorityID: try row.decode(UUID.self, column: "authority_id"))
                    sealed += count
                    full = full || count == batch
                }
                return (sealed, full)
            }
            guard let (sealed, more) = pass else { return total > 0 ? total : nil }
            total += sealed
            if !more { return total }
        }
    }

    /// Seals the oldest unsealed events of one authority after its head; returns how many (0 when the
    /// head moved meanwhile: the next pass takes them).
    static func seal(_ c: PostgresConnection, authorityID: UUID) throws -> Int {
        var position: Int64 = 0
        var head = AuditChain.genesis
        if let row = try c.query("SELECT seq, head FROM audit_chain WHERE authority_id = \(authorityID)").first {
            position = try row.decode(Int64.self, column: "seq")
            head = try row.decode([UInt8].self, column: "head")
        }
        let from = (position, head)
        let events = try c.query("""
            SELECT \(unsafeSQL: AuditChain.Event.columns) FROM audit_event
            WHERE authority_id = \(authorityID) AND hash IS NULL ORDER BY id LIMIT \(batch)
            """).map(AuditChain.Event.init)
        guard !events.isEmpty else { return 0 }
        var hashes: [String] = [], salts: [String] = [], digests: [String] = []
        for event in events {
            position += 1
            var digest: [UInt8]?
            var salt: [UInt8] = []
            if let address = event.clientAddress {
                salt = Crypto.randomBytes(16)
                digest = AuditChain.Event.addressDigest(salt: salt, address: address)
            }
            head = Crypto.sha256(head + event.canonical(position: position, addressDigest: digest))
            hashes.append(bytea(head))
            salts.append(bytea(salt))
            digests.append(bytea(digest ?? []))
        }
        let placed = try c.query("""
            SELECT audit_event_seal(\(authorityID), \(from.0), \(from.1), \(events.map(\.id))::int8[], \(hashes)::bytea[], \(salts)::bytea[], \(digests)::bytea[])
            """).first?.decode(Bool.self, at: 0)
        return placed == true ? events.count : 0
    }

    /// `\x…`: a bytea in an array parameter (empty: none, which `audit_event_seal` stores as NULL).
    private static func bytea(_ bytes: [UInt8]) -> String { "\\x" + Crypto.hex(bytes) }
}
