import Foundation

/// Request and response bodies of the box and compartment routes (camelCase).
enum BoxDTO {
    struct Create: Codable {
        var siteId: UUID
        var name: String
        /// ISO 639-1 codes of the touch panel's languages, first is the default; default ["de", "en"].
        var panelLanguages: [String]?
    }

    /// `POST /boxes/{id}/compartments`: a block of `rows` × `columns` compartments, numbered row-major
    /// from the top-left (`startNumber` at the top row's left, then to the right, then the next row down).
    ///
    /// Per-row arrays (`rowHeightsCm`, `sizeClasses`) list the rows **from the top row down**: element 0 is
    /// the top row (`row` = `firstRow`). The floor heights must therefore decrease strictly; a list given
    /// bottom-up is refused rather than silently mirrored.
    struct Layout: Codable {
        var rows: Int
        var columns: Int
        var startNumber: Int?
        /// Grid position of the block's top-left compartment (for extension modules); default 1.
        var firstRow: Int?
        var firstColumn: Int?
        /// One size class (1…5) for all; or `sizeClasses`, one per row.
        var sizeClass: Int?
        var sizeClasses: [Int]?
        /// Floor height above ground of each row, in cm (0…300), top row first.
        var rowHeightsCm: [Int]
    }

    struct Block: Codable {
        /// `defect`, `maintenance` or `other` (then `note` is required).
        var reason: String
        var note: String?
    }

    struct Counts: Codable {
        var total: Int
        var available: Int
        var occupied: Int
        var blocked: Int
    }

    struct Compartment: Codable {
        var number: Int
        var row: Int
        var column: Int
        var sizeClass: Int
        var floorHeightCm: Int
        var accessible: Bool
        var state: String
        var blockReason: String?
        var blockNote: String?
        /// Status of the live assignment (`assigned`, `loaded`, `retrieval_due`), if any.
        var assignmentStatus: String?
        /// Vorgangsnummern of the live assignment: one, or several for a household sharing the compartment.
        /// Never names.
        var vorgangsnummern: [String]
    }

    struct Box: Codable {
        var id: UUID
        var name: String
        var siteId: UUID
        var siteName: String
        var panelLanguages: [String]
        var compartmentCounts: Counts
        /// The box polled within the last 2 minutes.
        var online: Bool
        var lastSeenAt: Date?
        /// Whether a token was issued (the token itself is never shown again).
        var hasToken: Bool
        var tokenCreatedAt: Date?
        var createdAt: Date
        /// Set while the box refuses pickups after repeated failed attempts (an alert for staff).
        var pickupsBlockedUntil: Date?
        /// Set while the box refuses loading after repeated refused badges or documents (an alert for staff).
        var loadingBlockedUntil: Date?
        /// The grid, by number: only in `GET /boxes/{id}` and after a layout change.
        var compartments: [Compartment]?
    }

    /// The box's bearer token: shown in this answer only.
    struct Token: Codable {
        var boxId: UUID
        var token: String
        var tokenCreatedAt: Date
    }
}
