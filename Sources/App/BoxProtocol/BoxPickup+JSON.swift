import Domain
import Foundation
import HTTPServer

/// The two answers of a pickup, written byte by byte as `JSONCoding.encode` would write them (sorted
/// keys, lower-case UUIDs, ISO 8601 seconds in UTC): JSONEncoder cost a tenth of the server's CPU per
/// pickup. A test holds both to the same bytes.
extension BoxPickup.Session {
    var json: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        out.append(contentsOf: #"{"expiresAt":""#.utf8)
        BoxPickup.appendISO8601(expiresAt, to: &out)
        out.append(contentsOf: #"","factors":["#.utf8)
        for (i, factor) in factors.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: factor.rawValue.utf8)   // [a-z_], nothing to escape
            out.append(UInt8(ascii: "\""))
        }
        out.append(contentsOf: #"],"pickupId":""#.utf8)
        out.append(contentsOf: pickupId.uuidString.lowercased().utf8)
        out.append(contentsOf: #""}"#.utf8)
        return out
    }
}

extension BoxPickup.Open {
    var json: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(80)
        out.append(contentsOf: #"{"assignmentId":""#.utf8)
        out.append(contentsOf: assignmentId.uuidString.lowercased().utf8)
        out.append(contentsOf: #"","compartmentNumbers":["#.utf8)
        out.append(contentsOf: compartmentNumbers.map(String.init).joined(separator: ",").utf8)
        out.append(contentsOf: "]}".utf8)
        return out
    }
}

extension BoxPickup {
    /// `2026-11-30T04:31:07Z`: whole seconds, UTC, as JSONEncoder's `.iso8601` strategy writes a date.
    static func appendISO8601(_ date: Date, to out: inout [UInt8]) {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func digits(_ value: Int32, _ count: Int) {
            var divisor: Int32 = 1
            for _ in 1..<count { divisor *= 10 }
            var v = value
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(v / divisor))
                v %= divisor
                divisor /= 10
            }
        }
        digits(parts.tm_year + 1900, 4)
        out.append(UInt8(ascii: "-"))
        digits(parts.tm_mon + 1, 2)
        out.append(UInt8(ascii: "-"))
        digits(parts.tm_mday, 2)
        out.append(UInt8(ascii: "T"))
        digits(parts.tm_hour, 2)
        out.append(UInt8(ascii: ":"))
        digits(parts.tm_min, 2)
        out.append(UInt8(ascii: ":"))
        digits(parts.tm_sec, 2)
        out.append(UInt8(ascii: "Z"))
    }
}

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
