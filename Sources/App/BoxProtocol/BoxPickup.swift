import Crypto
import Domain
import Foundation
import HTTPServer
import Logging
import Postgres

/// Pickup at the box (docs/ARCHITECTURE.md#pickup). The panel sends the mobile number and PIN; the
/// server answers with the factors the site still asks for, then names the compartment to open.
/// Every refusal — unknown number, wrong PIN, locked assignment, wrong date of birth or CAN — has the
/// same status and body, and is committed before it is answered, so the counters cannot be rolled back.
///
/// Each step: the route table's admission reads what the step decides on (the box, the site's factors; the
/// session), or gives what this server remembers of an earlier one (`BoxAdmissions`) as a claim the
/// step's call checks with the token, the handler decodes the body, the PIN becomes its key or the factors are
/// checked here with the server's key and the Domain rule decides (`PickupFactorPolicy`, `PickupAnswers`),
/// the store writes the outcome (`BoxPickupStore`), and the outcome becomes the answer.
enum BoxPickup {
    struct Start: Codable {
        var mobileNumber: String
        var pin: String
    }

    struct Session: Codable {
        var pickupId: UUID
        /// Still to give, in the order the panel asks.
        var factors: [PickupFactor]
        var expiresAt: Date
    }

    struct Factors: Codable {
        var pinLetterConfirmed: Bool?
        var dateOfBirth: String?
        var can: String?
        var oldDocumentInserted: Bool?
    }

    struct Open: Codable {
        var assignmentId: UUID
        var compartmentNumbers: [Int]
    }

    static var refusal: Response {
        .error(.forbidden, code: "pickup_refused", message: "The details do not match. Please check them or ask at the counter.")
    }

    // MARK: - Mobile number and PIN

    /// The PIN becomes its PIN key here, with the server's key, and the database compares it with each
    /// candidate's digest under the box's lock (`BoxPickupStore.start`); the session asks for the factors
    /// the Domain rule gives the application matched. With an `Idempotency-Key` the call runs in the key's
    /// transaction, so the stored answer and the outcome it reports commit together. The box and its
    /// site's factors come from the route table's admission (from the head), or, remembered from an earlier
    /// request, as a claim the call checks: when it no longer holds, the box is admitted from the database
    /// and the call made again. An unknown token is answered 401 before bad input, a claim or not.
    static func start(_ app: Application, _ request: Request, _ admitted: BoxPickupStore.StartAdmission) throws -> Response {
        var admitted = admitted
        let mobile: String, pin: String
        do {
            (mobile, pin) = try startInput(request)
        } catch {
            if admitted.isClaim { _ = try readmit(app, admitted) }
            throw error
        }
        return try steps(app, box: admitted.box, request: request, route: "POST /api/v1/box/pickups") { c in
            var session = Session(pickupId: Crypto.uuid(), factors: [], expiresAt: Date(timeIntervalSinceNow: 120))
            var written = try startOnce(app, c, admitted, mobile: mobile, pin: pin, session: session)
            if admitted.isClaim && (written.outcome == .noBox || written.outcome == .stale) {
                admitted = try readmit(app, admitted)
                written = try startOnce(app, c, admitted, mobile: mobile, pin: pin, session: session)
            }
            let box = admitted.box
            if written.outcome == .legacy { written = try startLegacy(app, c, box: box, mobile: mobile, pin: pin, session: session) }
            switch written.outcome {
            case .accepted:
                session.factors = written.factors ?? []
                if let matched = written.matched {
                    app.boxAdmissions.rememberSession(session.pickupId, admission: admitted, session: matched, expires: session.expiresAt)
                }
                return .json(bytes: session.json, status: .created)
            case .deadlinePassed: return .error(.conflict, code: "deadline_passed", message: "The pickup period has ended; the document is being moved to the counter.")
            default: return try refusal(app, written, box: box)
            }
        }
    }

    /// Step 1's call, with the PIN keyed for the admission's authority.
    private static func startOnce(_ app: Application, _ c: any PickupQueries, _ admitted: BoxPickupStore.StartAdmission,
                                  mobile: String, pin: String, session: Session) throws -> BoxPickupStore.Written {
        let pinKey = Pin.key(pin, authorityID: admitted.box.authorityID, key: app.secretKey)
        guard let written = try BoxPickupStore.start(c, admitted, mobile: mobile, pinKey: pinKey, session: session,
                                                     limits: app.configuration.pickupLimits) else { throw BoxAuth.invalid }
        return written
    }

    /// A claim that did not hold, forgotten: the box admitted from the database, or `BoxAuth.invalid`.
    private static func readmit(_ app: Application, _ claim: BoxPickupStore.StartAdmission) throws -> BoxPickupStore.StartAdmission {
        app.boxAdmissions.forget(claim.tokenHash)
        guard let admitted = try BoxPickupStore.readStartAdmission(app, tokenHash: claim.tokenHash) else { throw BoxAuth.invalid }
        return admitted
    }

