import Domain
import Foundation
import HTTPServer
import Postgres

/// Records the items of one delivery in its transaction with a fixed number of statements, whatever
/// the number of items: one lookup of known documents, one of the applications (locked in id order,
/// so concurrent deliveries cannot deadlock), bulk inserts and updates through `unnest`, and the
/// free compartments of each kind taken in one `FOR UPDATE SKIP LOCKED` query.
struct DeliveryRecorder {
    let connection: PostgresConnection
    let ctx: StaffContext
    let deliveryID: UUID
    /// Position of the first item recorded now (items added to a delivery continue its numbering).
    var firstPosition = 1
    /// Document numbers the delivery lists already: scanned again, they are `duplicate`.
    var documentsInDelivery: Set<String> = []

    private struct Target {
        let id: UUID
        var state: ApplicationState
        let pickup: PickupMethod
        let siteID: UUID
        let needsAccessible: Bool
        let household: UUID?
        let settled: Bool
    }

    private struct Outcome {
        let position: Int
        let document: String
        let vorgangsnummer: String?
        let result: DeliveryResult
        let applicationID: UUID?
    }

    func record(_ items: [DeliveryHandlers.Item]) throws {
        let authority = ctx.authorityID
        let documents = items.map { try? DocumentNumber($0.documentNumber, field: "documentNumber") }
        let numbers = items.map { item in item.vorgangsnummer.flatMap { try? Vorgangsnummer.parse($0, allowExternal: true) } }
        // Two deliveries naming the same document serialize here, so the second sees the first's row.
        try connection.execute("""
            SELECT pg_advisory_xact_lock(hashtextextended('document:' || \(authority.uuidString) || ':' || d, 0))
            FROM (SELECT DISTINCT d FROM unnest(\(documents.compactMap { $0?.value })::text[]) AS t(d) ORDER BY d) AS s
            """)
        let known = Set(try connection.query("""
            SELECT document_number FROM document WHERE authority_id = \(authority) AND document_number = ANY(\(documents.compactMap { $0?.value }))
            """).map { try $0.decode(String.self, at: 0) })
        var targets: [String: Target] = [:]
        for row in try connection.query("""
            SELECT id, vorgangsnummer, state, pickup_method, site_id, needs_accessible, household_group, fee_cents, fee_settled FROM application
            WHERE authority_id = \(authority) AND vorgangsnummer = ANY(\(Array(Set(numbers.compactMap { $0?.value })))) ORDER BY id FOR UPDATE
            """) {
            targets[try row.decode(String.self, at: 1)] = Target(
                id: try row.decode(UUID.self, at: 0), state: try row.decode(ApplicationState.self, at: 2),
                pickup: try row.decode(PickupMethod.self, at: 3), siteID: try row.decode(UUID.self, at: 4),
                needsAccessible: try row.decode(Bool.self, at: 5), household: try row.decode(UUID?.self, at: 6),
                settled: FeeSchedule.isSettledForBox(feeCents: try row.decode(Int.self, at: 7), settled: try row.decode(Bool.self, at: 8))
            )
        }

        var outcomes: [Outcome] = []
        var delivered: [(target: Target, from: ApplicationState, document: String)] = []
        var seen = documentsInDelivery
        for (index, item) in items.enumerated() {
            let raw = TextField.prefix(item.documentNumber.isEmpty ? "-" : item.documentNumber, 64)
            let givenNumber = item.vorgangsnummer.map { TextField.prefix($0, 40) }
            func outcome(_ result: DeliveryResult, _ document: String, _ application: UUID? = nil) {
                outcomes.append(Outcome(position: firstPosition + index, document: document, vorgangsnummer: givenNumber, result: result, applicationID: application))
            }
            guard let document = documents[index]?.value else { outcome(.invalid, raw); continue }
            guard seen.insert(document).inserted, !known.contains(document) else { outcome(.duplicate, document); continue }
            guard let number = numbers[index] else { outcome(item.vorgangsnummer == nil ? .unknown : .invalid, document); continue }
            guard var target = targets[number.value] else { outcome(.unknown, document); continue }
            if target.state == .cancelled { outcome(.cancelled, document, target.id); continue }
            let from = target.state
            guard let next = try? ApplicationLifecycle.next(from, .deliveryRecorded(pickup: target.pickup)) else {
                outcome(.alreadyDelivered, document, target.id)
                continue
            }
            target.state = next
            targets[number.value] = target   // a second item for the same application is already_delivered
            outcome(.matched, document, target.id)
            delivered.append((target, from, document))
        }

        try connection.execute("""
            INSERT INTO delivery_item (authority_id, delivery_id, position, document_number, vorgangsnummer, result, application_id)
            SELECT \(authority)::uuid, \(deliveryID)::uuid, p, d, NULLIF(v, ''), r, NULLIF(a, '')::uuid
            FROM unnest(\(outcomes.map(\.position))::int[], \(outcomes.map(\.document))::text[], \(outcomes.map { $0.vorgangsnummer ?? "" })::text[],
                        \(outcomes.map(\.result))::text[], \(outcomes.map { $0.applicationID?.uuidString ?? "" })::text[]) AS t(p, d, v, r, a)
            """)
        guard !delivered.isEmpty else { return }
        let ids = delivered.map(\.target.id)
        try connection.execute("""
            INSERT INTO document (authority_id, document_number, delivery_id, application_id)
            SELECT \(authority)::uuid, d, \(deliveryID)::uuid, a FROM unnest(\(delivered.map(\.document))::text[], \(ids)::uuid[]) AS t(d, a)
            """)
        try ApplicationTransitions.apply(delivered.map { .init(id: $0.target.id, from: $0.from, event: .deliveryRecorded(pickup: $0.target.pickup)) },
                                         connection, authorityID: authority)
        try auditEach(ids, action: "application.delivered", detail: ["delivery": deliveryID.uuidString.lowercased()])
        try notifyReadyAtCounter(delivered.filter { $0.target.state == .readyAtCounter }.map(\.target.id))

        // Compartments: household members one by one (they may join a sibling's compartment), the rest in bulk per kind.
        let waiting = delivered.map(\.target).filter { $0.pickup == .box && $0.settled && $0.state == .delivered }
        var assigned: [(application: UUID, compartment: UUID)] = []
        for target in waiting where target.household != nil {
            if let a = try Assignments.assignAutomatically(connection, authorityID: authority, applicationID: target.id, siteID: target.siteID,
                                                           needsAccessible: target.needsAccessible, householdGroup: target.household) {
                try ctx.audit(connection, "application.assigned", "application", target.id, detail: ["compartment": a.compartmentID.uuidString.lowercased(), "mode": "automatic"])
            }
        }
        let groups = Dictionary(grouping: waiting.filter { $0.household == nil }) { "\($0.siteID)|\($0.needsAccessible)" }
        for (_, group) in groups.sorted(by: { $0.key < $1.key }) {
            guard let first = group.first else { continue }
            let free = try CompartmentClaims.claim(connection, authorityID: authority, siteID: first.siteID, needsAccessible: first.needsAccessible,
                                                   count: group.count, excluding: assigned.map(\.compartment)).map(\.id)
            assigned += zip(group.map(\.id), free).map { ($0, $1) }
        }
        guard !assigned.isEmpty else { return }
        let assignmentIDs = assigned.map { _ in UUID() }
        try connection.execute("""
            INSERT INTO assignment (authority_id, id, compartment_id, status)
            SELECT \(authority)::uuid, i, c, 'assigned' FROM unnest(\(assignmentIDs)::uuid[], \(assigned.map(\.compartment))::uuid[]) AS t(i, c)
            """)
        try connection.execute("UPDATE compartment SET state = \(CompartmentState.occupied.rawValue) WHERE authority_id = \(authority) AND id = ANY(\(assigned.map(\.compartment)))")
        try BoxChanges.recordAll(connection, authorityID: authority, compartmentIDs: assigned.map(\.compartment), kind: .toLoad, assignmentIDs: assignmentIDs.map { $0 })
        try ApplicationTransitions.apply(zip(assigned, assignmentIDs).map { .init(id: $0.application, from: .delivered, event: .compartmentAssigned, assignmentID: $1) },
                                         connection, authorityID: authority, effects: .init(assignment: .perMove))
        try auditEach(assigned.map(\.application), action: "application.assigned", details: assigned.map { ["compartment": $0.compartment.uuidString.lowercased(), "mode": "automatic"] })
    }

