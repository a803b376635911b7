import Crypto
import Foundation
import HTTPServer
import Logging
import Postgres
import SMSGateway

/// `POST /api/v1/sms/delivery-reports/{provider}` (docs/ARCHITECTURE.md#sms): the configured provider tells us what
/// became of a message. Authenticated by the provider's own scheme — our webhook: HMAC-SHA256 of
/// `X-Timestamp` "." body with `SMS_DLR_SECRET` in `X-Signature`; seven: its signed webhooks
/// (`SMS_DLR_SECRET` is the signing secret, `SMS_CALLBACK_URL` the signed URL); twilio:
/// `X-Twilio-Signature` with the auth token and `SMS_CALLBACK_URL`. A forged or unsigned report, or one
/// whose signed timestamp is more than 5 minutes off, is refused (401); a report for a message we do
/// not know is logged and answered 200, since providers retry anything else for days. Each report is
/// applied once: a replay within the window (or, for twilio, the same message SID and
/// status again) is acknowledged and changes nothing.
enum SMSDeliveryReports {
    struct Answer: Codable {
        var reports: Int
        var applied: Int
        var unknown: Int
        /// Reports seen before: acknowledged, nothing changed.
        var replayed: Int
    }

    /// How long a once-only key is kept: past the signed timestamp's window (webhook, seven) a replay fails
    /// the signature check anyway; twilio signs no time, so its keys are kept longer than any report arrives.
    static func receiptSeconds(_ provider: SMSProviderName) -> Int {
        provider == .twilio ? 7 * 24 * 3600 : 3 * DeliveryReports.replayWindowSeconds
    }

    /// The provider this server sends through, when the report is for it and carries its valid
    /// signature (checked once the body is here: the signature covers it). `AppRoute.provider` calls
    /// this before the handler; an unsigned request was refused from its head already.
    static func authenticate(_ app: Application, _ request: Request) throws -> SMSProviderName {
        let gateway = app.configuration.sms.gateway
        guard let provider = SMSProviderName(rawValue: request.parameter("provider")), provider == gateway.provider, provider != .console else {
            throw AppError.notFound("delivery-report endpoint (this server sends through \(gateway.provider.rawValue))")
        }
        guard authentic(request, provider: provider, gateway: gateway) else {
            app.logger.warning("delivery report refused: signature missing or wrong", metadata: ["sms.provider": "\(provider.rawValue)", "client": "\(app.clientAddress(request))"])
            throw unsigned
        }
        return provider
    }

    static func receive(_ app: Application, _ request: Request, _ provider: SMSProviderName) throws -> Response {
        let reports: [DeliveryReports.Report]
        do {
            reports = try DeliveryReports.parse(provider: provider, body: request.body, contentType: request.headers["Content-Type"])
        } catch {
            throw AppError(.badRequest, "unreadable_report", "The delivery report is not in the \(provider.rawValue) shape.")
        }
        let keys = DeliveryReports.onceKeys(provider: provider, timestampHeader: request.headers["X-Timestamp"],
                                            signatureHeader: request.headers["X-Signature"], nonceHeader: request.headers["X-Nonce"], reports: reports)
        var answer = Answer(reports: reports.count, applied: 0, unknown: 0, replayed: 0)
        try app.pool.transaction { c in
            answer.applied = 0
            answer.unknown = 0
            answer.replayed = 0
            for (report, key) in zip(reports, keys) {
                guard try firstTime(c, key: key, seconds: receiptSeconds(provider)) else {
                    answer.replayed += 1
                    continue
                }
                switch try apply(report, provider: provider, c) {
                case .applied: answer.applied += 1
                case .unknown:
                    answer.unknown += 1
                    // Our reference is a random id and the provider's id is theirs: neither is personal data.
                    app.logger.warning("delivery report for an unknown message", metadata: [
                        "sms.provider": "\(provider.rawValue)", "sms.reference": "\(report.reference?.prefix(64) ?? "-")",
                        "sms.provider_id": "\(report.providerID?.prefix(64) ?? "-")",
                    ])
                case .ignored: break
                }
            }
        }
        if answer.replayed > 0 {
            app.logger.warning("replayed delivery reports ignored", metadata: ["sms.provider": "\(provider.rawValue)", "sms.replayed": "\(answer.replayed)"])
        }
        return try .json(answer)
    }

    static let unsigned = AppError(.unauthorized, "invalid_signature", "The delivery report is not signed with this server's secret.")

    /// True when the request carries one of the providers' signature headers (checked before the body is read).
    static func isSigned(_ request: Request) -> Bool {
        request.headers["X-Signature"] != nil || request.headers["X-Twilio-Signature"] != nil
    }

