import Foundation
import HTTPServer
import Postgres

/// Sites: pickup hours and exceptions (docs/ARCHITECTURE.md#domain-model). Reading is for caseworkers, changing for supervisors.
enum SiteHandlers {
    static func list(_ ctx: StaffContext) throws -> Response {
        try .json(try ctx.app.pool.withConnection { try SiteStore.list($0, authorityID: ctx.authorityID) })
    }

    static func deleteException(_ ctx: StaffContext, _ id: UUID, day: String) throws -> Response {
        try ctx.transaction { try SiteAdmin.deleteException($0, ctx.actor, siteID: id, day: day) }
        return Response(status: .noContent)
    }

    static func create(_ ctx: StaffContext) throws -> Response {
        let site = try SiteAdmin.validate(try ctx.request.decode(SiteDTO.Create.self))
        return try ctx.transaction { connection in
            let id = try SiteAdmin.insert(connection, ctx.actor, site)
            return try Response.json(try SiteStore.fetch(connection, authorityID: ctx.authorityID, id: id), status: .created)
        }
    }

    static func replaceHours(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        let hours = try SiteAdmin.validateHours(try ctx.request.decode(SiteDTO.Hours.self).hours)
        return try ctx.transaction { connection in
            try SiteAdmin.replaceHours(connection, ctx.actor, siteID: id, hours)
            return try .json(try SiteStore.fetch(connection, authorityID: ctx.authorityID, id: id))
        }
    }

    /// All four settings at once (PUT). Boxes see the change with their next poll.
    static func replacePickupSettings(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        let settings = try ctx.request.decode(SiteDTO.PickupSettings.self)
        guard SiteDTO.PickupSettings.secondFactors.contains(settings.secondFactor) else {
            throw AppError.invalid("secondFactor", "invalid_value", "secondFactor is one of \(SiteDTO.PickupSettings.secondFactors.joined(separator: ", ")).")
        }
        return try ctx.transaction { connection in
            let updated = try connection.query("""
                UPDATE site SET pickup_requires_pin_letter = \(settings.pinLetter), pickup_second_factor = \(settings.secondFactor),
                    pickup_requires_old_document = \(settings.oldDocument), loading_requires_two_staff = \(settings.fourEyesLoading)
                WHERE authority_id = \(ctx.authorityID) AND id = \(id) RETURNING id
                """)
            guard !updated.isEmpty else { throw AppError.notFound("site") }
            try ctx.audit(connection, "site.pickup_settings_changed", "site", id, detail: [
                "pinLetter": String(settings.pinLetter), "secondFactor": settings.secondFactor,
                "oldDocument": String(settings.oldDocument), "fourEyesLoading": String(settings.fourEyesLoading),
            ])
            return try .json(try SiteStore.fetch(connection, authorityID: ctx.authorityID, id: id))
        }
    }

    static func upsertException(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        let body = try ctx.request.decode(SiteDTO.ExceptionUpsert.self)
        return try ctx.transaction { connection in
            let (exception, inserted) = try SiteAdmin.upsertException(connection, ctx.actor, siteID: id, body)
            return try .json(exception, status: inserted ? .created : .ok)
        }
    }
}
