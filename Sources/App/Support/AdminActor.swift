import DecimalParsing
import Foundation
import HTTPServer
import Postgres

/// Who makes an administrative change, and from where: every service write records its audit
/// event with it, in the same transaction as the change. HTTP handlers act as the logged-in user;
/// the operator command line acts as `.system`.
struct AdminActor {
    let authorityID: UUID
    let actor: Audit.Actor
    let requestID: String?
    let clientAddress: String?

    /// The operator command line of one authority.
    static func system(_ authorityID: UUID) -> AdminActor {
        AdminActor(authorityID: authorityID, actor: .system, requestID: nil, clientAddress: nil)
    }

    /// Writes the audit event (ids only, never personal data or secrets).
    func audit(_ connection: PostgresConnection, _ action: String, _ entityType: String, _ entityID: UUID?, detail: [String: String] = [:]) throws {
        try Audit.record(connection, authorityID: authorityID, actor: actor, action: action, entityType: entityType,
                         entityID: entityID, requestID: requestID, clientAddress: clientAddress, detail: detail)
    }
}

extension StaffContext {
    /// The logged-in user as the actor of administrative changes.
    var actor: AdminActor {
        AdminActor(authorityID: authorityID, actor: .user(user.userID), requestID: request.requestID, clientAddress: app.auditAddress(request))
    }
}

/// Small parsers for path parameters and inputs shared by the administrative routes.
enum AdminInput {
    /// A path `{id}`: anything that is not a UUID names nothing, so it is a 404 like an unknown id.
    static func id(_ text: String, _ what: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else { throw ServiceError.notFound(what) }
        return id
    }

    /// A whole number written with ASCII digits only (no sign, no Arabic-Indic or full-width digits),
    /// at most `range.upperBound`; nil otherwise.
    static func asciiNumber(_ text: Substring, in range: ClosedRange<Int>) -> Int? {
        guard text.utf8.count <= 6, let n = Int(decimal: text), range.contains(n) else { return nil }
        return n
    }

    /// `^[a-z0-9][a-z0-9<extra>]{1,62}$` (the CHECKs on `authority.slug` and `app_user.username`), in bytes.
    static func isIdentifier(_ text: String, extra: Set<UInt8>) -> Bool {
        let bytes = Array(text.utf8)
        func isAlnum(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) }
        guard (2...63).contains(bytes.count), isAlnum(bytes[0]) else { return false }
        return bytes.dropFirst().allSatisfy { isAlnum($0) || extra.contains($0) }
    }

    /// Runs `body` and turns a unique violation into the given conflict (a ``ServiceError``, or an
    /// ``AppError`` in a handler) — the one place where SQLSTATE 23505 becomes a domain error. Inside a
    /// transaction that must go on, use `PostgresConnection.unique`.
    @discardableResult
    static func unique<T>(_ conflict: @autoclosure () -> any Error, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PostgresError where error.sqlState == SQLState.uniqueViolation {
            throw conflict()
        }
    }
}

extension PostgresConnection {
    /// Runs `body` in a savepoint and turns a unique violation into `conflict`: the insert is undone and
    /// the transaction stays usable.
    @discardableResult
    func unique<T>(_ conflict: @autoclosure () -> any Error, _ body: () throws -> T) throws -> T {
        try AdminInput.unique(conflict()) { try savepoint(body) }
    }
}
