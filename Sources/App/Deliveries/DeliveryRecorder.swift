import Crypto
import Domain
import Foundation
import HTTPServer
import Postgres

/// Records the items of one delivery in its transaction with a fixed number of statements, whatever
/// the number of items: one lookup of known documents, two of the applications (those it may move
/// locked in id order, so concurrent deliveries cannot deadlock), bulk inserts and updates through `unnest`, and the
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
        /// Its personal data was erased (PRIVACY.md#erasure-on-schedule): an item naming it is not linked to it.
        let erased: Bool
    }

    private struct Outcome {
        let position: Int
        let document: String
        let vorgangsnummer: String?
        let result: DeliveryResult
        let applicationID: UUID?
    }

    /// A matched item: the application (its state already moved on) and the state it left.
    private typealias Delivered = (target: Target, from: ApplicationState, document: String)

    func record(_ items: [DeliveryHandlers.Item]) throws {
        let documents = items.map { try? DocumentNumber($0.documentNumber, field: "documentNumber") }
        let numbers = items.map { item in item.vorgangsnummer.flatMap { try? Vorgangsnummer.parse($0, allowExternal: true) } }
        let known = try lockDocuments(documents.compactMap { $0?.value })
        var targets = try lockApplications(Array(Set(numbers.compactMap { $0?.value })))
        let (outcomes, delivered) = match(items, documents: documents, numbers: numbers, known: known, targets: &targets)
        // Each item's row takes a key-share lock on the application it names (its foreign key), which no
        // writer of the application waits for or blocks (they lock it `FOR NO KEY UPDATE`).
        try insertItems(outcomes)
        guard !delivered.isEmpty else { return }
        try deliver(delivered)
        try assignCompartments(delivered.map(\.target).filter { $0.pickup == .box && $0.settled && $0.state == .delivered })
    }

    /// Locks the documents' numbers and returns those the authority has already received.
    private func lockDocuments(_ documents: [String]) throws -> Set<String> {
        // Two deliveries naming the same document serialize here, so the second sees the first's row.
        try connection.execute("""
            SELECT pg_advisory_xact_lock(hashtextextended('document:' || \(ctx.authorityID.uuidString) || ':' || d, 0))
            FROM (SELECT DISTINCT d FROM unnest(\(documents)::text[]) AS t(d) ORDER BY d) AS s
            """)
        return Set(try connection.query("""
            SELECT document_number FROM document WHERE authority_id = \(ctx.authorityID) AND document_number = ANY(\(documents))
            """).map { try $0.decode(String.self, column: "document_number") })
    }

    /// The states a delivery moves an application on from (`ApplicationLifecycle`).
    private static let movable = Array(Set(ApplicationLifecycle.sources(of: .deliveryRecorded(pickup: .box))
                                           + ApplicationLifecycle.sources(of: .deliveryRecorded(pickup: .counter)))).map(\.rawValue).sorted()

    /// The applications the items name, by Vorgangsnummer: those a delivery may move on locked in id order
    /// (`FOR NO KEY UPDATE`, as their writers do), the others only `FOR KEY SHARE`, the lock each item's
    /// foreign key takes anyway. No delivery changes those, and no application returns to a state one moves
    /// from; locking them against writers would make a delivery that names a document already in a box wait
    /// for (and take the application before) the box, which a cancellation or a new PIN takes first. The key
    /// share waits only for the erasure pass (`FOR UPDATE`), so whether the application was erased is read
    /// as committed. One that left a movable state while this waited for its lock is read with the others;
    /// one registered meanwhile is not a target (as when the delivery came first).
    private func lockApplications(_ numbers: [String]) throws -> [String: Target] {
        var targets: [String: Target] = [:]
        let columns = "id, vorgangsnummer, state, pickup_method, site_id, needs_accessible, household_group, fee_cents, fee_settled, personal_data_erased_at IS NOT NULL AS erased"
        let locked = try connection.query("""
            SELECT \(unsafeSQL: columns) FROM application
            WHERE authority_id = \(ctx.authorityID) AND vorgangsnummer = ANY(\(numbers)) AND state = ANY(\(Self.movable)) ORDER BY id FOR NO KEY UPDATE
            """)
        let lockedIDs = try locked.map { try $0.decode(UUID.self, column: "id") }
        let others = try connection.query("""
            SELECT \(unsafeSQL: columns) FROM application
            WHERE authority_id = \(ctx.authorityID) AND vorgangsnummer = ANY(\(numbers)) AND id <> ALL(\(lockedIDs)::uuid[]) AND state <> ALL(\(Self.movable))
            FOR KEY SHARE
            """)
        for row in Array(locked) + Array(others) {
            targets[try row.decode(String.self, column: "vorgangsnummer")] = Target(
                id: try row.decode(UUID.self, column: "id"), state: try row.decode(ApplicationState.self, column: "state"),
                pickup: try row.decode(PickupMethod.self, column: "pickup_method"), siteID: try row.decode(UUID.self, column: "site_id"),
                needsAccessible: try row.decode(Bool.self, column: "needs_accessible"), household: try row.decode(UUID?.self, column: "household_group"),
                settled: FeeSchedule.isSettledForBox(feeCents: try row.decode(Int.self, column: "fee_cents"), settled: try row.decode(Bool.self, column: "fee_settled")),
                erased: try row.decode(Bool.self, column: "erased")
            )
        }
        return targets
    }

    /// Each item's result, in order, without I/O: a matched item moves its application on (in `targets`),
    /// so a second item for the same application is `already_delivered`.
    private func match(_ items: [DeliveryHandlers.Item], documents: [DocumentNumber?], numbers: [Vorgangsnummer?], known: Set<String>,
                       targets: inout [String: Target]) -> ([Outcome], [Delivered]) {
        var outcomes: [Outcome] = []
        var delivered: [Delivered] = []
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
            // An item naming an application whose data was erased is not linked to it: its document number
            // goes as an unmatched item's does, 30 days after the delivery (the application's went with it).
            let linked = target.erased ? nil : target.id
            if target.state == .cancelled { outcome(.cancelled, document, linked); continue }
            let from = target.state
            guard let next = try? ApplicationLifecycle.next(from, .deliveryRecorded(pickup: target.pickup)) else {
                outcome(.alreadyDelivered, document, linked)
                continue
            }
            target.state = next
            targets[number.value] = target
            outcome(.matched, document, target.id)
            delivered.append((target, from, document))
        }
        return (outcomes, delivered)
    }

    private func insertItems(_ outcomes: [Outcome]) throws {
        try connection.execute("""
            INSERT INTO delivery_item (authority_id, delivery_id, position, document_number, vorgangsnummer, result, application_id)
            SELECT \(ctx.authorityID)::uuid, \(deliveryID)::uuid, p, d, NULLIF(v, ''), r, NULLIF(a, '')::uuid
            FROM unnest(\(outcomes.map(\.position))::int[], \(outcomes.map(\.document))::text[], \(outcomes.map { $0.vorgangsnummer ?? "" })::text[],
                        \(outcomes.map(\.result))::text[], \(outcomes.map { $0.applicationID?.uuidString ?? "" })::text[]) AS t(p, d, v, r, a)
            """)
    }

    /// The matched documents: stored, their applications moved on, audited, and counter pickups told by SMS.
    private func deliver(_ delivered: [Delivered]) throws {
        let ids = delivered.map(\.target.id)
        try connection.execute("""
            INSERT INTO document (authority_id, document_number, delivery_id, application_id)
            SELECT \(ctx.authorityID)::uuid, d, \(deliveryID)::uuid, a FROM unnest(\(delivered.map(\.document))::text[], \(ids)::uuid[]) AS t(d, a)
            """)
        try ApplicationTransitions.apply(delivered.map { .init(id: $0.target.id, from: $0.from, event: .deliveryRecorded(pickup: $0.target.pickup)) },
                                         connection, authorityID: ctx.authorityID)
        try auditEach(ids, action: "application.delivered", detail: ["delivery": deliveryID.uuidString.lowercased()])
        try notifyReadyAtCounter(delivered.filter { $0.target.state == .readyAtCounter }.map(\.target.id))
    }

    /// Compartments: household members one by one (they may join a sibling's compartment), the rest in bulk per kind.
    private func assignCompartments(_ waiting: [Target]) throws {
        let authority = ctx.authorityID
        for target in waiting where target.household != nil {
            if let a = try Assignments.assignAutomatically(connection, authorityID: authority, applicationID: target.id, siteID: target.siteID,
                                                           needsAccessible: target.needsAccessible, householdGroup: target.household) {
                try ctx.audit(connection, "application.assigned", "application", target.id, detail: ["compartment": a.compartmentID.uuidString.lowercased(), "mode": "automatic"])
            }
        }
        var assigned: [(application: UUID, compartment: UUID)] = []
        let groups = Dictionary(grouping: waiting.filter { $0.household == nil }) { "\($0.siteID)|\($0.needsAccessible)" }
        for (_, group) in groups.sorted(by: { $0.key < $1.key }) {
            guard let first = group.first else { continue }
            let free = try CompartmentClaims.claim(connection, authorityID: authority, siteID: first.siteID, needsAccessible: first.needsAccessible,
                                                   count: group.count, excluding: assigned.map(\.compartment)).map(\.id)
            assigned += zip(group.map(\.id), free).map { ($0, $1) }
        }
        guard !assigned.isEmpty else { return }
        let assignmentIDs = assigned.map { _ in Crypto.uuid() }
        try connection.execute("""
            INSERT INTO assignment (authority_id, id, compartment_id, status)
            SELECT \(authority)::uuid, i, c, \(AssignmentStatus.assigned.rawValue) FROM unnest(\(assignmentIDs)::uuid[], \(assigned.map(\.compartment))::uuid[]) AS t(i, c)
            """)
        try connection.execute("UPDATE compartment SET state = \(CompartmentState.occupied.rawValue) WHERE authority_id = \(authority) AND id = ANY(\(assigned.map(\.compartment)))")
        try BoxChanges.recordAll(connection, authorityID: authority, compartmentIDs: assigned.map(\.compartment), kind: .toLoad, assignmentIDs: assignmentIDs)
        try ApplicationTransitions.apply(zip(assigned, assignmentIDs).map { .init(id: $0.application, from: .delivered, event: .compartmentAssigned, assignmentID: $1) },
                                         connection, authorityID: authority, effects: .init(assignment: .perMove))
        try auditEach(assigned.map(\.application), action: "application.assigned", details: assigned.map { ["compartment": $0.compartment.uuidString.lowercased(), "mode": "automatic"] })
    }

    /// Counter pickups are ready as soon as the document arrives: the applicant is told by SMS (when they gave a number).
    private func notifyReadyAtCounter(_ ids: [UUID]) throws {
        guard !ids.isEmpty else { return }
        for row in try connection.query("""
            SELECT a.id, a.mobile_number, a.sms_language, s.name AS site_name FROM application a
            JOIN site s ON s.authority_id = a.authority_id AND s.id = a.site_id
            WHERE a.authority_id = \(ctx.authorityID) AND a.id = ANY(\(ids)) AND a.mobile_number IS NOT NULL
            """) {
            try SMSOutbox.enqueue(connection, cipher: ctx.app.smsCipher, authorityID: ctx.authorityID, applicationID: try row.decode(UUID.self, column: "id"),
                                  assignmentID: nil, to: try row.decode(String.self, column: "mobile_number"), kind: .readyAtCounter,
                                  language: try row.decode(String.self, column: "sms_language"), values: SMSValues(site: try row.decode(String.self, column: "site_name")))
        }
    }

    /// One audit event per entity, in one statement.
    private func auditEach(_ ids: [UUID], action: String, detail: [String: String] = [:], details: [[String: String]]? = nil) throws {
        let json = try (details ?? Array(repeating: detail, count: ids.count)).map { String(decoding: try JSONCoding.encode($0), as: UTF8.self) }
        try connection.execute("""
            INSERT INTO audit_event (authority_id, actor_kind, actor_id, action, entity_type, entity_id, request_id, client_address, detail)
            SELECT \(ctx.authorityID)::uuid, 'user', \(ctx.user.userID)::uuid, \(action), 'application', e, \(ctx.request.requestID), \(ctx.app.auditAddress(ctx.request)), d::jsonb
            FROM unnest(\(ids)::uuid[], \(json)::text[]) AS t(e, d)
            """)
    }
}