    /// The mobile number in E.164 and the 6-digit PIN, or the input's 400.
    private static func startInput(_ request: Request) throws -> (mobile: String, pin: String) {
        let body = try decodeStart(request)
        let mobile = try Input.phone(body.mobileNumber)
        guard body.pin.utf8.count == 6, body.pin.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw AppError.invalid("pin", "invalid_pin", "The PIN is 6 digits.")
        }
        return (mobile, body.pin)
    }

    // MARK: - Factors

    /// The factors are checked here against what the admission read, or what the first step remembered
    /// (the date of birth as canonical dates, the CAN as keyed hashes in constant time), and the Domain rule
    /// decides. A remembered session is a claim: when the call does not find it with this token (`no_box`,
    /// `not_found`), it is forgotten, the box and session are read from the database (401 for a token that
    /// no longer admits) and the call made again. A bad body with a claim is answered only after that
    /// read, so an unknown token is still answered 401 before bad input.
    static func factors(_ app: Application, _ request: Request, _ read: BoxPickupStore.FactorsRead) throws -> Response {
        guard let pickupID = read.pickupID else { throw notFound }
        var read = read
        let body: Factors
        do {
            body = try decodeFactors(request)
        } catch {
            if read.isClaim { _ = try readmit(app, read, pickupID: pickupID) }
            throw error
        }
        return try steps(app, box: read.box, request: request, route: "POST /api/v1/box/pickups/{id}/factors") { c in
            var written = try verifyOnce(app, c, read, pickupID: pickupID, body: body, request: request)
            if read.isClaim && (written.outcome == .noBox || written.outcome == .notFound) {
                read = try readmit(app, read, pickupID: pickupID)
                written = try verifyOnce(app, c, read, pickupID: pickupID, body: body, request: request)
            }
            if written.outcome != .factorsRefused { app.boxAdmissions.forgetSession(pickupID) }
            if let opened = written.opened { return .json(bytes: opened.json) }
            switch written.outcome {
            case .notFound: throw notFound
            case .expired: throw expired
            default: return try refusal(app, written, box: read.box)
            }
        }
    }

    /// Step 2's call, after the session's checks that need no lock.
    private static func verifyOnce(_ app: Application, _ c: any PickupQueries, _ read: BoxPickupStore.FactorsRead, pickupID: UUID,
                                   body: Factors, request: Request) throws -> BoxPickupStore.Written {
        guard let session = read.session else { throw notFound }
        if session.done { throw expired }
        let satisfied = answers(body, session: session, authorityID: read.box.authorityID, key: app.secretKey).satisfy(session.required)
        guard let written = try BoxPickupStore.verify(c, read, pickupID: pickupID, satisfied: satisfied, requestID: request.requestID,
                                                      clientAddress: app.auditAddress(request), limits: app.configuration.pickupLimits) else { throw notFound }
        return written
    }

    /// A remembered session that did not hold, forgotten: the box and session read from the database, or
    /// `BoxAuth.invalid`.
    private static func readmit(_ app: Application, _ claim: BoxPickupStore.FactorsRead, pickupID: UUID) throws -> BoxPickupStore.FactorsRead {
        app.boxAdmissions.forgetSession(pickupID)
        guard let read = try BoxPickupStore.readFactorsFromDatabase(app, pickupID: pickupID, tokenHash: claim.tokenHash) else { throw BoxAuth.invalid }
        return read
    }

    /// The body's answers, each checked against the stored value when the session asks for it.
    private static func answers(_ body: Factors, session: BoxPickupStore.FactorsRead.Session, authorityID: UUID, key: [UInt8]) -> PickupAnswers {
        var answers = PickupAnswers(pinLetterConfirmed: body.pinLetterConfirmed, oldDocumentInserted: body.oldDocumentInserted,
                                    dateOfBirthMatches: false, canMatches: false)
        if session.required.contains(.dateOfBirth) {
            let given = body.dateOfBirth.flatMap { try? DateOfBirth($0, today: CivilDate(date: Date(), timeZone: germany)) }
            answers.dateOfBirthMatches = given != nil && given?.canonical == session.dateOfBirth
        }
        if session.required.contains(.can) {
            answers.canMatches = constantTimeEquals(CANHash.hmac(body.can ?? "", authorityID: authorityID, key: key), session.canHash ?? [])
        }
        return answers
    }

    /// Dates of birth are read as at registration: today in Germany.
    private static let germany = TimeZone(identifier: "Europe/Berlin") ?? .gmt

    // MARK: - Idempotency

    /// Where a step's write runs. Without an `Idempotency-Key`, on the pool (no `BEGIN` and `COMMIT`: the
    /// function's call is its own transaction); with one, inside `Idempotency.run`'s transaction, which
    /// stores a 2xx answer with the outcome it reports (a retry with the same key and body gets that
    /// answer, and the attempt is not made or counted again).
    private static func steps(_ app: Application, box: BoxPrincipal, request: Request, route: String,
                              _ step: (any PickupQueries) throws -> Response) throws -> Response {
        guard request.headers[Idempotency.header] != nil else { return try step(app.pool) }
        return try Idempotency.run(app, box: box, request: request, route: route) { connection in try step(connection) }
    }

    // MARK: - Answers

    private static let notFound = AppError(.notFound, "pickup_not_found", "No such pickup.")
    private static let expired = AppError.conflict("pickup_expired", "This pickup has expired or was completed; start again with the mobile number and PIN.")

    /// The answers other than success: the gate's, and the one uniform refusal. A refusal that blocked
    /// the box is an alert in the log (with the count, never the input).
    private static func refusal(_ app: Application, _ written: BoxPickupStore.Written, box: BoxPrincipal) throws -> Response {
        switch written.outcome {
        case .noBox:
            throw BoxAuth.invalid
        case .stale:
            // Only a claim's call answers this, and `start` makes it again without one: an opaque 500.
            throw BoxPickupStore.UnexpectedOutcome(outcome: written.outcome)
        case .throttled:
            var r = Response.error(.tooManyRequests, code: "box_throttled", message: "Too many failed attempts at this box; pickups resume later.")
            r.headers.set("Retry-After", String(written.waitSeconds ?? 0))
            return r
        case .outsideHours:
            return .error(.conflict, code: "outside_pickup_hours", message: "Pickups are possible during the site's pickup hours only.")
        default:
            if written.boxBlocked {
                app.logger.warning("box blocked after repeated failed pickups", metadata: ["box.id": "\(box.key)", "pickup.failures": "\(written.failures ?? 0)"])
            }
            return refusal
        }
    }
}
