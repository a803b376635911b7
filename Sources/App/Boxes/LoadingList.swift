import Domain
import Foundation
import HTTPServer
import Postgres

/// `GET /api/v1/boxes/{id}/loading-list`: what staff carry to the box to load — every compartment with
/// a live assignment still waiting for its document (`assigned`), with the documents that go in, by
/// compartment number; as JSON for the frontend's print view or as CSV (`?format=csv`). No names.
enum LoadingList {
    struct Item: Codable {
        var compartmentNumber: Int
        var row: Int
        var column: Int
        var accessible: Bool
        var assignmentId: UUID
        var documentNumbers: [String]
        var vorgangsnummern: [String]
        var assignedAt: Date
    }

    struct Page: Codable {
        var boxId: UUID
        var boxName: String
        var siteName: String
        var generatedAt: Date
        var items: [Item]
    }

    static func page(_ ctx: StaffContext, boxID: UUID) throws -> Response {
        let format = try PrintableList.Format(ctx.request)
        return try ctx.app.pool.withConnection { c in
            guard let box = try c.query("""
                SELECT b.name AS box_name, s.name AS site_name FROM box b JOIN site s ON s.authority_id = b.authority_id AND s.id = b.site_id
                WHERE b.authority_id = \(ctx.authorityID) AND b.id = \(boxID)
                """).first else { throw AppError.notFound("box") }
            let rows = try c.query("""
                SELECT c.number, c.row_index, c.column_index, c.accessible, asg.id AS assignment_id,
                       coalesce(array_agg(d.document_number ORDER BY d.document_number) FILTER (WHERE d.document_number IS NOT NULL), '{}') AS documents,
                       coalesce(array_agg(DISTINCT a.vorgangsnummer) FILTER (WHERE a.vorgangsnummer IS NOT NULL), '{}') AS vorgangsnummern,
                       asg.assigned_at
                FROM assignment asg
                JOIN compartment c ON c.authority_id = asg.authority_id AND c.id = asg.compartment_id
                LEFT JOIN application a ON a.authority_id = asg.authority_id AND a.assignment_id = asg.id
                LEFT JOIN document d ON d.authority_id = a.authority_id AND d.application_id = a.id
                WHERE asg.authority_id = \(ctx.authorityID) AND asg.status = \(AssignmentStatus.assigned) AND c.box_id = \(boxID)
                GROUP BY c.number, c.row_index, c.column_index, c.accessible, asg.id, asg.assigned_at
                ORDER BY c.number
                LIMIT 10000
                """)
            let items = try rows.map { row in
                Item(compartmentNumber: try row.decode(Int.self, column: "number"), row: try row.decode(Int.self, column: "row_index"),
                     column: try row.decode(Int.self, column: "column_index"), accessible: try row.decode(Bool.self, column: "accessible"),
                     assignmentId: try row.decode(UUID.self, column: "assignment_id"), documentNumbers: try row.decode([String].self, column: "documents"),
                     vorgangsnummern: try row.decode([String].self, column: "vorgangsnummern"), assignedAt: try row.decode(Date.self, column: "assigned_at"))
            }
            let page = Page(boxId: boxID, boxName: try box.decode(String.self, column: "box_name"), siteName: try box.decode(String.self, column: "site_name"),
                            generatedAt: Date(), items: items)
            guard format == .csv else { return try .json(page) }
            return PrintableList.csv(filename: "loading-list.csv", header: ["compartment", "row", "column", "accessible", "documents", "vorgangsnummern"],
                                     rows: items.map { [String($0.compartmentNumber), String($0.row), String($0.column), $0.accessible ? "yes" : "no",
                                                        $0.documentNumbers.joined(separator: " "), $0.vorgangsnummern.joined(separator: " ")] })
        }
    }
}
