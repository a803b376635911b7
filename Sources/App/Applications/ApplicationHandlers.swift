import Crypto
import DecimalParsing
import Domain
import Foundation
import HTTPServer
import Postgres

/// Caseworkers' application routes (docs/ARCHITECTURE.md#applications).
enum ApplicationHandlers {
    /// One application; the read is audited.
    static func read(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        try .json(try ctx.transaction { c in
            let application = try ApplicationStore.fetch(c, authorityID: ctx.authorityID, id: id)
            try ctx.auditRead(c, "application.read", applications: [id])
            return application
        })
    }

    // MARK: - Validation shared by create and update

    static func domain<T>(_ body: () throws(DomainError) -> T) throws -> T {
        do { return try body() } catch { throw AppError.invalid(error.field, error.code, error.message) }
    }

    static func phone(_ text: String) throws -> String {
        try domain { () throws(DomainError) in try PhoneNumber.parse(text, field: "mobileNumber").e164 }
    }

    static func smsLanguage(_ text: String?) throws -> String {
        guard let text else { return "de" }
        guard text.utf8.count == 2, text.utf8.allSatisfy({ $0 >= 0x61 && $0 <= 0x7A }) else {
            throw AppError.invalid("smsLanguage", "invalid_language", "Use a two-letter ISO 639-1 code in lower case, e.g. de or en.")
        }
        return text
    }

    static func exemption(_ text: String?) throws -> FeeExemption? {
        guard let text else { return nil }
        guard let value = FeeExemption(rawValue: text) else {
            throw AppError.invalid("feeExemption", "invalid_value", "Use one of: " + FeeExemption.allCases.map(\.rawValue).joined(separator: ", ") + ".")
        }
        return value
    }

    static func enumValue<E: RawRepresentable & CaseIterable>(_ type: E.Type, _ text: String, field: String) throws -> E where E.RawValue == String {
        guard let value = E(rawValue: text) else {
            throw AppError.invalid(field, "invalid_value", "Use one of: " + E.allCases.map(\.rawValue).joined(separator: ", ") + ".")
        }
        return value
    }

    static func today() -> CivilDate { CivilDate(date: Date(), timeZone: TimeZone(identifier: "Europe/Berlin") ?? .gmt) }

    // MARK: - Create

    static func create(_ ctx: StaffContext) throws -> Response {
        let body = try ctx.request.decode(ApplicationDTO.Create.self)
        let documentType = try enumValue(DocumentType.self, body.documentType, field: "documentType")
        let issuance = try enumValue(Issuance.self, body.issuance, field: "issuance")
        let pickup = try enumValue(PickupMethod.self, body.pickupMethod, field: "pickupMethod")
        let familyName = try TextField.validate(body.familyName, field: "familyName")
        let givenNames = try TextField.validate(body.givenNames, field: "givenNames")
        let dateOfBirth = try domain { () throws(DomainError) in try DateOfBirth(body.dateOfBirth, today: today(), field: "dateOfBirth") }
        let mobile = try body.mobileNumber.map(phone)
        if pickup == .box && mobile == nil {
            throw AppError.invalid("mobileNumber", "missing_field", "Box pickup needs a mobile number for the SMS with the PIN.")
        }
        let language = try smsLanguage(body.smsLanguage)
        let exemption = try exemption(body.feeExemption)
        var canHash: [UInt8]?
        if let can = body.oldDocumentCan {
            guard issuance == .renewal else { throw AppError.invalid("oldDocumentCan", "not_applicable", "A CAN belongs to the old card of a renewal.") }
            guard can.utf8.count == 6, can.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw AppError.invalid("oldDocumentCan", "invalid_can", "The CAN is the 6-digit number on the front of the old card.")
            }
            canHash = CANHash.hmac(can, authorityID: ctx.authorityID, key: ctx.app.secretKey)
        }
        var external: Vorgangsnummer?
        if let given = body.vorgangsnummer {
            external = try domain { () throws(DomainError) in try Vorgangsnummer.parse(given, allowExternal: true, field: "vorgangsnummer") }
        }
        let fee = FeeSchedule.feeCents(issuance: issuance, exemption: exemption, dateOfBirth: dateOfBirth, on: today())
        let id = UUID()

