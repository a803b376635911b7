import Domain
import Foundation
import Postgres

/// The one place that writes `application.state`, inside the caller's transaction.
///
/// Every write asks ``ApplicationLifecycle/next(_:_:)`` for the target of an event and changes a row only
/// while it is still in the source state (`… WHERE state = <from>`), with both states bound as
/// ``ApplicationState`` raw values. A row that has left its source state in the meantime (a lost race) is
/// reported as ``IllegalTransition`` carrying the state it is in now — a 409 `illegal_transition` in the API.
enum ApplicationTransitions {
    /// Columns a transition writes besides `state` and `updated_at`.
    struct Effects: Sendable {
        /// `collected_at = now()`.
        var collectedNow = false
        /// `pickup_deadline`.
        var pickupDeadline: CivilDate?
        /// `assignment_id`.
        var assignment: AssignmentChange = .keep
        /// `cancel_reason`, and `cancelled_at = now()`.
        var cancelReason: String?
        /// The counter handover's record.
        var handover: Handover?

        init(collectedNow: Bool = false, pickupDeadline: CivilDate? = nil, assignment: AssignmentChange = .keep,
             cancelReason: String? = nil, handover: Handover? = nil) {
            self.collectedNow = collectedNow
            self.pickupDeadline = pickupDeadline
            self.assignment = assignment
            self.cancelReason = cancelReason
            self.handover = handover
        }
    }

    /// What happens to `assignment_id`.
    enum AssignmentChange: Sendable {
        case keep
        case clear
        case set(UUID)
        /// Each ``Move``'s own ``Move/assignmentID`` (batch form only).
        case perMove
    }

    /// Counter handover columns: the fee may be paid at the counter, the recipient and a proxy's name are kept,
    /// and the applicant no longer needs to be contacted.
    struct Handover: Sendable {
        let feePaidNow: Bool
        let recipient: String
        let proxyName: String?
    }

    /// One application of a batch: the state read under lock and the event that moves it.
    struct Move: Sendable {
        let id: UUID
        let from: ApplicationState
        let event: ApplicationEvent
        var assignmentID: UUID?
    }

    /// An application that changed state, with what its SMS needs.
    struct Moved: Sendable {
        let id: UUID
        let mobileNumber: String?
        let smsLanguage: String
    }

    /// Moves one application, read in `from` under lock, by `event`; returns the new state.
    @discardableResult
    static func apply(_ event: ApplicationEvent, to id: UUID, from: ApplicationState, _ connection: PostgresConnection, authorityID: UUID,
                      effects: Effects = Effects()) throws -> ApplicationState {
        let to = try ApplicationLifecycle.next(from, event)
        var statement = Statement()
        let sql = """
            UPDATE application SET state = \(statement.bind(to.rawValue)), \(effectsSQL(effects, &statement))
            WHERE authority_id = \(statement.bind(authorityID)) AND id = \(statement.bind(id)) AND state = \(statement.bind(from.rawValue))
            """
        if try connection.execute(statement.query(sql)) == 0 {
            throw try lostRace(connection, authorityID: authorityID, id: id, event: event)
        }
        return to
    }

    /// Moves several applications, each from its own state by its own event, in one statement; all or none
    /// (a lost race throws, and the caller's transaction rolls back).
    static func apply(_ moves: [Move], _ connection: PostgresConnection, authorityID: UUID, effects: Effects = Effects()) throws {
        guard !moves.isEmpty else { return }
        let targets = try moves.map { move in try ApplicationLifecycle.next(move.from, move.event).rawValue }
        var statement = Statement()
        let perMove = if case .perMove = effects.assignment { true } else { false }
        let sql = """
            UPDATE application a SET state = u.to_state, \(effectsSQL(effects, &statement))
            FROM unnest(\(statement.bind(moves.map(\.id)))::uuid[], \(statement.bind(moves.map(\.from.rawValue)))::text[], \(statement.bind(targets))::text[]\
            \(perMove ? ", \(statement.bind(moves.map { $0.assignmentID?.uuidString ?? "" }))::text[]" : "")) AS u(id, from_state, to_state\(perMove ? ", assignment" : ""))
            WHERE a.authority_id = \(statement.bind(authorityID)) AND a.id = u.id AND a.state = u.from_state
            RETURNING a.id
            """
        let moved = Set(try connection.query(statement.query(sql)).map { try $0.decode(UUID.self, at: 0) })
        if let missing = moves.first(where: { !moved.contains($0.id) }) {
            throw try lostRace(connection, authorityID: authorityID, id: missing.id, event: missing.event)
        }
    }

