import Domain
import Foundation
import Postgres

extension BoxAdmin {
    /// A validated block of compartments (see `BoxDTO.Layout` for the conventions).
    struct Layout {
        let rows: Int
        let columns: Int
        let startNumber: Int
        let firstRow: Int
        let firstColumn: Int
        /// Per row, top row first.
        let sizeClasses: [Int]
        let heightsCm: [Int]

        var count: Int { rows * columns }
        var lastNumber: Int { startNumber + count - 1 }
    }

    static let maxCompartmentsPerLayout = 2000
    static let sizeClassRange = 1...5
    static let floorHeightRange = 0...300

    static func validate(_ body: BoxDTO.Layout) throws -> Layout {
        func check(_ value: Int, _ range: ClosedRange<Int>, _ field: String) throws {
            guard range.contains(value) else { throw ServiceError.invalid(field, "out_of_range", "\(field) must be from \(range.lowerBound) to \(range.upperBound).") }
        }
        try check(body.rows, 1...100, "rows")
        try check(body.columns, 1...100, "columns")
        guard body.rows * body.columns <= maxCompartmentsPerLayout else {
            throw ServiceError.invalid("columns", "too_many_compartments", "At most \(maxCompartmentsPerLayout) compartments in one request.")
        }
        let start = body.startNumber ?? 1, firstRow = body.firstRow ?? 1, firstColumn = body.firstColumn ?? 1
        try check(start, 1...(10_001 - body.rows * body.columns), "startNumber")
        try check(firstRow, 1...(1001 - body.rows), "firstRow")
        try check(firstColumn, 1...(1001 - body.columns), "firstColumn")
        guard body.rowHeightsCm.count == body.rows else {
            throw ServiceError.invalid("rowHeightsCm", "wrong_count", "Give one floor height for each of the \(body.rows) rows, top row first.")
        }
        for (i, height) in body.rowHeightsCm.enumerated() {
            try check(height, floorHeightRange, "rowHeightsCm[\(i)]")
            if i > 0, height >= body.rowHeightsCm[i - 1] {
                throw ServiceError.invalid("rowHeightsCm[\(i)]", "row_heights_not_descending",
                                       "List the floor heights from the top row down: each row must be lower than the one above.")
            }
        }
        var sizes = Array(repeating: body.sizeClass ?? 1, count: body.rows)
        if let perRow = body.sizeClasses {
            guard body.sizeClass == nil else { throw ServiceError.invalid("sizeClasses", "conflicting_fields", "Give sizeClass or sizeClasses, not both.") }
            guard perRow.count == body.rows else {
                throw ServiceError.invalid("sizeClasses", "wrong_count", "Give one size class for each of the \(body.rows) rows, top row first.")
            }
            for (i, size) in perRow.enumerated() { try check(size, sizeClassRange, "sizeClasses[\(i)]") }
            sizes = perRow
        } else {
            try check(sizes[0], sizeClassRange, "sizeClass")
        }
        return Layout(rows: body.rows, columns: body.columns, startNumber: start, firstRow: firstRow, firstColumn: firstColumn,
                      sizeClasses: sizes, heightsCm: body.rowHeightsCm)
    }

    /// Creates the compartments of `layout` in one statement; `accessible` follows the Domain rule
    /// (`CompartmentCandidate.isAccessible(floorHeightCm:)`). 409 when a number or grid position is taken.
    static func createCompartments(_ connection: PostgresConnection, _ actor: AdminActor, boxID: UUID, _ layout: Layout) throws {
        try lock(connection, authorityID: actor.authorityID, boxID: boxID)
        let a = actor.authorityID
        let taken = try connection.query("""
            SELECT min(number) FILTER (WHERE number BETWEEN \(layout.startNumber) AND \(layout.lastNumber)) AS first_taken_number,
                   count(*) FILTER (WHERE row_index BETWEEN \(layout.firstRow) AND \(layout.firstRow + layout.rows - 1)
                                      AND column_index BETWEEN \(layout.firstColumn) AND \(layout.firstColumn + layout.columns - 1))::int8 AS positions_taken
            FROM compartment WHERE authority_id = \(a) AND box_id = \(boxID)
            """)
        if let number = try taken.first?.decode(Int?.self, column: "first_taken_number") {
            throw ServiceError.conflict("compartment_numbers_taken", "The box already has compartments with some of these numbers.",
                                    field: "startNumber", extra: ["firstTakenNumber": String(number)])
        }
        if try taken.first?.decode(Int.self, column: "positions_taken") ?? 0 > 0 {
            throw ServiceError.conflict("compartment_positions_taken", "The box already has compartments at some of these grid positions.", field: "firstRow")
        }
        let accessible = layout.heightsCm.map { CompartmentCandidate.isAccessible(floorHeightCm: $0) ? "t" : "f" }
        // One INSERT for the whole block: rows from the per-row arrays × columns from generate_series.
        try connection.unique(ServiceError.conflict("compartment_numbers_taken", "The box already has compartments with some of these numbers.", field: "startNumber")) {
            try connection.execute("""
                INSERT INTO compartment (authority_id, id, box_id, number, row_index, column_index, size_class, floor_height_cm, accessible)
                SELECT \(a), gen_random_uuid(), \(boxID), \(layout.startNumber) + (r.i - 1) * \(layout.columns) + (col - 1),
                       \(layout.firstRow) + r.i - 1, \(layout.firstColumn) + col - 1, r.size, r.height, r.accessible
                FROM unnest(\(layout.sizeClasses)::int[], \(layout.heightsCm)::int[], \(accessible)::boolean[]) WITH ORDINALITY AS r(size, height, accessible, i)
                CROSS JOIN generate_series(1, \(layout.columns)) AS col
                """)
        }
        try actor.audit(connection, "box.compartments_created", "box", boxID, detail: [
            "firstNumber": String(layout.startNumber), "lastNumber": String(layout.lastNumber),
            "accessible": String(accessible.filter { $0 == "t" }.count * layout.columns),
        ])
    }
}
