import Foundation
import HTTPServer
import Postgres

/// What a long poll answers: the changes after the cursor, the new cursor, the box's configuration.
struct BoxFeed: Codable, Sendable {
    struct Change: Codable, Sendable {
        var seq: Int64
        /// `to_load`, `released`, `compartment`
        var kind: String
        var compartmentNumber: Int
        var assignmentId: UUID?
        /// For `to_load`: the serial numbers of the documents that go into the compartment.
        var documentNumbers: [String]?
    }

    struct Configuration: Codable, Sendable {
        var boxId: UUID
        var siteName: String
        var timeZone: String
        var panelLanguages: [String]
        var pickupHours: [StatusHandlers.PickupHours]
        /// Which factors a pickup asks for, and whether loading needs two staff badges.
        var pickupSettings: SiteDTO.PickupSettings
        /// The panel's texts in each of the box's languages.
        var panelTexts: [BoxPanelTexts.Language]
    }

    var cursor: Int64
    var changes: [Change]
    var configuration: Configuration

    static let maxChanges = 500

    /// Changes after `since` (at most 500; the box polls again with the new cursor for more).
    static func read(_ pool: PostgresPool, box: BoxPrincipal, since: Int64) throws -> BoxFeed {
        try pool.withConnection { connection in
            let head = try connection.query("""
                SELECT b.change_seq, s.name AS site_name, s.time_zone, b.panel_languages,
                       s.pickup_requires_pin_letter, s.pickup_second_factor, s.pickup_requires_old_document, s.loading_requires_two_staff FROM box b
                JOIN site s ON s.authority_id = b.authority_id AND s.id = b.site_id
                WHERE b.authority_id = \(box.authorityID) AND b.id = \(box.boxID)
                """)
            guard let h = head.first else { throw BoxAuth.invalid }
            let rows = try connection.query("""
                SELECT ch.seq, ch.kind, ch.compartment_number, ch.assignment_id,
                       CASE WHEN ch.kind = 'to_load' THEN (
                           SELECT string_agg(d.document_number, ',' ORDER BY d.document_number) FROM application a
                           JOIN document d ON d.authority_id = a.authority_id AND d.application_id = a.id
                           WHERE a.authority_id = ch.authority_id AND a.assignment_id = ch.assignment_id) END AS document_numbers
                FROM box_change ch
                WHERE ch.authority_id = \(box.authorityID) AND ch.box_id = \(box.boxID) AND ch.seq > \(since)
                ORDER BY ch.seq LIMIT \(maxChanges)
                """)
            let changes = try rows.map { row in
                Change(seq: try row.decode(Int64.self, column: "seq"), kind: try row.decode(String.self, column: "kind"),
                       compartmentNumber: try row.decode(Int.self, column: "compartment_number"), assignmentId: try row.decode(UUID?.self, column: "assignment_id"),
                       documentNumbers: try row.decode(String?.self, column: "document_numbers").map { $0.split(separator: ",").map(String.init) })
            }
            let hours = try StatusHandlers.PickupHours.load(connection, authorityID: box.authorityID, siteID: box.siteID)
            let languages = try h.decode([String].self, column: "panel_languages")
            // A cursor above the box's number (a restored database) is brought back down, so nothing is skipped.
            let boxSeq = try h.decode(Int64.self, column: "change_seq")
            let cursor = changes.last?.seq ?? min(since, boxSeq)
            return BoxFeed(
                cursor: cursor,
                changes: changes,
                configuration: Configuration(boxId: box.boxID, siteName: try h.decode(String.self, column: "site_name"),
                                             timeZone: try h.decode(String.self, column: "time_zone"),
                                             panelLanguages: languages, pickupHours: hours, pickupSettings: try SiteStore.pickupSettings(h),
                                             panelTexts: BoxPanelTexts.forLanguages(languages))
            )
        }
    }
}