    /// Moves every application on an assignment that is in a state where `event` is allowed (or in one of
    /// `from`, each of which must allow it). Members in other states (a cancelled sibling) stay as they are.
    /// Returns the moved applications in the order the database updated them.
    @discardableResult
    static func apply(_ event: ApplicationEvent, onAssignment assignmentID: UUID, _ connection: PostgresConnection, authorityID: UUID,
                      from: [ApplicationState]? = nil, effects: Effects = Effects()) throws -> [Moved] {
        let sources = from ?? ApplicationLifecycle.sources(of: event)
        var statement = Statement()
        var cases = ""
        for source in sources {
            let target = try ApplicationLifecycle.next(source, event)
            cases += " WHEN \(statement.bind(source.rawValue)) THEN \(statement.bind(target.rawValue))"
        }
        let sql = """
            UPDATE application a SET state = CASE a.state\(cases) END, \(effectsSQL(effects, &statement))
            WHERE a.authority_id = \(statement.bind(authorityID)) AND a.assignment_id = \(statement.bind(assignmentID))
              AND a.state = ANY(\(statement.bind(sources.map(\.rawValue)))::text[])
            RETURNING a.id, a.mobile_number, a.sms_language
            """
        return try connection.query(statement.query(sql)).map { row in
            Moved(id: try row.decode(UUID.self, column: "id"), mobileNumber: try row.decode(String?.self, column: "mobile_number"),
                  smsLanguage: try row.decode(String.self, column: "sms_language"))
        }
    }

    // MARK: - SQL

    /// The `SET` list after `state`: constant SQL, every value bound.
    private static func effectsSQL(_ effects: Effects, _ statement: inout Statement) -> String {
        var set = ["updated_at = now()"]
        if effects.collectedNow { set.append("collected_at = now()") }
        if let deadline = effects.pickupDeadline { set.append("pickup_deadline = \(statement.bind(deadline.iso))::date") }
        switch effects.assignment {
        case .keep: break
        case .clear: set.append("assignment_id = NULL")
        case .set(let id): set.append("assignment_id = \(statement.bind(id))")
        case .perMove: set.append("assignment_id = NULLIF(u.assignment, '')::uuid")
        }
        // The two free texts name a person: an application erased while still open (`RETENTION_DAYS_MAX`)
        // closes without them, as nothing would erase them again (PRIVACY.md#erasure-on-schedule).
        if let reason = effects.cancelReason {
            set.append("cancel_reason = CASE WHEN personal_data_erased_at IS NULL THEN \(statement.bind(reason)) END, cancelled_at = now()")
        }
        if let handover = effects.handover {
            set.append("""
                fee_settled = fee_settled OR \(statement.bind(handover.feePaidNow)), handover_recipient = \(statement.bind(handover.recipient)), \
                proxy_name = CASE WHEN personal_data_erased_at IS NULL THEN \(statement.bind(handover.proxyName)) END, contact_required = false
                """)
        }
        return set.joined(separator: ", ")
    }

    /// The row left its source state since the caller read it: report the state it is in now.
    private static func lostRace(_ connection: PostgresConnection, authorityID: UUID, id: UUID, event: ApplicationEvent) throws -> IllegalTransition {
        guard let row = try connection.query("SELECT state FROM application WHERE authority_id = \(authorityID) AND id = \(id)").first else {
            throw AppError.notFound("application")
        }
        return IllegalTransition(state: try row.decode(ApplicationState.self, at: 0), event: event)
    }

    /// Builds a statement whose shape depends on the effects: SQL text only from constants here, values as `$n`.
    private struct Statement {
        var binds: [String?] = []

        mutating func bind<T: PostgresEncodable>(_ value: T) -> String {
            binds.append(value.postgresText)
            return "$\(binds.count)"
        }

        func query(_ sql: String) -> PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: binds) }
    }
}
