import Domain
import Foundation
import Logging
import Postgres

/// `pickupbox erase [--dry-run]`: an erasure pass now, or what it would erase, as text for the operator.
public enum ErasureReport {
    /// Another process is running a pass; nothing was done.
    public struct Busy: Error, CustomStringConvertible {
        public var description: String { "another process is running an erasure pass; try again when it has finished" }
    }

    /// Runs a pass (or only counts, with `dryRun`) and returns the report.
    public static func run(pool: PostgresPool, configuration: AppConfiguration, logger: Logger, dryRun: Bool, now: Date = Date()) throws -> String {
        let secret = try configuration.secretKey ?? configuration.developmentSecretKey()
        let cipher = TextCipher(secret: secret, previous: configuration.previousSecretKey, label: SMSOutbox.cipherLabel)
        let pass = ErasurePass(pool: pool, configuration: configuration, cipher: cipher, logger: logger)
        var lines = [policyLine(pass)]
        if dryRun {
            let preview = try pool.withConnection { try ErasurePreview.load($0, pass: pass, now: now) }
            lines.append("dry run: nothing is changed. The next pass would erase:")
            lines.append("  applications due: \(preview.applicationsClosed) closed more than \(pass.policy.daysAfterClose) days ago, "
                         + "\(preview.applicationsMaxAge) registered more than \(pass.policy.maxAgeDays) days ago")
            lines += table(preview.rows)
            lines.append("  oldest waiting: " + (preview.oldestDueSince.map { "due since " + timestamp($0) } ?? "nothing waits"))
            lines.append("  last pass finished: " + (preview.lastPassFinishedAt.map(timestamp) ?? "never"))
        } else {
            guard let outcome = try pass.run(now: now) else { throw Busy() }
            lines.append("erasure pass \(outcome.passID.uuidString.lowercased()) finished"
                         + (outcome.interruptedEarlier > 0 ? " (went on after \(outcome.interruptedEarlier) interrupted pass(es))" : ""))
            lines += table(outcome.totals)
            lines.append("  receipts written for \(outcome.receipts.count) authorit\(outcome.receipts.count == 1 ? "y" : "ies") (GET /api/v1/privacy/erasures)")
        }
        return lines.joined(separator: "\n")
    }

    static func policyLine(_ pass: ErasurePass) -> String {
        let p = pass.policy
        return "policy: personal data erased \(p.daysAfterClose) days after collection or cancellation, \(p.maxAgeDays) days after registration at most; "
            + "audit client addresses kept \(p.auditAddressDays) days" + (p.truncateAuditAddresses ? " (as /24 or /48 networks)" : "")
    }

    static func table(_ counts: ErasedTable.Counts) -> [String] {
        ErasedTable.allCases.map { "  " + $0.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0) + String(counts[$0] ?? 0) }
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
