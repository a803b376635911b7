import Crypto
import Domain
import Foundation
import HTTPServer
import Postgres

/// Recording what the Bundesdruckerei delivered (docs/ARCHITECTURE.md#applications and
/// #compartment-choice): every item gets a result, nothing is dropped silently; matched box pickups get a compartment in the same transaction, counter
/// pickups become `ready_at_counter`.
enum DeliveryHandlers {
    struct Item: Codable {
        var documentNumber: String
        var vorgangsnummer: String?
    }

    struct Create: Codable {
        var deliveryNoteNumber: String
        var items: [Item]
    }

    /// `POST /deliveries/{id}/items`: more items of a delivery note being scanned.
    struct Append: Codable {
        var items: [Item]
    }

    struct CompartmentRef: Codable {
        var boxId: UUID
        var number: Int
    }

    struct ItemResult: Codable {
        var position: Int
        var documentNumber: String
        var vorgangsnummer: String?
        var result: DeliveryResult
        var applicationId: UUID?
        /// The application's state now (matched items): right after the delivery, the state it led to.
        var state: ApplicationState?
        var compartment: CompartmentRef?
    }

    struct Summary: Codable {
        var matched = 0, unknown = 0, duplicate = 0, alreadyDelivered = 0, cancelled = 0, invalid = 0
        /// Matched box pickups that got a compartment, and those still waiting for one (box full or fee open).
        var assigned = 0, waitingForCompartment = 0, readyAtCounter = 0
    }

    struct Delivery: Codable {
        var id: UUID
        var deliveryNoteNumber: String
        var receivedAt: Date
        var receivedBy: UUID
        var items: [ItemResult]
        var summary: Summary
    }

    static let maxItems = 5000

    static func create(_ ctx: StaffContext) throws -> Response {
        let body = try ctx.request.decode(Create.self)
        return try record(ctx, noteNumber: body.deliveryNoteNumber, items: body.items, route: "POST /api/v1/deliveries")
    }

    static func importCSV(_ ctx: StaffContext) throws -> Response {
        guard let note = try ctx.request.queryParameters()["deliveryNoteNumber"] else {
            throw AppError.invalid("deliveryNoteNumber", "missing_field", "Give the delivery note number as query parameter.")
        }
        return try record(ctx, noteNumber: note, items: try DeliveryCSV.parse(ctx.request), route: "POST /api/v1/deliveries/import")
    }

    /// A scanning session: the first scan creates the delivery, every further scan adds to it.
    static func appendItems(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        try append(ctx, deliveryID: id, items: try ctx.request.decode(Append.self).items)
    }

    static func read(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        try .json(try ctx.app.pool.withConnection { try fetch($0, authorityID: ctx.authorityID, id: id) })
    }

    static func record(_ ctx: StaffContext, noteNumber: String, items: [Item], route: String) throws -> Response {
        let note = try TextField.validate(noteNumber, field: "deliveryNoteNumber", maxLength: 64)
        guard !items.isEmpty else { throw AppError.invalid("items", "missing_field", "A delivery has at least one item.") }
        guard items.count <= maxItems else { throw AppError.invalid("items", "too_many", "At most \(maxItems) items per delivery.") }
        let deliveryID = Crypto.uuid()
        return try Idempotency.run(ctx, route: route) { connection in
            try connection.unique(AppError.conflict("duplicate_delivery_note", "This delivery note was recorded already.", field: "deliveryNoteNumber")) {
                try connection.execute("""
                    INSERT INTO delivery (authority_id, id, delivery_note_number, received_by)
                    VALUES (\(ctx.authorityID), \(deliveryID), \(note), \(ctx.user.userID))
                    """)
            }
            try DeliveryRecorder(connection: connection, ctx: ctx, deliveryID: deliveryID).record(items)
            try ctx.audit(connection, "delivery.recorded", "delivery", deliveryID, detail: ["items": String(items.count)])
            return try .json(try fetch(connection, authorityID: ctx.authorityID, id: deliveryID), status: .created)
        }
    }

    /// Adds items to a recorded delivery, numbered after its last item; a document already in it is a `duplicate`.
    static func append(_ ctx: StaffContext, deliveryID: UUID, items: [Item]) throws -> Response {
        guard !items.isEmpty else { throw AppError.invalid("items", "missing_field", "Add at least one item.") }
        return try ctx.transaction { connection in
            // The delivery row is locked: two scanners adding to one note take turns, and positions stay unique.
            guard try !connection.query("""
                SELECT 1 FROM delivery WHERE authority_id = \(ctx.authorityID) AND id = \(deliveryID) FOR UPDATE
                """).isEmpty else { throw AppError.notFound("delivery") }
            let existing = try connection.query("""
                SELECT coalesce(max(position), 0)::int8 AS last_position, coalesce(array_agg(document_number), '{}')::text[] AS documents,
                       count(*)::int8 AS items
                FROM delivery_item WHERE authority_id = \(ctx.authorityID) AND delivery_id = \(deliveryID)
                """).first
            let count = try existing?.decode(Int.self, column: "items") ?? 0
            guard count + items.count <= maxItems else { throw AppError.invalid("items", "too_many", "At most \(maxItems) items per delivery.") }
            try DeliveryRecorder(connection: connection, ctx: ctx, deliveryID: deliveryID,
                                 firstPosition: (try existing?.decode(Int.self, column: "last_position") ?? 0) + 1,
                                 documentsInDelivery: Set(try existing?.decode([String].self, column: "documents") ?? [])).record(items)
            try ctx.audit(connection, "delivery.items_added", "delivery", deliveryID, detail: ["items": String(items.count)])
            return try .json(try fetch(connection, authorityID: ctx.authorityID, id: deliveryID))
        }
    }

