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

    /// A document found for loading at the box's site, its application locked.
    struct Loadable {
        let applicationID: UUID
        let state: ApplicationState
        let pickupMethod: PickupMethod
        let needsAccessible: Bool
        let household: UUID?
        let feeSettled: Bool
        let documentType: DocumentType
    }

    /// The compartment the document goes into.
    struct Target {
        let assignmentID: UUID
        let number: Int
        let boxID: UUID
    }

    static func load(_ app: Application, _ request: Request, _ box: BoxPrincipal) throws -> Response {
        let scan = try request.decode(Scan.self)
        let document = try Input.domain { () throws(DomainError) in try DocumentNumber(scan.documentNumber, field: "documentNumber") }
        if let badges = scan.staffBadges, badges.count > 2 || !badges.allSatisfy(UserStore.validBadge) {
            throw AppError.invalid("staffBadges", "invalid_badge", "Two badge numbers of 4 to 64 visible ASCII characters.")
        }
        return try Idempotency.run(app, box: box, request: request, route: "POST /api/v1/box/loading") { connection in
            if let refused = try throttled(connection, box: box) { return refused }
            let authorisedBy: [UUID]?
            switch try fourEyes(connection, box: box, badges: scan.staffBadges ?? [], key: app.secretKey) {
            case .notRequired: authorisedBy = nil
            case .authorised(let users): authorisedBy = users
            case .unknownBadge:
                try countFailure(connection, box: box, "badge_refused", app: app)
                return .error(.forbidden, code: "unknown_badge", message: "A badge is not registered to an active staff member of this authority.")
            }
            // Unknown, or at another site: the same answer, so the token tells nothing beyond its own site.
            guard let loadable = try find(connection, box: box, document: document) else {
                try countFailure(connection, box: box, "unknown_document", app: app)
                return .error(.notFound, code: "unknown_document", message: "No document with this number is to be loaded at this site.")
            }
            try assignIfNeeded(loadable, connection, app: app, request: request, box: box)
            let target = try target(connection, box: box, applicationID: loadable.applicationID)
            if let authorisedBy {
                try recordAuthorisation(authorisedBy, target: target, loadable, connection, app: app, request: request, box: box)
            }
            let documents = try connection.query("""
                SELECT d.document_number FROM application a JOIN document d ON d.authority_id = a.authority_id AND d.application_id = a.id
                WHERE a.authority_id = \(box.authorityID) AND a.assignment_id = \(target.assignmentID) ORDER BY d.document_number
                """).map { try $0.decode(String.self, column: "document_number") }
            let contents = loadable.documentType == .eat ? ["document", "supplementary_sheet"] : ["document"]
            return try .json(Instruction(compartmentNumber: target.number, assignmentId: target.assignmentID, documentNumbers: documents, contents: contents))
        }
    }

    /// The 429 while loading at this box is blocked (its row locked, so attempts at one box are serialized).
    static func throttled(_ connection: PostgresConnection, box: BoxPrincipal) throws -> Response? {
        guard let wait = try connection.query("""
            SELECT ceil(extract(epoch FROM loading_blocked_until - now()))::int8 AS wait FROM box
            WHERE authority_id = \(box.authorityID) AND id = \(box.boxID) FOR UPDATE
            """).first?.decode(Int?.self, column: "wait"), wait > 0 else { return nil }
        try record(connection, box: box, "throttled")
        var refused = Response.error(.tooManyRequests, code: "box_throttled", message: "Too many refused scans at this box; loading resumes later.")
        refused.headers.set("Retry-After", String(wait))
        return refused
    }

    /// The document's application, locked (`FOR NO KEY UPDATE`, as `ApplicationStore.fetch`); nil when the
    /// authority has no such document at the box's site.
    static func find(_ connection: PostgresConnection, box: BoxPrincipal, document: DocumentNumber) throws -> Loadable? {
        guard let row = try connection.query("""
            SELECT a.id, a.state, a.site_id, a.pickup_method, a.needs_accessible, a.household_group, a.fee_cents, a.fee_settled, a.document_type
            FROM document d JOIN application a ON a.authority_id = d.authority_id AND a.id = d.application_id
            WHERE d.authority_id = \(box.authorityID) AND d.document_number = \(document.value) FOR NO KEY UPDATE OF a
            """).first, try row.decode(UUID.self, column: "site_id") == box.siteID else { return nil }
        return Loadable(
            applicationID: try row.decode(UUID.self, column: "id"), state: try row.decode(ApplicationState.self, column: "state"),
            pickupMethod: try row.decode(PickupMethod.self, column: "pickup_method"), needsAccessible: try row.decode(Bool.self, column: "needs_accessible"),
            household: try row.decode(UUID?.self, column: "household_group"),
            feeSettled: FeeSchedule.isSettledForBox(feeCents: try row.decode(Int.self, column: "fee_cents"), settled: try row.decode(Bool.self, column: "fee_settled")),
            documentType: try row.decode(DocumentType.self, column: "document_type"))
    }

    /// A delivered document gets a compartment of this box now; an assigned one keeps its own.
    static func assignIfNeeded(_ loadable: Loadable, _ connection: PostgresConnection, app: Application, request: Request, box: BoxPrincipal) throws {
        guard loadable.pickupMethod == .box else {
            throw AppError.conflict("counter_pickup", "The applicant collects this document at the counter.", extra: ["state": loadable.state.rawValue])
        }
        guard loadable.state == .delivered || loadable.state == .assigned else {
            throw AppError.illegalTransition(current: loadable.state, action: "loading it into the box")
        }
        guard loadable.state == .delivered else { return }
        guard loadable.feeSettled else { throw AppError.conflict("fee_not_settled", "The fee must be paid before box pickup.") }
        guard let assigned = try Assignments.assignAutomatically(
            connection, authorityID: box.authorityID, applicationID: loadable.applicationID, siteID: box.siteID,
            needsAccessible: loadable.needsAccessible, householdGroup: loadable.household, boxID: box.boxID
        ) else {
            throw AppError.conflict("box_full", "No suitable compartment of this box is free.")
        }
        try Audit.record(connection, authorityID: box.authorityID, actor: .box(box.boxID), action: "application.assigned", entityType: "application",
                         entityID: loadable.applicationID, requestID: request.requestID, clientAddress: app.auditAddress(request),
                         detail: ["compartment": assigned.compartmentID.uuidString.lowercased(), "mode": "at_loading"])
    }

    static func target(_ connection: PostgresConnection, box: BoxPrincipal, applicationID: UUID) throws -> Target {
        guard let row = try connection.query("""
            SELECT asg.id AS assignment_id, c.number, c.box_id FROM application a
            JOIN assignment asg ON asg.authority_id = a.authority_id AND asg.id = a.assignment_id
            JOIN compartment c ON c.authority_id = asg.authority_id AND c.id = asg.compartment_id
            WHERE a.authority_id = \(box.authorityID) AND a.id = \(applicationID)
            """).first else { throw AppError.conflict("not_assigned", "The document has no compartment.") }
        let target = Target(assignmentID: try row.decode(UUID.self, column: "assignment_id"), number: try row.decode(Int.self, column: "number"),
                            boxID: try row.decode(UUID.self, column: "box_id"))
        guard target.boxID == box.boxID else {
            throw AppError.conflict("assigned_to_another_box", "The document's compartment is in another box of this site; reassign it or load it there.")
        }
        return target
    }

    /// The two staff members who authorised the loading, on the assignment and in the audit log.
    static func recordAuthorisation(_ users: [UUID], target: Target, _ loadable: Loadable, _ connection: PostgresConnection, app: Application,
                                    request: Request, box: BoxPrincipal) throws {
        try connection.execute("""
            UPDATE assignment SET loading_authorised_by = \(users)::uuid[] WHERE authority_id = \(box.authorityID) AND id = \(target.assignmentID)
            """)
        try Audit.record(connection, authorityID: box.authorityID, actor: .box(box.boxID), action: "application.loading_authorised", entityType: "application",
                         entityID: loadable.applicationID, requestID: request.requestID, clientAddress: app.auditAddress(request),
                         detail: ["users": users.map { $0.uuidString.lowercased() }.joined(separator: ",")])
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
