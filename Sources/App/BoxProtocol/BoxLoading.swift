import Crypto
import Domain
import Foundation
import HTTPServer
import Logging
import Postgres

/// Loading in service mode (docs/ARCHITECTURE.md#loading): staff scan the document at the box; the server names the
/// compartment to open — the one assigned, or one of this box assigned now.
///
/// A stolen box token learns nothing about documents outside its site (docs/ARCHITECTURE.md#box-protocol):
/// an unknown number and a document of another site get the same 404 `unknown_document`. Refused badges and such documents
/// are counted per box like failed pickups; past the limit loading at the box is blocked for a while
/// (429 `box_throttled`). Attempts at one box are serialized on its row, so the count is exact.
enum BoxLoading {
    struct Scan: Codable {
        var documentNumber: String
        /// The two staff badges read at the box, where the site requires four-eyes loading.
        var staffBadges: [String]?
    }

    struct Instruction: Codable {
        var compartmentNumber: Int
        var assignmentId: UUID
        /// Every document that goes into the compartment (a household shares one).
        var documentNumbers: [String]
        /// What goes in, for staff: `document`, and `supplementary_sheet` for an eAT.
        var contents: [String]
    }

    static func load(_ app: Application, _ request: Request, _ box: BoxPrincipal) throws -> Response {
        let scan = try request.decode(Scan.self)
        let document: DocumentNumber
        do { document = try DocumentNumber(scan.documentNumber, field: "documentNumber") } catch {
            throw AppError.invalid(error.field, error.code, error.message)
        }
        if let badges = scan.staffBadges, badges.count > 2 || !badges.allSatisfy(UserStore.validBadge) {
            throw AppError.invalid("staffBadges", "invalid_badge", "Two badge numbers of 4 to 64 visible ASCII characters.")
        }
        return try Idempotency.run(app, box: box, request: request, route: "POST /api/v1/box/loading") { connection in
            if let wait = try connection.query("""
                SELECT ceil(extract(epoch FROM loading_blocked_until - now()))::int8 FROM box
                WHERE authority_id = \(box.authorityID) AND id = \(box.boxID) FOR UPDATE
                """).first?.decode(Int?.self, at: 0), wait > 0 {
                try record(connection, box: box, "throttled")
                var refused = Response.error(.tooManyRequests, code: "box_throttled", message: "Too many refused scans at this box; loading resumes later.")
                refused.headers.set("Retry-After", String(wait))
                return refused
            }
            let authorisedBy: [UUID]?
            switch try fourEyes(connection, box: box, badges: scan.staffBadges ?? [], key: app.secretKey) {
            case .notRequired: authorisedBy = nil
            case .authorised(let users): authorisedBy = users
            case .unknownBadge:
                try countFailure(connection, box: box, "badge_refused", app: app)
                return .error(.forbidden, code: "unknown_badge", message: "A badge is not registered to an active staff member of this authority.")
            }
            let rows = try connection.query("""
                SELECT a.id, a.state, a.site_id, a.pickup_method, a.needs_accessible, a.household_group, a.fee_cents, a.fee_settled, a.document_type
                FROM document d JOIN application a ON a.authority_id = d.authority_id AND a.id = d.application_id
                WHERE d.authority_id = \(box.authorityID) AND d.document_number = \(document.value) FOR UPDATE OF a
                """)
            // Unknown, or at another site: the same answer, so the token tells nothing beyond its own site.
            guard let row = rows.first, try row.decode(UUID.self, at: 2) == box.siteID else {
                try countFailure(connection, box: box, "unknown_document", app: app)
                return .error(.notFound, code: "unknown_document", message: "No document with this number is to be loaded at this site.")
            }
            let applicationID = try row.decode(UUID.self, at: 0)
            let state = try row.decode(String.self, at: 1)
            guard try row.decode(String.self, at: 3) == PickupMethod.box.rawValue else {
                throw AppError.conflict("counter_pickup", "The applicant collects this document at the counter.", extra: ["state": state])
            }
            guard state == ApplicationState.delivered.rawValue || state == ApplicationState.assigned.rawValue else {
                throw AppError.illegalTransition(current: state, action: "loading it into the box")
            }
            if state == ApplicationState.delivered.rawValue {
                guard FeeSchedule.isSettledForBox(feeCents: try row.decode(Int.self, at: 6), settled: try row.decode(Bool.self, at: 7)) else {
                    throw AppError.conflict("fee_not_settled", "The fee must be paid before box pickup.")
                }
                guard let assigned = try Assignments.assignAutomatically(
                    connection, authorityID: box.authorityID, applicationID: applicationID, siteID: box.siteID,
                    needsAccessible: try row.decode(Bool.self, at: 4), householdGroup: try row.decode(UUID?.self, at: 5), boxID: box.boxID
                ) else {
                    throw AppError.conflict("box_full", "No suitable compartment of this box is free.")
                }
                try Audit.record(connection, authorityID: box.authorityID, actor: .box(box.boxID), action: "application.assigned", entityType: "application",
                                 entityID: applicationID, requestID: request.requestID, clientAddress: app.auditAddress(request),
                                 detail: ["compartment": assigned.compartmentID.uuidString.lowercased(), "mode": "at_loading"])
            }
            let target = try connection.query("""
                SELECT asg.id, c.number, c.box_id FROM application a
                JOIN assignment asg ON asg.authority_id = a.authority_id AND asg.id = a.assignment_id
                JOIN compartment c ON c.authority_id = asg.authority_id AND c.id = asg.compartment_id
                WHERE a.authority_id = \(box.authorityID) AND a.id = \(applicationID)
                """)
            guard let t = target.first else { throw AppError.conflict("not_assigned", "The document has no compartment.") }
            guard try t.decode(UUID.self, at: 2) == box.boxID else {
                throw AppError.conflict("assigned_to_another_box", "The document's compartment is in another box of this site; reassign it or load it there.")
            }
            let assignmentID = try t.decode(UUID.self, at: 0)
            if let authorisedBy {
                try connection.execute("""
                    UPDATE assignment SET loading_authorised_by = \(authorisedBy)::uuid[] WHERE authority_id = \(box.authorityID) AND id = \(assignmentID)
                    """)
                try Audit.record(connection, authorityID: box.authorityID, actor: .box(box.boxID), action: "application.loading_authorised", entityType: "application",
                                 entityID: applicationID, requestID: request.requestID, clientAddress: app.auditAddress(request),
                                 detail: ["users": authorisedBy.map { $0.uuidString.lowercased() }.joined(separator: ",")])
            }
            let documents = try connection.query("""
                SELECT d.document_number FROM application a JOIN document d ON d.authority_id = a.authority_id AND d.application_id = a.id
                WHERE a.authority_id = \(box.authorityID) AND a.assignment_id = \(assignmentID) ORDER BY d.document_number
                """).map { try $0.decode(String.self, at: 0) }
            var contents = ["document"]
            if try row.decode(String.self, at: 8) == DocumentType.eat.rawValue { contents.append("supplementary_sheet") }
            return try .json(Instruction(compartmentNumber: try t.decode(Int.self, at: 1), assignmentId: assignmentID, documentNumbers: documents, contents: contents))
        }
    }

