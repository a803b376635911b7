import Domain
import Foundation
import HTTPServer
import Postgres

/// The filters of `GET /applications`, checked from the query string; nil: not filtered by it.
struct ApplicationSearch {
    /// The filters as the audit event of a result names them.
    static let names = ["vorgangsnummer", "name", "state", "createdFrom", "createdTo", "contactRequired", "deliveredOn", "loadedOn",
                        "collectedOn", "pickupDeadline", "locked"]

    var limit = 50
    var offset = 0
    var number: String?
    /// `LIKE` pattern: the name's prefix with its wildcards escaped.
    var namePrefix: String?
    var state: String?
    var createdFrom: String?
    var createdTo: String?
    var contactRequired: Bool?
    // The dashboard's figures as lists: days in Europe/Berlin, like the figures.
    var deliveredOn: String?
    var loadedOn: String?
    var collectedOn: String?
    var pickupDeadline: String?
    var locked: Bool?
    /// The filters given, by name only (a searched name is personal data).
    var given: [String] = []

    init(_ query: QueryParameters) throws {
        limit = try Input.intParameter(query, "limit", default: 50, range: 1...200)
        offset = try Input.intParameter(query, "offset", default: 0, range: 0...100_000)
        // A malformed number matches nothing (no stored number is empty); it is not an error for a search field.
        number = query["vorgangsnummer"].map { (try? Vorgangsnummer.parse($0, allowExternal: true))?.value ?? "" }
        namePrefix = try query["name"].map {
            try TextField.validate($0, field: "name")
                .replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
        }
        state = try query["state"].map { try Input.enumValue(ApplicationState.self, $0, field: "state").rawValue }
        createdFrom = try query["createdFrom"].map { try Input.date($0, field: "createdFrom") }
        createdTo = try query["createdTo"].map { try Input.date($0, field: "createdTo") }
        contactRequired = try query["contactRequired"].map { try Input.boolParameter($0, field: "contactRequired") }
        deliveredOn = try query["deliveredOn"].map { try Input.date($0, field: "deliveredOn") }
        loadedOn = try query["loadedOn"].map { try Input.date($0, field: "loadedOn") }
        collectedOn = try query["collectedOn"].map { try Input.date($0, field: "collectedOn") }
        pickupDeadline = try query["pickupDeadline"].map { try Input.date($0, field: "pickupDeadline") }
        locked = try query["locked"].map { try Input.boolParameter($0, field: "locked") }
        given = Self.names.filter { query[$0] != nil }
    }

    /// `prefix` (a SELECT … FROM application a) restricted to the authority and the filters, then `suffix`.
    func query(_ prefix: String, authorityID: UUID, _ suffix: String = "") -> PostgresQuery {
        """
        \(unsafeSQL: prefix)
        WHERE a.authority_id = \(authorityID)
          AND (\(number)::text IS NULL OR a.vorgangsnummer = \(number))
          AND (\(namePrefix)::text IS NULL OR lower(a.family_name) LIKE lower(\(namePrefix)))
          AND (\(state)::text IS NULL OR a.state = \(state))
          AND (\(createdFrom)::date IS NULL OR a.created_at >= \(createdFrom)::date)
          AND (\(createdTo)::date IS NULL OR a.created_at < \(createdTo)::date + 1)
          AND (\(contactRequired)::bool IS NULL OR a.contact_required = \(contactRequired))
          AND (\(pickupDeadline)::date IS NULL OR a.pickup_deadline = \(pickupDeadline)::date)
          AND (\(collectedOn)::date IS NULL OR (a.collected_at AT TIME ZONE 'Europe/Berlin')::date = \(collectedOn)::date)
          AND (\(deliveredOn)::date IS NULL OR EXISTS (
                SELECT 1 FROM document d JOIN delivery dl ON dl.authority_id = d.authority_id AND dl.id = d.delivery_id
                WHERE d.authority_id = a.authority_id AND d.application_id = a.id
                  AND (dl.received_at AT TIME ZONE 'Europe/Berlin')::date = \(deliveredOn)::date))
          AND (\(loadedOn)::date IS NULL OR EXISTS (
                SELECT 1 FROM assignment s WHERE s.authority_id = a.authority_id AND s.id = a.assignment_id
                  AND (s.loaded_at AT TIME ZONE 'Europe/Berlin')::date = \(loadedOn)::date))
          AND (\(locked)::bool IS NULL OR coalesce((
                SELECT s.locked AND s.status = \(AssignmentStatus.loaded.rawValue) FROM assignment s
                WHERE s.authority_id = a.authority_id AND s.id = a.assignment_id), false) = \(locked))
        \(unsafeSQL: suffix)
        """
    }
}

extension ApplicationStore {
    /// One page of the authority's applications matching `search`, newest first, and the number of all matches.
    static func search(_ connection: PostgresConnection, authorityID: UUID, _ search: ApplicationSearch) throws -> (items: [ApplicationDTO.Application], total: Int) {
        let total = try connection.query(search.query("SELECT count(*)::int8 FROM application a", authorityID: authorityID)).first?.decode(Int.self, at: 0) ?? 0
        // limit and offset are validated integers, spliced as literals.
        let rows = try connection.query(search.query(select, authorityID: authorityID, "ORDER BY a.created_at DESC, a.id LIMIT \(search.limit) OFFSET \(search.offset)"))
        return (try rows.map { try decode($0) }, total)
    }
}