        return try Idempotency.run(ctx, route: "POST /api/v1/applications") { connection in
            let site = try connection.query("SELECT 1 FROM site WHERE authority_id = \(ctx.authorityID) AND id = \(body.siteId)")
            guard !site.isEmpty else { throw AppError.invalid("siteId", "unknown_site", "No such site.") }
            // Vorgangsnummern come from the OS CSPRNG (a local generator: no state shared between threads).
            var rng = SystemRandomNumberGenerator()
            var number = external ?? Vorgangsnummer.generate(using: &rng)
            // ON CONFLICT instead of a savepoint: a collision costs no extra round trips.
            for attempt in 0..<5 {
                let inserted = try connection.execute("""
                    INSERT INTO application (authority_id, id, vorgangsnummer, site_id, document_type, issuance, family_name, given_names,
                        date_of_birth, mobile_number, pickup_method, needs_accessible, sms_language, old_can_hash, fee_cents, fee_exemption,
                        fee_settled, state, household_group)
                    VALUES (\(ctx.authorityID), \(id), \(number.value), \(body.siteId), \(documentType.rawValue), \(issuance.rawValue),
                        \(familyName), \(givenNames), \(dateOfBirth.canonical), \(mobile), \(pickup.rawValue), \(body.needsAccessibleCompartment ?? false),
                        \(language), \(canHash), \(fee), \(exemption?.rawValue), \(body.feeSettled ?? false), \(ApplicationState.registered.rawValue),
                        \(body.householdGroup))
                    ON CONFLICT (authority_id, vorgangsnummer) DO NOTHING
                    """)
                if inserted == 1 { break }
                if external != nil {
                    throw AppError.conflict("duplicate_vorgangsnummer", "An application with this Vorgangsnummer exists.", field: "vorgangsnummer")
                }
                // A generated number collided (1 in 10^13): draw another.
                guard attempt < 4 else { throw AppError.conflict("duplicate_vorgangsnummer", "No free Vorgangsnummer was found; try again.") }
                number = Vorgangsnummer.generate(using: &rng)
            }
            try ctx.audit(connection, "application.registered", "application", id, detail: ["pickupMethod": pickup.rawValue])
            var response = try Response.json(try ApplicationStore.fetch(connection, authorityID: ctx.authorityID, id: id), status: .created)
            response.headers.set("Location", "/api/v1/applications/\(id.uuidString.lowercased())")
            return response
        }
    }


    // MARK: - List

    static func list(_ ctx: StaffContext, _ query: QueryParameters) throws -> Response {
        let limit = try intParameter(query, "limit", default: 50, range: 1...200)
        let offset = try intParameter(query, "offset", default: 0, range: 0...100_000)
        var number: String?
        if let text = query["vorgangsnummer"] {
            // A malformed number matches nothing; it is not an error for a search field.
            // A malformed number matches nothing (no stored number is empty); it is not an error for a search field.
            number = (try? Vorgangsnummer.parse(text, allowExternal: true))?.value ?? ""
        }
        var namePrefix: String?
        if let name = query["name"] {
            namePrefix = try TextField.validate(name, field: "name")
                .replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
        }
        var state: String?
        if let s = query["state"] { state = try enumValue(ApplicationState.self, s, field: "state").rawValue }
        let from = try query["createdFrom"].map { try date($0, field: "createdFrom") }
        let to = try query["createdTo"].map { try date($0, field: "createdTo") }
        let contactRequired = try query["contactRequired"].map { try boolParameter($0, field: "contactRequired") }
        // The dashboard's figures as lists: days in Europe/Berlin, like the figures.
        let deliveredOn = try query["deliveredOn"].map { try date($0, field: "deliveredOn") }
        let loadedOn = try query["loadedOn"].map { try date($0, field: "loadedOn") }
        let collectedOn = try query["collectedOn"].map { try date($0, field: "collectedOn") }
        let pickupDeadline = try query["pickupDeadline"].map { try date($0, field: "pickupDeadline") }
        let locked = try query["locked"].map { try boolParameter($0, field: "locked") }
        func filtered(_ prefix: String, _ suffix: String) -> PostgresQuery {
            """
            \(unsafeSQL: prefix)
            WHERE a.authority_id = \(ctx.authorityID)
              AND (\(number)::text IS NULL OR a.vorgangsnummer = \(number))
              AND (\(namePrefix)::text IS NULL OR lower(a.family_name) LIKE lower(\(namePrefix)))
              AND (\(state)::text IS NULL OR a.state = \(state))
              AND (\(from)::date IS NULL OR a.created_at >= \(from)::date)
              AND (\(to)::date IS NULL OR a.created_at < \(to)::date + 1)
              AND (\(contactRequired)::bool IS NULL OR a.contact_required = \(contactRequired))
              AND (\(pickupDeadline)::date IS NULL OR a.pickup_deadline = \(pickupDeadline)::date)
              AND (\(collectedOn)::date IS NULL OR (a.collected_at AT TIME ZONE 'Europe/Berlin')::date = \(collectedOn)::date)
              AND (\(deliveredOn)::date IS NULL OR EXISTS (
                    SELECT 1 FROM document d JOIN delivery dl ON dl.authority_id = d.authority_id AND dl.id = d.delivery_id
                    WHERE d.authority_id = a.authority_id AND d.application_id = a.id
                      AND (dl.received_at AT TIME ZONE 'Europe/Berlin')::date = \(deliveredOn)::date))
              AND (\(loadedOn)::date IS NULL OR EXISTS (
                    SELECT 1 FROM assignment s WHERE s.authority_id = a.authority_id AND s.id = a.assignment_id
                      AND (s.loaded_at AT TIME ZONE 'Europe/Berlin')::date = \(loadedOn)::date))
              AND (\(locked)::bool IS NULL OR coalesce((
                    SELECT s.locked AND s.status = 'loaded' FROM assignment s WHERE s.authority_id = a.authority_id AND s.id = a.assignment_id), false) = \(locked))
            \(unsafeSQL: suffix)
            """
        }
        return try ctx.transaction { connection in
            let total = try connection.query(filtered("SELECT count(*)::int8 FROM application a", "")).first?.decode(Int.self, at: 0) ?? 0
            // limit and offset are validated integers, spliced as literals.
            let rows = try connection.query(filtered(ApplicationStore.select, "ORDER BY a.created_at DESC, a.id LIMIT \(limit) OFFSET \(offset)"))
            let items = try rows.map { try ApplicationStore.decode($0) }
            // Who saw which applications in a result: the filters by name only (a searched name is personal data).
            let filters = listFilters.filter { query[$0] != nil }
            try ctx.auditRead(connection, "application.listed", applications: items.map(\.id), detail: filters.isEmpty ? [:] : ["filters": filters.joined(separator: ",")])
            return try .json(ApplicationDTO.Page(items: items, offset: offset, limit: limit, total: total))
        }
    }

    /// The filters of `GET /applications`, as the audit event of a result names them.
    static let listFilters = ["vorgangsnummer", "name", "state", "createdFrom", "createdTo", "contactRequired", "deliveredOn", "loadedOn",
                              "collectedOn", "pickupDeadline", "locked"]

    static func intParameter(_ query: QueryParameters, _ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = query[name] else { return value }
        guard text.utf8.count <= 7, let n = Int(decimal: text, allowingSign: true), range.contains(n) else {
            throw AppError.invalid(name, "invalid_parameter", "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound).")
        }
        return n
    }

    static func boolParameter(_ text: String, field: String) throws -> Bool {
        switch text {
        case "true": return true
        case "false": return false
        default: throw AppError.invalid(field, "invalid_parameter", "\(field) must be true or false.")
        }
    }

    static func date(_ text: String, field: String) throws -> String {
        try domain { () throws(DomainError) in try CivilDate(iso: text, field: field).iso }
    }

    // MARK: - Update, cancel

    static func update(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        let body = try ctx.request.decode(ApplicationDTO.Update.self)
        let familyName = try body.familyName.map { try TextField.validate($0, field: "familyName") }
        let givenNames = try body.givenNames.map { try TextField.validate($0, field: "givenNames") }
        let mobile = try body.mobileNumber.map(phone)
        let pickup = try body.pickupMethod.map { try enumValue(PickupMethod.self, $0, field: "pickupMethod") }
        let language = try body.smsLanguage.map { try smsLanguage($0) }
        let exemption = try exemption(body.feeExemption)
        return try ctx.transaction { connection in
            let current = try ApplicationStore.fetch(connection, authorityID: ctx.authorityID, id: id, forUpdate: true)
            let state = current.state
            guard state.isOpen else {
                throw AppError.illegalTransition(current: current.state, action: "changing it")
            }
            // After delivery a new number would redirect the PIN: that needs a second staff member (docs/ARCHITECTURE.md#four-eyes).
            let mobileChanged = mobile != nil && mobile != current.mobileNumber
            if mobileChanged && StaffApproval.mobileNumberChangeNeedsApproval(in: state) {
                throw AppError.conflict("mobile_number_change_needs_approval",
                                        "After delivery a new mobile number needs a second staff member: ask with POST /api/v1/applications/{id}/mobile-number-changes.",
                                        field: "mobileNumber", extra: ["state": current.state.rawValue])
            }
            let beforeAssignment: Set<ApplicationState> = [.registered, .inProduction, .delivered]
            if (pickup != nil && pickup != current.pickupMethod) || body.needsAccessibleCompartment != nil || body.householdGroup != nil,
               !beforeAssignment.contains(state) {
                throw AppError.illegalTransition(current: current.state, action: "changing the pickup method or compartment needs")
            }
            let newPickup = pickup ?? current.pickupMethod
            if newPickup == .box && (mobile ?? current.mobileNumber) == nil {
                throw AppError.invalid("mobileNumber", "missing_field", "Box pickup needs a mobile number for the SMS with the PIN.")
            }
            // A delivered document whose applicant now collects at the counter is ready there at once.
            var newState = state
            if state == .delivered && newPickup == .counter {
                newState = (try? ApplicationLifecycle.next(.delivered, .movedToCounter)) ?? state
            }
            var fee = current.fee.amountCents
            if let exemption {
                let dob = try current.dateOfBirth.map { text in try domain { () throws(DomainError) in try DateOfBirth(text, today: today(), field: "dateOfBirth") } }
                fee = dob.map { FeeSchedule.feeCents(issuance: current.issuance, exemption: exemption, dateOfBirth: $0, on: today()) } ?? 0
            }
            try connection.execute("""
                UPDATE application SET
                    family_name = coalesce(\(familyName), family_name),
                    given_names = coalesce(\(givenNames), given_names),
                    mobile_number = coalesce(\(mobile), mobile_number),
                    mobile_number_changed_at = CASE WHEN \(mobileChanged) THEN now() ELSE mobile_number_changed_at END,
                    pickup_method = \(newPickup.rawValue),
                    needs_accessible = coalesce(\(body.needsAccessibleCompartment), needs_accessible),
                    sms_language = coalesce(\(language), sms_language),
                    fee_exemption = coalesce(\(exemption?.rawValue), fee_exemption),
                    fee_cents = \(fee),
                    fee_settled = coalesce(\(body.feeSettled), fee_settled),
                    household_group = coalesce(\(body.householdGroup), household_group),
                    contact_required = coalesce(\(body.contactRequired), contact_required),
                    updated_at = now()
                WHERE authority_id = \(ctx.authorityID) AND id = \(id)
                """)
            if newState != state {
                try ApplicationTransitions.apply(.movedToCounter, to: id, from: state, connection, authorityID: ctx.authorityID)
            }
            // Field names only: the values are personal data.
            let changed = [("familyName", familyName != nil), ("givenNames", givenNames != nil), ("mobileNumber", mobile != nil), ("pickupMethod", pickup != nil),
                           ("needsAccessibleCompartment", body.needsAccessibleCompartment != nil), ("smsLanguage", language != nil),
                           ("feeExemption", exemption != nil), ("feeSettled", body.feeSettled != nil), ("householdGroup", body.householdGroup != nil),
                           ("contactRequired", body.contactRequired != nil)]
                .filter(\.1).map(\.0).joined(separator: ",")
            var detail = ["fields": changed]
            if newState != state { detail["state"] = newState.rawValue }
            try ctx.audit(connection, "application.updated", "application", id, detail: detail)
            if newState == .readyAtCounter && state != .readyAtCounter, let number = mobile ?? current.mobileNumber {
                let site = try connection.query("SELECT name FROM site WHERE authority_id = \(ctx.authorityID) AND id = \(current.siteId)").first?.decode(String.self, at: 0)
                try SMSOutbox.enqueue(connection, cipher: ctx.app.smsCipher, authorityID: ctx.authorityID, applicationID: id, assignmentID: nil, to: number, kind: .readyAtCounter,
                                      language: language ?? current.smsLanguage, values: SMSValues(site: site))
            }
            return try .json(try ApplicationStore.fetch(connection, authorityID: ctx.authorityID, id: id))
        }
    }

    static func cancel(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        let body = try ctx.request.decode(ApplicationDTO.Cancel.self)
        let reason = try TextField.validate(body.reason, field: "reason", maxLength: 500)
        return try ctx.transaction { connection in
            let current = try ApplicationStore.fetch(connection, authorityID: ctx.authorityID, id: id, forUpdate: true)
            let state = current.state
            do {
                _ = try ApplicationLifecycle.next(state, .cancelled)
            } catch {
                throw AppError.illegalTransition(current: current.state, action: "cancelling")
            }
            var keepAssignment = false
            if let assignment = current.assignment {
                if assignment.status == .assigned {
                    try Assignments.release(connection, authorityID: ctx.authorityID, assignmentID: assignment.id, applicationID: id)
                } else {
                    let sharing = try connection.query("""
                        SELECT count(*)::int8 FROM application
                        WHERE authority_id = \(ctx.authorityID) AND assignment_id = \(assignment.id) AND id <> \(id)
                        """).first?.decode(Int.self, at: 0) ?? 0
                    guard sharing == 0 else {
                        // The siblings' documents share the loaded compartment and its PIN: taking it out
                        // for one would strand the others.
                        throw AppError.conflict("household_shares_compartment",
                                                "Other documents of the household are in the same compartment; hand them out or retrieve the compartment first.",
                                                extra: ["state": current.state.rawValue])
                    }
                    // The document is in the box: it stays there until staff retrieve it.
                    try Assignments.markForRetrieval(connection, authorityID: ctx.authorityID, assignmentID: assignment.id)
                    keepAssignment = true
                }
            }
            try ApplicationTransitions.apply(.cancelled, to: id, from: state, connection, authorityID: ctx.authorityID,
                                             effects: .init(assignment: keepAssignment ? .keep : .clear, cancelReason: reason))
            try ctx.audit(connection, "application.cancelled", "application", id, detail: ["from": current.state.rawValue])
            return try .json(try ApplicationStore.fetch(connection, authorityID: ctx.authorityID, id: id))
        }
    }

    // MARK: - Timeline, letter

    static func events(_ ctx: StaffContext, _ id: UUID) throws -> Response {
        try ctx.app.pool.withConnection { connection in
            _ = try ApplicationStore.fetch(connection, authorityID: ctx.authorityID, id: id)
            let rows = try connection.query("""
                SELECT at, action, actor_kind, actor_id, request_id, detail::text FROM audit_event
                WHERE authority_id = \(ctx.authorityID) AND entity_type = 'application' AND entity_id = \(id)
                  AND action <> ALL(\(Audit.readActions)::text[])
                ORDER BY at, id LIMIT 1000
                """)
            let events = try rows.map { row in
                ApplicationDTO.Event(
                    at: try row.decode(Date.self, at: 0), action: try row.decode(String.self, at: 1), actorKind: try row.decode(String.self, at: 2),
                    actorId: try row.decode(UUID?.self, at: 3), requestId: try row.decode(String?.self, at: 4),
                    detail: try row.decode(String?.self, at: 5).flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) }
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
            throw AppError.conflict("personal_data_erased", "The personal data of this application was erased after the retention period; there is no letter for it any more.")
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
                siteName: try s.decode(String.self, at: 0), siteAddress: try s.decode(String.self, at: 1),
                issuance: a.issuance, fee: a.fee, pickupSettings: try SiteStore.pickupSettings(s, at: 2), smsLanguage: a.smsLanguage
            ))
        }
    }
}
