import Domain
import Foundation
import HTTPServer
import Postgres

/// `GET /api/v1/sites/{id}/retrieval-list` (docs/ARCHITECTURE.md#deadline): what staff take out of the site's boxes —
/// documents past their pickup deadline and documents of cancelled applications — ordered by box and
/// compartment, as JSON for the frontend's print view or as CSV (`?format=csv`) for a printout.
/// No names or dates of birth: the list is carried around the building.
enum RetrievalList {
    struct Item: Codable {
        var boxId: UUID
        var boxName: String
        var compartmentNumber: Int
        var assignmentId: UUID
        var documentNumbers: [String]
        var vorgangsnummern: [String]
        /// `deadline_passed` or `cancelled`.
        var reason: String
        var pickupDeadline: String?
        var loadedAt: Date?
    }

    struct Page: Codable {
        var siteId: UUID
        var siteName: String
        var generatedAt: Date
        var items: [Item]
    }

    static func page(_ ctx: StaffContext, siteID: UUID) throws -> Response {
        let format = try PrintableList.Format(ctx.request)
        return try ctx.app.pool.withConnection { c in
            guard let site = try c.query("SELECT name FROM site WHERE authority_id = \(ctx.authorityID) AND id = \(siteID)").first else {
                throw AppError.notFound("site")
            }
            let rows = try c.query("""
                SELECT b.id AS box_id, b.name AS box_name, c.number, asg.id AS assignment_id,
                       coalesce(array_agg(d.document_number ORDER BY d.document_number) FILTER (WHERE d.document_number IS NOT NULL), '{}') AS documents,
                       coalesce(array_agg(DISTINCT a.vorgangsnummer) FILTER (WHERE a.vorgangsnummer IS NOT NULL), '{}') AS vorgangsnummern,
                       bool_and(a.state = \(ApplicationState.cancelled.rawValue)) AS cancelled, min(a.pickup_deadline)::text AS pickup_deadline, asg.loaded_at
                FROM assignment asg
                JOIN compartment c ON c.authority_id = asg.authority_id AND c.id = asg.compartment_id
                JOIN box b ON b.authority_id = c.authority_id AND b.id = c.box_id
                LEFT JOIN application a ON a.authority_id = asg.authority_id AND a.assignment_id = asg.id
                LEFT JOIN document d ON d.authority_id = a.authority_id AND d.application_id = a.id
                WHERE asg.authority_id = \(ctx.authorityID) AND asg.status = \(AssignmentStatus.retrievalDue) AND b.site_id = \(siteID)
                GROUP BY b.id, b.name, c.number, asg.id, asg.loaded_at
                ORDER BY b.name, b.id, c.number
                LIMIT 5000
                """)
            let items = try rows.map { row in
                Item(boxId: try row.decode(UUID.self, column: "box_id"), boxName: try row.decode(String.self, column: "box_name"),
                     compartmentNumber: try row.decode(Int.self, column: "number"), assignmentId: try row.decode(UUID.self, column: "assignment_id"),
                     documentNumbers: try row.decode([String].self, column: "documents"), vorgangsnummern: try row.decode([String].self, column: "vorgangsnummern"),
                     reason: try row.decode(Bool?.self, column: "cancelled") == true ? "cancelled" : "deadline_passed",
                     pickupDeadline: try row.decode(String?.self, column: "pickup_deadline"), loadedAt: try row.decode(Date?.self, column: "loaded_at"))
            }
            let page = Page(siteId: siteID, siteName: try site.decode(String.self, column: "name"), generatedAt: Date(), items: items)
            guard format == .csv else { return try .json(page) }
            return PrintableList.csv(filename: "retrieval-list.csv", header: ["box", "compartment", "documents", "vorgangsnummern", "reason", "pickup_deadline"],
                                     rows: items.map { [$0.boxName, String($0.compartmentNumber), $0.documentNumbers.joined(separator: " "),
                                                        $0.vorgangsnummern.joined(separator: " "), $0.reason, $0.pickupDeadline ?? ""] })
        }
    }
}

/// The lists staff print (retrieval, loading): JSON for the frontend's print view, or CSV (`?format=csv`)
/// separated by semicolons, as German spreadsheets expect.
enum PrintableList {
    enum Format: String {
        case json, csv

        /// `?format=`: json (default) or csv; anything else is 400.
        init(_ request: Request) throws {
            guard let format = Format(rawValue: try request.queryParameters()["format"] ?? "json") else {
                throw AppError.invalid("format", "invalid_parameter", "format is json or csv.")
            }
            self = format
        }
    }

    static func csv(filename: String, header: [String], rows: [[String]]) -> Response {
        var csv = header.joined(separator: ";") + "\r\n"
        for row in rows { csv += row.map(field).joined(separator: ";") + "\r\n" }
        return Response(status: .ok, headers: ["Content-Type": "text/csv; charset=utf-8",
                                               "Content-Disposition": "attachment; filename=\"\(filename)\""], body: Array(csv.utf8))
    }

    /// Quoted when needed; a leading `=`, `+`, `-` or `@` is defused so a spreadsheet does not run it as a formula.
    static func field(_ value: String) -> String {
        var v = value
        if let first = v.first, "=+-@".contains(first) { v = "'" + v }
        guard v.contains(where: { $0 == ";" || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return v }
        return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