    /// One audit event per entity, in one statement.
    /// Counter pickups are ready as soon as the document arrives: the applicant is told by SMS (when they gave a number).
    private func notifyReadyAtCounter(_ ids: [UUID]) throws {
        guard !ids.isEmpty else { return }
        for row in try connection.query("""
            SELECT a.id, a.mobile_number, a.sms_language, s.name FROM application a
            JOIN site s ON s.authority_id = a.authority_id AND s.id = a.site_id
            WHERE a.authority_id = \(ctx.authorityID) AND a.id = ANY(\(ids)) AND a.mobile_number IS NOT NULL
            """) {
            try SMSOutbox.enqueue(connection, cipher: ctx.app.smsCipher, authorityID: ctx.authorityID, applicationID: try row.decode(UUID.self, at: 0), assignmentID: nil,
                                  to: try row.decode(String.self, at: 1), kind: .readyAtCounter, language: try row.decode(String.self, at: 2),
                                  values: SMSValues(site: try row.decode(String.self, at: 3)))
        }
    }

    private func auditEach(_ ids: [UUID], action: String, detail: [String: String] = [:], details: [[String: String]]? = nil) throws {
        let json = try (details ?? Array(repeating: detail, count: ids.count)).map { String(decoding: try JSONCoding.encode($0), as: UTF8.self) }
        try connection.execute("""
            INSERT INTO audit_event (authority_id, actor_kind, actor_id, action, entity_type, entity_id, request_id, client_address, detail)
            SELECT \(ctx.authorityID)::uuid, 'user', \(ctx.user.userID)::uuid, \(action), 'application', e, \(ctx.request.requestID), \(ctx.app.auditAddress(ctx.request)), d::jsonb
            FROM unnest(\(ids)::uuid[], \(json)::text[]) AS t(e, d)
            """)
    }
}
