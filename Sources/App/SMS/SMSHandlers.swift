import Foundation
import HTTPServer
import Postgres
import SMSGateway

/// The SMS routes (docs/ARCHITECTURE.md#sms): the outbox as staff see it, the dispatcher's state, the templates, and
/// the providers' delivery reports.
enum SMSHandlers {
    // MARK: - Messages

    struct Message: Codable {
        var id: UUID
        var applicationId: UUID?
        var kind: String
        var language: String
        var status: SMSStatus
        var attempts: Int
        var encoding: String?
        var segments: Int?
        /// The number with all but the last three digits hidden: enough to compare with the application.
        /// Absent once the application's personal data is erased.
        var to: String?
        var error: String?
        var createdAt: Date
        var nextAttemptAt: Date?
        var sentAt: Date?
        var finalAt: Date?
    }

    struct MessagePage: Codable {
        var items: [Message]
        var offset: Int
        var limit: Int
        var total: Int
    }


    static func messages(_ ctx: StaffContext, _ query: QueryParameters) throws -> Response {
        let limit = try Input.intParameter(query, "limit", default: 50, range: 1...200)
        let offset = try Input.intParameter(query, "offset", default: 0, range: 0...100_000)
        let status = try query["status"].map { text -> SMSStatus in
            guard let status = SMSStatus(rawValue: text) else {
                throw AppError.invalid("status", "invalid_parameter", "status must be one of \(SMSStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            return status
        }
        let application = try query["applicationId"].map { text -> UUID in
            guard let id = UUID(uuidString: text) else { throw AppError.invalid("applicationId", "invalid_parameter", "applicationId must be a UUID.") }
            return id
        }
        func filtered(_ prefix: String, _ suffix: String) -> PostgresQuery {
            """
            \(unsafeSQL: prefix)
            WHERE authority_id = \(ctx.authorityID)
              AND (\(status)::text IS NULL OR status = \(status))
              AND (\(application)::uuid IS NULL OR application_id = \(application))
            \(unsafeSQL: suffix)
            """
        }
        return try ctx.app.pool.withConnection { c in
            let total = try c.query(filtered("SELECT count(*)::int8 FROM sms_message", "")).first?.decode(Int.self, at: 0) ?? 0
            // limit and offset are validated integers, spliced as literals.
            let rows = try c.query(filtered("""
                SELECT id, application_id, template, language, status, attempts, encoding, segments, to_number, error, created_at,
                       CASE WHEN status = '\(SMSStatus.queued.rawValue)' THEN next_attempt_at END AS next_attempt_at, sent_at, final_at
                FROM sms_message
                """, "ORDER BY created_at DESC, id LIMIT \(limit) OFFSET \(offset)"))
            let items = try rows.map(message)
            return try .json(MessagePage(items: items, offset: offset, limit: limit, total: total))
        }
    }

    static func message(_ row: PostgresRow) throws -> Message {
        Message(id: try row.decode(UUID.self, column: "id"), applicationId: try row.decode(UUID?.self, column: "application_id"),
                kind: try row.decode(String.self, column: "template"), language: try row.decode(String.self, column: "language"),
                status: try row.decode(SMSStatus.self, column: "status"), attempts: try row.decode(Int.self, column: "attempts"),
                encoding: try row.decode(String?.self, column: "encoding"), segments: try row.decode(Int?.self, column: "segments"),
                to: try row.decode(String?.self, column: "to_number").map(mask), error: try row.decode(String?.self, column: "error"),
                createdAt: try row.decode(Date.self, column: "created_at"), nextAttemptAt: try row.decode(Date?.self, column: "next_attempt_at"),
                sentAt: try row.decode(Date?.self, column: "sent_at"), finalAt: try row.decode(Date?.self, column: "final_at"))
    }

    /// `+4915112345678` → `+49••••••••678`.
    static func mask(_ number: String) -> String {
        let characters = Array(number)
        guard characters.count > 6 else { return String(repeating: "•", count: characters.count) }
        return String(characters.prefix(3)) + String(repeating: "•", count: characters.count - 6) + String(characters.suffix(3))
    }

    // MARK: - Status

    struct Status: Codable {
        var provider: String
        var dispatcherInThisProcess: Bool
        var queued: Int
        var failedLast24Hours: Int
        var sentLastHour: Int
        var hourlyCap: Int
        /// The hourly cap is reached: sending pauses until the hour's count drops (all processes).
        var circuitOpen: Bool
    }

    static func status(_ ctx: StaffContext) throws -> Response {
        let settings = ctx.app.configuration.sms
        let row = try ctx.app.pool.query("""
            SELECT (SELECT count(*) FROM sms_message WHERE authority_id = \(ctx.authorityID)
                        AND status = ANY(\([SMSStatus.queued, .sending].map(\.rawValue))))::int8 AS queued,
                   (SELECT count(*) FROM sms_message WHERE authority_id = \(ctx.authorityID) AND status = ANY(\([SMSStatus.failed, .expired].map(\.rawValue)))
                        AND final_at > now() - interval '24 hours')::int8 AS failed,
                   (SELECT count(*) FROM sms_message WHERE authority_id = \(ctx.authorityID) AND sent_at > now() - interval '1 hour')::int8 AS sent,
                   (SELECT count(*) FROM sms_message WHERE sent_at > now() - interval '1 hour')::int8 AS sent_by_all
            """).first
        // Figures of the caller's authority only; whether the installation's hourly cap
        // holds sending back is one yes or no, not another authority's count.
        let sentByAll = try row?.decode(Int.self, column: "sent_by_all") ?? 0
        return try .json(Status(provider: settings.gateway.provider.rawValue, dispatcherInThisProcess: ctx.app.smsDispatcher != nil,
                                queued: try row?.decode(Int.self, column: "queued") ?? 0, failedLast24Hours: try row?.decode(Int.self, column: "failed") ?? 0,
                                sentLastHour: try row?.decode(Int.self, column: "sent") ?? 0, hourlyCap: settings.hourlyCap, circuitOpen: sentByAll >= settings.hourlyCap))
    }
}
