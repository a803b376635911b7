@testable import App
import Foundation
import HTTPTestSupport
import Postgres
import Testing

extension StaffClient {
    /// Any JSON answer (object or array) with its status.
    func value(_ method: String, _ path: String, json: [String: Any]? = nil) -> (Int, Any?) {
        let reply = call(method, path, json: json)
        return (reply?.status ?? 0, reply.flatMap { try? JSONSerialization.jsonObject(with: Data($0.body)) })
    }

    /// A JSON array answer.
    func list(_ path: String) -> [[String: Any]] {
        (value("GET", path).1 as? [[String: Any]]) ?? []
    }
}

extension AuthorityFixture {
    /// A box at the fixture's site with `rows` × `columns` compartments laid out over the API.
    func makeBox(_ app: Application, _ chef: StaffClient, name: String = "Box \(UUID().uuidString.prefix(6))",
                 rows: Int = 2, columns: Int = 3, heights: [Int]? = nil) throws -> String {
        let (status, box) = chef.json("POST", "/api/v1/boxes", json: ["siteId": siteID.uuidString, "name": name])
        #expect(status == 201, "\(box)")
        let id = try #require(box["id"] as? String)
        let layout: [String: Any] = ["rows": rows, "columns": columns, "rowHeightsCm": heights ?? (0..<rows).map { 150 - $0 * 30 }]
        let (laid, body) = chef.json("POST", "/api/v1/boxes/\(id)/compartments", json: layout)
        #expect(laid == 201, "\(body)")
        return id
    }

    func count(_ app: Application, _ sql: PostgresQuery) throws -> Int {
        try app.pool.query(sql).first?.decode(Int.self, at: 0) ?? -1
    }

    /// Actions of the audit log of this authority, oldest first.
    func auditActions(_ app: Application) throws -> [String] {
        try app.pool.query("SELECT action FROM audit_event WHERE authority_id = \(authorityID) ORDER BY id").map { try $0.decode(String.self, at: 0) }
    }
}

/// Inputs every free-text field must refuse, with the error code.
enum HostileText {
    static let nul = "a\u{0}b"
    static let rtlOverride = "abc\u{202E}cba"
    static let sqlLike = "x'); DROP TABLE site; --"
    static let huge = String(repeating: "x", count: 65_536)
    static let arabicIndicDigits = "١٠"
}
