import Foundation

/// The two answers of a pickup, written byte by byte as `JSONCoding.encode` would write them (sorted
/// keys, upper-case UUIDs, ISO 8601 seconds in UTC): JSONEncoder cost a tenth of the server's CPU per
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
            out.append(contentsOf: factor.utf8)   // a PickupFactor's name: [a-z_], nothing to escape
            out.append(UInt8(ascii: "\""))
        }
        out.append(contentsOf: #"],"pickupId":""#.utf8)
        out.append(contentsOf: pickupId.uuidString.utf8)
        out.append(contentsOf: #""}"#.utf8)
        return out
    }
}

extension BoxPickup.Open {
    var json: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(80)
        out.append(contentsOf: #"{"assignmentId":""#.utf8)
        out.append(contentsOf: assignmentId.uuidString.utf8)
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
