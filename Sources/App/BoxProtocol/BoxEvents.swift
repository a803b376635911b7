import Crypto
import Domain
import Foundation
import HTTPServer
import Logging
import Postgres
import Prometheus

/// `POST /api/v1/box/events`: what the box reports. Idempotent by the box's event id: a retry after a
/// lost answer returns the first answer and has no second effect. `loaded` (after loading), the pickup
/// events `opened`, `document_removed`, `old_document_destroyed` and `closed` (which completes the
/// pickup once the site's required events have arrived), `retrieved` (staff took an uncollected
/// document out) and `fault`.
enum BoxEvents {
    struct Event: Codable {
        var eventId: String
        var kind: String
        var compartmentNumber: Int
        var assignmentId: UUID?
        /// For `fault`: `door_jammed`, `door_left_open`, `old_document_reader_failed`, `other`.
        var fault: String?
    }

    struct Result: Codable {
        var eventId: String
        var kind: String
        var state: String
        var pickupDeadline: String?
    }

    static func report(_ app: Application, _ request: Request, _ box: BoxPrincipal) throws -> Response {
        let event = try request.decode(Event.self)
        guard (1...100).contains(event.eventId.utf8.count), event.eventId.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
            throw AppError.invalid("eventId", "invalid_event_id", "The event id is 1 to 100 visible ASCII characters.")
        }
        guard (1...10_000).contains(event.compartmentNumber) else {
            throw AppError.invalid("compartmentNumber", "out_of_range", "Compartment numbers run from 1 to 10000.")
        }
        let hash = Crypto.sha256(request.body)
        do {
            return try record(app, request, box: box, event: event, hash: hash)
        } catch let refused as FourEyesMissing {
            throw try refuse(app, request, box: box, refused)
        }
    }

    private static func record(_ app: Application, _ request: Request, box: BoxPrincipal, event: Event, hash: [UInt8]) throws -> Response {
        try app.pool.transaction { connection in
            try connection.execute("SELECT pg_advisory_xact_lock(hashtextextended(\("box-event:" + box.key + ":" + event.eventId), 0))")
            if let stored = try connection.query("""
                SELECT request_hash, response_status, response_body FROM box_event
                WHERE authority_id = \(box.authorityID) AND box_id = \(box.boxID) AND event_id = \(event.eventId)
                """).first {
                return try Idempotency.replay(stored, requestHash: hash,
                                              orRefuse: AppError(.unprocessableContent, "event_id_reused", "This event id was used for a different event.", field: "eventId"))
            }
            // The door's events, a fault and a retrieval take their box before the assignment, as a pickup's
            // steps, a cancellation and the deadline pass do: the lock the event's row takes on its box below
            // (its foreign key), taken first. `loaded` keeps assignment-then-box: a household's next document
            // joins the assignment and then locks the box (`Assignments.assignAutomatically`).
            if event.kind != "loaded" {
                try connection.execute("SELECT 1 FROM box WHERE authority_id = \(box.authorityID) AND id = \(box.boxID) FOR KEY SHARE")
            }
            let result: Result
            switch event.kind {
            case "loaded":
                result = try loaded(app, connection, box: box, event: event, request: request)
            case "opened", "document_removed", "old_document_destroyed", "closed", "retrieved", "fault":
                result = try BoxPickupEvents.handle(app, connection, box: box, event: event, request: request)
            default:
                throw AppError.invalid("kind", "unsupported_event_kind",
                                       "kind is one of loaded, opened, document_removed, old_document_destroyed, closed, retrieved, fault.")
            }
            let body = try JSONCoding.encode(result)
            try connection.execute("""
                INSERT INTO box_event (authority_id, box_id, event_id, kind, request_hash, response_status, response_body)
                VALUES (\(box.authorityID), \(box.boxID), \(event.eventId), \(event.kind), \(hash), 200, \(body))
                """)
            return .json(bytes: body)
        }
    }

    /// A `loaded` report at a four-eyes site for an assignment that no two staff badges authorised at
    /// `POST /box/loading` (docs/ARCHITECTURE.md#loading): a box token alone must not make a document ready and send its PIN.
    struct FourEyesMissing: Error {
        let assignmentID: UUID
        let compartmentNumber: Int
    }

    /// Nothing of the report was kept (its transaction rolled back); the refusal is counted for alerting,
    /// logged, and audited in a transaction of its own, then answered 409.
    private static func refuse(_ app: Application, _ request: Request, box: BoxPrincipal, _ refused: FourEyesMissing) throws -> AppError {
        app.metrics.fourEyesLoadingRefused.increment()
        app.logger.warning("loaded report without four-eyes authorisation refused", metadata: [
            "box.id": "\(box.key)", "assignment.id": "\(refused.assignmentID.uuidString.lowercased())", "request.id": "\(request.requestID)",
        ])
        _ = try app.pool.transaction { c in
            try Audit.record(c, authorityID: box.authorityID, actor: .box(box.boxID), action: "assignment.loaded_refused_four_eyes", entityType: "assignment",
                             entityID: refused.assignmentID, requestID: request.requestID, clientAddress: app.clientAddress(request),
                             detail: ["compartment": String(refused.compartmentNumber)])
        }
        return AppError.conflict("four_eyes_missing",
                                 "This site loads with two staff badges: scan the document at POST /box/loading with both badges before closing the door.",
                                 extra: ["state": ApplicationState.assigned.rawValue])
    }

    /// The door closed on a loaded compartment: the applications become `ready_in_box`, a fresh PIN is
    /// drawn and stored only as an HMAC, and the "ready" SMS goes into the outbox — one transaction.
    /// At a four-eyes site the assignment must carry the two staff members who authorised the loading.
    static func loaded(_ app: Application, _ connection: PostgresConnection, box: BoxPrincipal, event: BoxEvents.Event, request: Request) throws -> Result {
        guard let row = try connection.query("""
            SELECT asg.id, asg.status, coalesce(cardinality(asg.loading_authorised_by), 0) AS authorised_by FROM compartment c
            JOIN assignment asg ON asg.authority_id = c.authority_id AND asg.compartment_id = c.id
                AND asg.status = ANY(\(AssignmentStatus.allCases.filter(\.isLive)))
            WHERE c.authority_id = \(box.authorityID) AND c.box_id = \(box.boxID) AND c.number = \(event.compartmentNumber)
            FOR UPDATE OF asg
            """).first else { throw AppError.conflict("no_assignment", "Nothing is to be loaded into this compartment.", field: "compartmentNumber") }
        let assignmentID = try row.decode(UUID.self, column: "id")
        if let given = event.assignmentId, given != assignmentID {
            throw AppError.conflict("assignment_mismatch", "The compartment holds another assignment.", field: "assignmentId")
        }
        let status = try row.decode(AssignmentStatus.self, column: "status")
        guard status == .assigned else {
            app.logger.warning("out-of-order box event", metadata: ["box.id": "\(box.key)", "event.kind": "loaded"])
            throw AppError.conflict("out_of_order", "The compartment was reported loaded already.", extra: ["state": status.rawValue])
        }
        let site = try LoadingSite.find(connection, box: box)
        if try site.requiresTwoStaff && row.decode(Int.self, column: "authorised_by") < 2 {
            throw FourEyesMissing(assignmentID: assignmentID, compartmentNumber: event.compartmentNumber)
        }
        let zone = site.timeZone
        let deadline = site.policy.deadline(from: CivilDate(date: Date(), timeZone: zone), in: site.land)

        let pin = Pin.draw()
        try connection.execute("""
            UPDATE assignment SET status = \(AssignmentStatus.loaded), loaded_at = now(),
                \(storedPin: pin, authorityID: box.authorityID, assignmentID: assignmentID, key: app.secretKey),
                pin_expires_at = ((\(deadline.iso)::date + 1)::timestamp AT TIME ZONE \(zone.identifier)), failed_attempts = 0, locked = false
            WHERE authority_id = \(box.authorityID) AND id = \(assignmentID)
            """)
        let applications = try ApplicationTransitions.apply(.loaded, onAssignment: assignmentID, connection, authorityID: box.authorityID,
                                                            effects: .init(pickupDeadline: deadline))
        guard let first = applications.first else { throw AppError.conflict("out_of_order", "No application of this compartment awaits loading.") }
        for a in applications {
            try Audit.record(connection, authorityID: box.authorityID, actor: .box(box.boxID), action: "application.loaded", entityType: "application",
                             entityID: a.id, requestID: request.requestID, clientAddress: app.auditAddress(request),
                             detail: ["compartment": String(event.compartmentNumber), "pickupDeadline": deadline.iso])
        }
        // One SMS per compartment (a household shares one PIN), to the first application's number.
        if let mobile = first.mobileNumber {
            try SMSOutbox.enqueue(connection, cipher: app.smsCipher, authorityID: box.authorityID, applicationID: first.id, assignmentID: assignmentID,
                                  to: mobile, kind: .readyInBox, language: first.smsLanguage,
                                  values: SMSValues(pin: pin, site: site.name, deadline: deadline))
        }
        return Result(eventId: event.eventId, kind: event.kind, state: ApplicationState.readyInBox.rawValue, pickupDeadline: deadline.iso)
    }
}