    enum FourEyes {
        case notRequired
        /// The two users, in a stable order.
        case authorised([UUID])
        /// A badge of no active staff member: a guess, counted against the box.
        case unknownBadge
    }

    /// Four-eyes sites: two badges of two different active users of the authority. Fewer than two, or the
    /// same twice, is a 403 (no lookup was made, nothing to count). Checked before anything is assigned.
    static func fourEyes(_ connection: PostgresConnection, box: BoxPrincipal, badges: [String], key: [UInt8]) throws -> FourEyes {
        let required = try connection.query("SELECT loading_requires_two_staff FROM site WHERE authority_id = \(box.authorityID) AND id = \(box.siteID)")
            .first?.decode(Bool.self, at: 0) ?? false
        guard required else { return .notRequired }
        guard badges.count == 2 else {
            throw AppError(.forbidden, "four_eyes_required", "Loading at this site needs the badges of two staff members.")
        }
        let hashes = badges.map { UserStore.badgeHash($0, authorityID: box.authorityID, key: key) }
        let users = try connection.query("""
            SELECT id FROM app_user WHERE authority_id = \(box.authorityID) AND disabled_at IS NULL AND badge_hash IN (\(hashes[0]), \(hashes[1]))
            """).map { try $0.decode(UUID.self, at: 0) }
        guard Set(hashes.map { Crypto.hex($0) }).count == 2 else {
            throw AppError(.forbidden, "four_eyes_required", "Loading at this site needs the badges of two different staff members.")
        }
        guard users.count == 2 else { return .unknownBadge }
        return .authorised(users.sorted { $0.uuidString < $1.uuidString })
    }

    /// Counts a refused scan against the box (committed with the refusal) and blocks loading there once
    /// more than the pickup limit fall within its window, with an alert in the log.
    private static func countFailure(_ c: PostgresConnection, box: BoxPrincipal, _ outcome: String, app: Application) throws {
        let limits = app.configuration.pickupLimits
        try record(c, box: box, outcome)
        let recent = try c.query("""
            SELECT count(*)::int8 FROM box_loading_attempt
            WHERE authority_id = \(box.authorityID) AND box_id = \(box.boxID) AND outcome IN ('badge_refused', 'unknown_document')
              AND at > now() - make_interval(mins => \(limits.boxWindowMinutes))
            """).first?.decode(Int.self, at: 0) ?? 0
        guard recent > limits.perBox else { return }
        try c.execute("""
            UPDATE box SET loading_blocked_until = now() + make_interval(mins => \(limits.boxBlockMinutes))
            WHERE authority_id = \(box.authorityID) AND id = \(box.boxID)
            """)
        app.logger.warning("box loading blocked after repeated refused scans", metadata: ["box.id": "\(box.key)", "loading.failures": "\(recent)"])
    }

    private static func record(_ c: PostgresConnection, box: BoxPrincipal, _ outcome: String) throws {
        try c.execute("INSERT INTO box_loading_attempt (authority_id, box_id, outcome) VALUES (\(box.authorityID), \(box.boxID), \(outcome))")
    }
}
