import Domain
import Foundation
import HTTPServer

extension BoxPickup {
    /// The two request bodies, read from the parsed JSON tree when they have exactly the expected shape
    /// (the panels always send that); anything else goes through `Request.decode`, which answers it as
    /// before, with the same errors. JSONDecoder with its strictness check cost ~8 % of a pickup's CPU.
    static func decodeStart(_ request: Request) throws -> Start {
        if plainJSON(request), case .object(let fields)? = try? JSONValue.parse(request.body), fields.count == 2,
           case .string(let mobile)? = fields["mobileNumber"], case .string(let pin)? = fields["pin"] {
            return Start(mobileNumber: mobile, pin: pin)
        }
        return try request.decode(Start.self)
    }

    static func decodeFactors(_ request: Request) throws -> Factors {
        if plainJSON(request), case .object(let fields)? = try? JSONValue.parse(request.body) {
            var factors = Factors()
            var known = 0
            func bool(_ key: String) -> Bool?? {
                switch fields[key] {
                case nil: return .some(nil)
                case .null?: known += 1; return .some(nil)
                case .bool(let b)?: known += 1; return .some(b)
                default: return nil
                }
            }
            func string(_ key: String) -> String?? {
                switch fields[key] {
                case nil: return .some(nil)
                case .null?: known += 1; return .some(nil)
                case .string(let s)?: known += 1; return .some(s)
                default: return nil
                }
            }
            if let letter = bool("pinLetterConfirmed"), let birth = string("dateOfBirth"), let can = string("can"),
               let inserted = bool("oldDocumentInserted"), known == fields.count {
                factors.pinLetterConfirmed = letter
                factors.dateOfBirth = birth
                factors.can = can
                factors.oldDocumentInserted = inserted
                return factors
            }
        }
        return try request.decode(Factors.self)
    }

    /// No Content-Type, or exactly `application/json` (other JSON types go the general way).
    private static func plainJSON(_ request: Request) -> Bool {
        guard let type = request.headers["Content-Type"] else { return true }
        return type == "application/json"
    }
}

extension BoxPickup.Session {
    /// The first step's answer, as `JSONCoding.encode` writes it (keys sorted), written directly.
    var json: [UInt8] {
        var object = JSONObjectWriter()
        object.field("expiresAt", expiresAt)
        object.field("factors", strings: factors.map(\.rawValue))
        object.field("pickupId", pickupId)
        return object.bytes()
    }
}

extension BoxPickup.Open {
    /// The second step's answer, as `JSONCoding.encode` writes it (keys sorted), written directly.
    var json: [UInt8] {
        var object = JSONObjectWriter(capacity: 96)
        object.field("assignmentId", assignmentId)
        object.field("compartmentNumbers", integers: compartmentNumbers)
        return object.bytes()
    }
}
