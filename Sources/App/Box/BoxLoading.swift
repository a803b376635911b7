import Domain
import Foundation
import HTTPServer
import Postgres

/// Loading in service mode (DESIGN §4.4): staff scan the document at the box; the server names the
/// compartment to open — the one assigned, or one of this box assigned now.
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

    static func load(_ app: Application, _ request: Request) throws -> Response {
        let box = try BoxAuth.principal(request, pool: app.pool)
        let scan = try request.decode(Scan.self)
        let document: DocumentNumber
        do { document = try DocumentNumber(scan.documentNumber, field: "documentNumber") } catch {
            throw AppError.invalid(error.field, error.code, error.message)
        }
        if let badges = scan.staffBadges, badges.count > 2 || !badges.allSatisfy(UserStore.validBadge) {
            throw AppError.invalid("staffBadges", "invalid_badge", "Two badge numbers of 4 to 64 visible ASCII characters.")
        }
        return try Idempotency.run(app, box: box, request: request, route: "POST /api/v1/box/loading") { connection in
            let authorisedBy = try fourEyes(connection, box: box, badges: scan.staffBadges ?? [], key: app.secretKey)
            let rows = try connection.query("""
                SELECT a.id, a.state, a.site_id, a.pickup_method, a.needs_accessible, a.household_group, a.fee_cents, a.fee_settled, a.document_type
                FROM document d JOIN application a ON a.authority_id = d.authority_id AND a.id = d.application_id
                WHERE d.authority_id = \(box.authorityID) AND d.document_number = \(document.value) FOR UPDATE OF a
                """)
            guard let row = rows.first else { throw AppError(.notFound, "unknown_document", "No delivered document has this number.") }
            let applicationID = try row.decode(UUID.self, at: 0)
            let state = try row.decode(String.self, at: 1)
            guard try row.decode(UUID.self, at: 2) == box.siteID else {
                throw AppError.conflict("other_site", "The document is to be collected at another site.")
            }
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
                                 entityID: applicationID, requestID: request.requestID, clientAddress: app.clientAddress(request),
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
                                 entityID: applicationID, requestID: request.requestID, clientAddress: app.clientAddress(request),
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

    /// Four-eyes sites: two badges of two different active users of the authority, or 403. Returns the
    /// two users (nil where the site does not ask for it). Checked before anything is assigned.
    static func fourEyes(_ connection: PostgresConnection, box: BoxPrincipal, badges: [String], key: [UInt8]) throws -> [UUID]? {
        let required = try connection.query("SELECT loading_requires_two_staff FROM site WHERE authority_id = \(box.authorityID) AND id = \(box.siteID)")
            .first?.decode(Bool.self, at: 0) ?? false
        guard required else { return nil }
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
        guard users.count == 2 else {
            throw AppError(.forbidden, "unknown_badge", "A badge is not registered to an active staff member of this authority.")
        }
        return users.sorted { $0.uuidString < $1.uuidString }
    }
}
