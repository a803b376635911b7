import Crypto
import DecimalParsing
import Foundation
import Postgres

/// `pickupbox audit verify|anchor`: the audit chains as text for the operator.
public enum AuditReport {
    /// A refused command line (the operator's input, not an HTTP answer).
    public struct Refusal: Error, CustomStringConvertible {
        public let description: String
    }

    /// One authority's chain head, for writing down elsewhere (a daily anchor).
    struct Anchor: Equatable {
        let authority: String
        let position: Int64
        let hash: [UInt8]

        /// `slug:position:hash` as `anchor` prints it.
        init(_ text: String) throws {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 3, let position = Int64(decimal: parts[1], allowingSign: true), position >= 1, parts[2].utf8.count == 64,
                  let hash = Self.bytes(hex: String(parts[2])) else {
                throw Refusal(description: "--anchor is <authority slug>:<position>:<64 hex digits>, as `pickupbox audit anchor` prints it")
            }
            authority = String(parts[0])
            self.position = position
            self.hash = hash
        }

        static func bytes(hex: String) -> [UInt8]? {
            let digits = Array(hex.utf8)
            guard digits.count % 2 == 0 else { return nil }
            var bytes: [UInt8] = []
            for i in stride(from: 0, to: digits.count, by: 2) {
                guard let byte = UInt8(String(decoding: digits[i...i + 1], as: UTF8.self), radix: 16) else { return nil }
                bytes.append(byte)
            }
            return bytes
        }
    }

    /// Every authority (or the one named by `slug`) with its label: the slug, or the id of events whose
    /// authority row is gone.
    static func authorities(_ c: PostgresConnection, slug: String?) throws -> [(UUID, String)] {
        let rows = try c.query("""
            SELECT coalesce(a.id, ch.authority_id) AS id, coalesce(a.slug, ch.authority_id::text) AS slug
            FROM authority a FULL JOIN audit_chain ch ON ch.authority_id = a.id
            WHERE \(slug)::text IS NULL OR a.slug = \(slug)
            ORDER BY slug
            """)
        return try rows.map { (try $0.decode(UUID.self, column: "id"), try $0.decode(String.self, column: "slug")) }
    }

    /// Checks every chain (and the given anchors); the report, and whether everything fits.
    public static func verify(pool: PostgresPool, authority slug: String?, anchors texts: [String]) throws -> (report: String, intact: Bool) {
        let anchors = try texts.map(Anchor.init)
        return try pool.withConnection { c in
            let authorities = try authorities(c, slug: slug)
            if let slug, authorities.isEmpty { throw Refusal(description: "no authority '\(slug)'") }
            for anchor in anchors where !authorities.contains(where: { $0.1 == anchor.authority }) && slug == nil {
                throw Refusal(description: "no authority '\(anchor.authority)' for --anchor")
            }
            var lines: [String] = [], intact = true
            for (id, label) in authorities {
                var result = try AuditChain.verify(c, authorityID: id)
                for anchor in anchors where anchor.authority == label {
                    if try AuditChain.hash(c, authorityID: id, position: anchor.position) != anchor.hash {
                        result.anchorMismatch = "the anchor at position \(anchor.position) is not in the chain: events up to it were changed or deleted"
                    }
                }
                intact = intact && result.isIntact
                lines.append(line(label, result))
            }
            if authorities.isEmpty { lines.append("no authorities") }
            return (lines.joined(separator: "\n"), intact)
        }
    }

    static func line(_ label: String, _ r: AuditChain.Result) -> String {
        var text = label + ": "
        if let broken = r.broken {
            text += "BROKEN — " + broken.description
        } else if let mismatch = r.anchorMismatch {
            text += "BROKEN — " + mismatch
        } else {
            text += r.headSeq == 0 ? "intact — no sealed events" : "intact — positions 1–\(r.headSeq), head \(Crypto.hex(r.headHash))"
        }
        if r.unsealed > 0 {
            text += "; \(r.unsealed) event(s) not sealed yet" + (r.oldestUnsealed.map { " (oldest \($0.formatted(.iso8601)))" } ?? "")
        }
        return text
    }

    /// Seals what is committed, then prints every authority's head as `slug:position:hash sealed-at`,
    /// the form `verify --anchor` takes.
    public static func anchor(pool: PostgresPool) throws -> String {
        _ = try AuditSealer.sealPending(pool, wait: true)
        return try pool.withConnection { c in
            let rows = try c.query("""
                SELECT coalesce(a.slug, ch.authority_id::text) AS authority, ch.seq, ch.head, ch.sealed_at
                FROM audit_chain ch LEFT JOIN authority a ON a.id = ch.authority_id
                ORDER BY authority
                """)
            let lines = try rows.map { row in
                "\(try row.decode(String.self, column: "authority")):\(try row.decode(Int64.self, column: "seq")):\(Crypto.hex(try row.decode([UInt8].self, column: "head"))) "
                    + (try row.decode(Date.self, column: "sealed_at")).formatted(.iso8601)
            }
            return lines.isEmpty ? "no sealed events yet" : lines.joined(separator: "\n")
        }
    }
}