    static func fetch(_ connection: PostgresConnection, authorityID: UUID, id: UUID) throws -> Delivery {
        let head = try connection.query("""
            SELECT delivery_note_number, received_at, received_by FROM delivery WHERE authority_id = \(authorityID) AND id = \(id)
            """)
        guard let h = head.first else { throw AppError.notFound("delivery") }
        let rows = try connection.query("""
            SELECT i.position, i.document_number, i.vorgangsnummer, i.result, i.application_id, a.state, a.pickup_method, b.id AS box_id,
                   c.number AS compartment_number
            FROM delivery_item i
            LEFT JOIN application a ON a.authority_id = i.authority_id AND a.id = i.application_id AND i.result = \(DeliveryResult.matched)
            LEFT JOIN assignment asg ON asg.authority_id = a.authority_id AND asg.id = a.assignment_id
            LEFT JOIN compartment c ON c.authority_id = asg.authority_id AND c.id = asg.compartment_id
            LEFT JOIN box b ON b.authority_id = c.authority_id AND b.id = c.box_id
            WHERE i.authority_id = \(authorityID) AND i.delivery_id = \(id) ORDER BY i.position
            """)
        var summary = Summary()
        let items = try rows.map { row -> ItemResult in
            let result = try row.decode(DeliveryResult.self, column: "result")
            let state = try row.decode(ApplicationState?.self, column: "state")
            var compartment: CompartmentRef?
            if let box = try row.decode(UUID?.self, column: "box_id") {
                compartment = CompartmentRef(boxId: box, number: try row.decode(Int.self, column: "compartment_number"))
            }
            switch result {
            case .matched:
                summary.matched += 1
                if compartment != nil { summary.assigned += 1 }
                else if try row.decode(PickupMethod?.self, column: "pickup_method") == .box && state == .delivered { summary.waitingForCompartment += 1 }
                if state == .readyAtCounter { summary.readyAtCounter += 1 }
            case .unknown: summary.unknown += 1
            case .duplicate: summary.duplicate += 1
            case .alreadyDelivered: summary.alreadyDelivered += 1
            case .cancelled: summary.cancelled += 1
            case .invalid: summary.invalid += 1
            }
            return ItemResult(position: try row.decode(Int.self, column: "position"), documentNumber: try row.decode(String.self, column: "document_number"),
                              vorgangsnummer: try row.decode(String?.self, column: "vorgangsnummer"), result: result,
                              applicationId: try row.decode(UUID?.self, column: "application_id"), state: state, compartment: compartment)
        }
        return Delivery(id: id, deliveryNoteNumber: try h.decode(String.self, column: "delivery_note_number"), receivedAt: try h.decode(Date.self, column: "received_at"),
                        receivedBy: try h.decode(UUID.self, column: "received_by"), items: items, summary: summary)
    }
}

/// The delivery note as CSV (RFC 4180): a header row naming `document_number` and optionally
/// `vorgangsnummer` (any order, other columns ignored), then one row per document.
enum DeliveryCSV {
    static func parse(_ request: Request) throws -> [DeliveryHandlers.Item] {
        let mediaType = request.headers["Content-Type"]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard mediaType == "text/csv" else {
            throw AppError(.unsupportedMediaType, "unsupported_media_type", "Send the delivery note as text/csv.")
        }
        guard !request.body.contains(0), let text = String(validating: request.body, as: UTF8.self) else {
            throw AppError.invalid("body", "invalid_csv", "The CSV is not UTF-8 text (or contains NUL).")
        }
        let rows = try records(text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text)
        guard let header = rows.first?.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }),
              let documentColumn = header.firstIndex(of: "document_number") else {
            throw AppError.invalid("body", "invalid_csv", "The first row must name the columns, with document_number among them.")
        }
        let numberColumn = header.firstIndex(of: "vorgangsnummer")
        let data = rows.dropFirst().filter { !($0.count == 1 && $0[0].trimmingCharacters(in: .whitespaces).isEmpty) }
        guard data.count <= DeliveryHandlers.maxItems else { throw AppError.invalid("body", "too_many", "At most \(DeliveryHandlers.maxItems) rows per delivery.") }
        return data.map { row in
            let document = documentColumn < row.count ? row[documentColumn].trimmingCharacters(in: .whitespaces) : ""
            let number = numberColumn.flatMap { $0 < row.count ? row[$0].trimmingCharacters(in: .whitespaces) : nil }
            return DeliveryHandlers.Item(documentNumber: document, vorgangsnummer: (number?.isEmpty ?? true) ? nil : number)
        }
    }

    /// Splits CSV text into records; quoted fields may hold commas, quotes ("") and line breaks.
    static func records(_ text: String) throws -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var atFieldStart = true
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = iterator.next()
        while let c = pending {
            pending = iterator.next()
            if quoted {
                if c == "\"" {
                    if pending == "\"" { field.unicodeScalars.append("\""); pending = iterator.next() } else { quoted = false }
                } else {
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"" where atFieldStart:
                quoted = true
                atFieldStart = false
            case ",", ";":
                record.append(field)
                field = ""
                atFieldStart = true
            case "\r":
                continue
            case "\n":
                record.append(field)
                records.append(record)
                record = []
                field = ""
                atFieldStart = true
            default:
                field.unicodeScalars.append(c)
                atFieldStart = false
            }
        }
        if quoted { throw AppError.invalid("body", "invalid_csv", "A quoted field is not closed.") }
        if !field.isEmpty || !record.isEmpty {
            record.append(field)
            records.append(record)
        }
        return records
    }
}