    /// Records the report's once-only key; false when it was recorded before (a replay). Inside the
    /// transaction that applies the report: a report that fails to apply leaves no key behind.
    static func firstTime(_ c: PostgresConnection, key: String, seconds: Int) throws -> Bool {
        try !c.query("""
            INSERT INTO sms_report_receipt (key_hash, expires_at) VALUES (\(Crypto.sha256(Array(key.utf8))), now() + make_interval(secs => \(seconds)))
            ON CONFLICT (key_hash) DO NOTHING
            RETURNING 1
            """).isEmpty
    }

    /// Deletes once-only keys that no replay could use any more; returns how many.
    @discardableResult
    static func purge(_ pool: PostgresPool) throws -> Int {
        try pool.withConnection { try $0.execute("DELETE FROM sms_report_receipt WHERE expires_at < now()") }
    }

    static func authentic(_ request: Request, provider: SMSProviderName, gateway: SMSEnvironment) -> Bool {
        switch provider {
        case .webhook:
            guard let secret = gateway.deliveryReportSecret else { return false }
            return DeliveryReports.verifyWebhook(body: request.body, timestampHeader: request.headers["X-Timestamp"],
                                                 signatureHeader: request.headers["X-Signature"], secret: secret, now: Int(Date().timeIntervalSince1970))
        case .seven:
            guard let secret = gateway.deliveryReportSecret, let url = gateway.configuration.callbackURL else { return false }
            return DeliveryReports.verifySeven(method: "POST", url: url, body: request.body, timestampHeader: request.headers["X-Timestamp"],
                                               nonceHeader: request.headers["X-Nonce"], signatureHeader: request.headers["X-Signature"],
                                               signingSecret: secret, now: Int(Date().timeIntervalSince1970))
        case .twilio:
            guard let token = gateway.configuration.token, let colon = token.firstIndex(of: ":"), let url = gateway.configuration.callbackURL else { return false }
            return DeliveryReports.verifyTwilio(url: url, formParameters: DeliveryReports.formParameters(request.body),
                                                signatureHeader: request.headers["X-Twilio-Signature"], authToken: String(token[token.index(after: colon)...]))
        case .console:
            return false
        }
    }

    enum Outcome { case applied, unknown, ignored }

    static func apply(_ report: DeliveryReports.Report, provider: SMSProviderName, _ c: PostgresConnection) throws -> Outcome {
        let rows: PostgresRows
        if let reference = report.reference, let id = UUID(uuidString: reference) {
            rows = try c.query("SELECT authority_id, id, application_id, template, status FROM sms_message WHERE id = \(id) FOR UPDATE")
        } else if let providerID = report.providerID {
            rows = try c.query("""
                SELECT authority_id, id, application_id, template, status FROM sms_message
                WHERE provider = \(provider.rawValue) AND provider_id = \(providerID) FOR UPDATE
                """)
        } else {
            return .unknown
        }
        guard let row = rows.first else { return .unknown }
        let authority = try row.decode(UUID.self, column: "authority_id")
        let id = try row.decode(UUID.self, column: "id")
        let current = try row.decode(SMSStatus.self, column: "status")
        switch report.status {
        case .unknown:
            return .ignored
        case .delivered:
            // Delivered is the final truth, even after we had given up on an unreadable gateway answer.
            guard current != .delivered else { return .ignored }
            try c.execute("""
                UPDATE sms_message SET status = \(SMSStatus.delivered), final_at = now(), body = NULL, body_sealed = NULL, body_key_id = NULL, error = NULL, updated_at = now(),
                    provider_id = coalesce(provider_id, \(report.providerID))
                WHERE authority_id = \(authority) AND id = \(id)
                """)
        case .failed, .expired:
            guard current.awaitsReport else { return .ignored }
            let status: SMSStatus = report.status == .failed ? .failed : .expired
            let reason = "delivery report: \(status.rawValue)" + (report.errorCode.map { " (provider code \($0.prefix(20)))" } ?? "")
            try c.execute("""
                UPDATE sms_message SET status = \(status), final_at = now(), body = NULL, body_sealed = NULL, body_key_id = NULL, error = \(reason), claimed_until = NULL, updated_at = now(),
                    provider_id = coalesce(provider_id, \(report.providerID))
                WHERE authority_id = \(authority) AND id = \(id)
                """)
            try SMSFailures.flag(c, authorityID: authority, applicationID: try row.decode(UUID?.self, column: "application_id"),
                                 kind: try row.decode(String.self, column: "template"), messageID: id)
        }
        return .applied
    }
}
