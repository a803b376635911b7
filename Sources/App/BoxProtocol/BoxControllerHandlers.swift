import DecimalParsing
import Foundation
import HTTPServer
import Postgres

/// Routes for the box controllers (docs/ARCHITECTURE.md#box-protocol), authenticated by the box's bearer token.
enum BoxControllerHandlers {
    static let maxWaitSeconds = 60
    static let defaultWaitSeconds = 30

    /// `GET /api/v1/box/assignments?since=<cursor>&wait=<seconds ≤ 60>`: the changes after the cursor at
    /// once, or — when there are none — a parked request that a NOTIFY for this box (from any server
    /// process) or the deadline answers. While parked it holds no thread and no database connection.
    static func poll(_ app: Application, _ request: Request, _ box: BoxPrincipal, _ responder: Responder) throws {
        let query = try request.queryParameters()
        let since = try integer(query, "since", default: 0, range: 0...Int64.max)
        let wait = Int(try integer(query, "wait", default: Int64(defaultWaitSeconds), range: 0...Int64(maxWaitSeconds)))
        let deadline = Date(timeIntervalSinceNow: TimeInterval(wait))

        @Sendable func attempt() {
            do {
                // Read the generation first: a NOTIFY between the read and the park makes the park re-read.
                let generation = app.longPolls.generation(box.key)
                let feed = try BoxFeed.read(app.pool, box: box, since: since)
                if !feed.changes.isEmpty || Date() >= deadline {
                    responder.respond(try .json(feed))
                    return
                }
                let quiet = BoxFeed(cursor: feed.cursor, changes: [], configuration: feed.configuration)
                let id = app.longPolls.park(box: box.key, seenGeneration: generation, deadline: deadline,
                                            wake: { attempt() },
                                            expire: { responder.respond((try? .json(quiet)) ?? Response(status: .internalServerError)) })
                if let id { responder.onCancel { app.longPolls.remove(id) } }
            } catch {
                responder.fail(error)
            }
        }
        attempt()
    }

    static func integer(_ query: QueryParameters, _ name: String, default value: Int64, range: ClosedRange<Int64>) throws -> Int64 {
        guard let text = query[name] else { return value }
        guard text.utf8.count <= 19, let n = Int64(decimal: text), range.contains(n) else {
            throw AppError.invalid(name, "invalid_parameter", "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound).")
        }
        return n
    }
}
