import Foundation
import HTTPServer
import Postgres

/// Boxes and compartments (docs/ARCHITECTURE.md#domain-model): caseworkers see them and block defective compartments;
/// supervisors create boxes, issue their tokens and lay out their compartments.
enum BoxHandlers {
    static func list(_ ctx: StaffContext) throws -> Response {
        try .json(try ctx.app.pool.withConnection { try BoxStore.list($0, authorityID: ctx.authorityID) })
    }

    static func read(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        try .json(try ctx.app.pool.withConnection { try BoxStore.fetch($0, authorityID: ctx.authorityID, id: id) })
    }

    static func unblock(_ ctx: StaffContext, _ id: UUID, _ n: Int) throws -> Response {
        try ctx.transaction { connection in
            try BoxAdmin.unblock(connection, ctx.actor, boxID: id, number: n)
            return try .json(try compartment(connection, ctx, id, n))
        }
    }

    static func issueToken(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        let issued = try ctx.transaction { connection in
            let token = try BoxAdmin.issueToken(connection, ctx.actor, boxID: id)
            let created = try connection.query("SELECT token_created_at FROM box WHERE authority_id = \(ctx.authorityID) AND id = \(id)")
            return BoxDTO.Token(boxId: id, token: token, tokenCreatedAt: try created.first?.decode(Date.self, at: 0) ?? Date())
        }
        var response = try Response.json(issued)
        // A secret: no cache on the way may keep it.
        response.headers.set("Cache-Control", "no-store")
        return response
    }

    static func createCompartments(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        let layout = try BoxAdmin.validate(try ctx.request.decode(BoxDTO.Layout.self))
        return try ctx.transaction { connection in
            try BoxAdmin.createCompartments(connection, ctx.actor, boxID: id, layout)
            return try .json(try BoxStore.fetch(connection, authorityID: ctx.authorityID, id: id), status: .created)
        }
    }

    /// `{number}`: ASCII digits 1…10000; anything else names no compartment.
    static func number(_ request: Request) throws -> Int {
        guard let n = AdminInput.asciiNumber(Substring(request.parameter("number")), in: 1...10_000) else { throw AppError.notFound("compartment") }
        return n
    }

    static func compartment(_ connection: PostgresConnection, _ ctx: StaffContext, _ boxID: UUID, _ number: Int) throws -> BoxDTO.Compartment {
        guard let c = try BoxStore.compartments(connection, authorityID: ctx.authorityID, boxID: boxID, number: number).first else {
            throw AppError.notFound("compartment")
        }
        return c
    }

    static func block(_ ctx: StaffContext, _ id: UUID, _ n: Int) throws -> Response {
        let body = try ctx.request.decode(BoxDTO.Block.self)
        let reason = try Input.enumValue(BoxAdmin.BlockReason.self, body.reason, field: "reason")
        let note = try body.note.map { try TextField.validate($0, field: "note") }
        if reason == .other && note == nil {
            throw AppError.invalid("note", "missing_field", "Say in the note why the compartment is blocked.")
        }
        return try ctx.transaction { connection in
            try BoxAdmin.block(connection, ctx.actor, boxID: id, number: n, reason: reason, note: note)
            return try .json(try compartment(connection, ctx, id, n))
        }
    }

    static func create(_ ctx: StaffContext) throws -> Response {
        let box = try BoxAdmin.validate(try ctx.request.decode(BoxDTO.Create.self))
        return try ctx.transaction { connection in
            let id = try BoxAdmin.insert(connection, ctx.actor, box)
            var response = try Response.json(try BoxStore.fetch(connection, authorityID: ctx.authorityID, id: id), status: .created)
            response.headers.set("Location", "/api/v1/boxes/\(id.uuidString.lowercased())")
            return response
        }
    }
}