/// What loading needs of the box's site: its name for the SMS, whether two staff load, and its deadline rule.
struct LoadingSite {
    let name: String
    let requiresTwoStaff: Bool
    let timeZone: TimeZone
    let land: Bundesland
    let policy: PickupDeadlinePolicy

    static func find(_ connection: PostgresConnection, box: BoxPrincipal) throws -> LoadingSite {
        guard let s = try connection.query("""
            SELECT name, land, time_zone, deadline_kind, deadline_days, loading_requires_two_staff FROM site WHERE authority_id = \(box.authorityID) AND id = \(box.siteID)
            """).first else { throw AppError.notFound("site") }
        let days = try s.decode(Int.self, column: "deadline_days")
        let kind = try s.decode(SiteAdmin.DeadlineKind.self, column: "deadline_kind")
        return LoadingSite(
            name: try s.decode(String.self, column: "name"), requiresTwoStaff: try s.decode(Bool.self, column: "loading_requires_two_staff"),
            timeZone: TimeZone(identifier: try s.decode(String.self, column: "time_zone")) ?? TimeZone(identifier: "Europe/Berlin") ?? .gmt,
            land: try s.decode(Bundesland.self, column: "land"),
            // The site's CHECK keeps the days in range; a value the policy refuses falls back to the standard.
            policy: (try? PickupDeadlinePolicy(kind == .calendarDays ? .calendarDays(days) : .workingDays(days))) ?? .standard)
    }
}
