import Domain
import Foundation
import HTTPServer
import Postgres

/// An application's timeline and its letter (with the QR code of the status page).
extension ApplicationHandlers {
    /// The application's audit events, reads left out.
    static func events(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        try ctx.app.pool.withConnection { connection in
            _ = try ApplicationStore.fetch(connection, authorityID: ctx.authorityID, id: id)
            let rows = try connection.query("""
                SELECT at, action, actor_kind, actor_id, request_id, detail::text AS detail FROM audit_event
                WHERE authority_id = \(ctx.authorityID) AND entity_type = 'application' AND entity_id = \(id)
                  AND action <> ALL(\(Audit.readActions)::text[])
                ORDER BY at, id LIMIT 1000
                """)
            let events = try rows.map { row in
                ApplicationDTO.Event(
                    at: try row.decode(Date.self, column: "at"), action: try row.decode(String.self, column: "action"),
                    actorKind: try row.decode(String.self, column: "actor_kind"), actorId: try row.decode(UUID?.self, column: "actor_id"),
                    requestId: try row.decode(String?.self, column: "request_id"),
                    detail: try row.decode(String?.self, column: "detail").flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) }
                )
            }
            return try .json(events)
        }
    }

    /// The status URL printed in the letter for an application's Vorgangsnummer.
    /// The status page for the number, in English for an applicant whose language is English (the
    /// page's other languages come from the phone's Accept-Language).
    static func statusURL(_ ctx: StaffContext, vorgangsnummer: String, language: String = "de") -> String {
        let encoded = vorgangsnummer.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? vorgangsnummer
        return ctx.app.configuration.publicBaseURL + "/status?vn=" + encoded + (language == "en" ? "&lang=en" : "")
    }

    /// The letter's QR code: the status URL as SVG (libqrencode), for `<img>` on the printable letter.
    static func letterQR(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        let application = try ctx.app.pool.withConnection { try ApplicationStore.fetch($0, authorityID: ctx.authorityID, id: id) }
        try requireLetter(application)
        let url = statusURL(ctx, vorgangsnummer: application.vorgangsnummer, language: application.smsLanguage)
        let svg = try QRCode(url).svg(title: url)
        return Response(status: .ok, headers: [
            "Content-Type": "image/svg+xml",
            "Cache-Control": "private, no-store",
            "Content-Security-Policy": WebAssets.contentSecurityPolicy,
        ], body: Array(svg.utf8))
    }

    /// Once the personal data is erased there is nobody to write to: the letter (and its QR code) would
    /// greet no one and promise a document that is long collected, cancelled or past its maximum age.
    static func requireLetter(_ application: ApplicationDTO.Application) throws {
        guard application.personalDataErasedAt == nil else {
            throw AppError.personalDataErased("there is no letter for it any more")
        }
    }

    static func letter(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        try ctx.transaction { connection in
            let a = try ApplicationStore.fetch(connection, authorityID: ctx.authorityID, id: id)
            try requireLetter(a)
            try ctx.auditRead(connection, "application.letter_read", applications: [id])
            let site = try connection.query("""
                SELECT name, address, pickup_requires_pin_letter, pickup_second_factor, pickup_requires_old_document, loading_requires_two_staff
                FROM site WHERE authority_id = \(ctx.authorityID) AND id = \(a.siteId)
                """)
            guard let s = site.first else { throw AppError.notFound("site") }
            let display = (try? Vorgangsnummer.parse(a.vorgangsnummer, allowExternal: true))?.displayString ?? a.vorgangsnummer
            return try .json(ApplicationDTO.Letter(
                vorgangsnummer: a.vorgangsnummer, vorgangsnummerDisplay: display, statusUrl: statusURL(ctx, vorgangsnummer: a.vorgangsnummer, language: a.smsLanguage),
                familyName: a.familyName, givenNames: a.givenNames, documentType: a.documentType, pickupMethod: a.pickupMethod,
                siteName: try s.decode(String.self, column: "name"), siteAddress: try s.decode(String.self, column: "address"),
                issuance: a.issuance, fee: a.fee, pickupSettings: try SiteStore.pickupSettings(s), smsLanguage: a.smsLanguage
            ))
        }
    }
}
