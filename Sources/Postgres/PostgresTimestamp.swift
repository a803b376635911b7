import DecimalParsing
import Foundation

/// `timestamptz` text conversion without `DateFormatter` (which is slow and not thread-safe to share).
enum PostgresTimestamp {
    /// `YYYY-MM-DD HH:MM:SS.ffffff+00`, always UTC, microseconds rounded.
    static func format(_ date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let (days, microOfDay) = floorDivide(micros, 86_400_000_000)
        let (year, month, day) = civil(fromDays: days)
        let seconds = microOfDay / 1_000_000
        let fraction = microOfDay % 1_000_000
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2)) "
            + "\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2))"
            + ".\(pad(fraction, 6))+00"
    }

    /// Parses `YYYY-MM-DD HH:MM:SS[.f{1,6}](+|-)HH[:MM[:SS]]`. `infinity` and BC dates are errors.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> Date {
        let invalid = PostgresError(.decoding, reason: "value is not a finite ISO timestamp with time zone")
        var index = 0
        func number(_ width: Int) throws -> Int64 {
            guard index + width <= bytes.count, let value = Int64(decimal: UnsafeRawBufferPointer(rebasing: bytes[index..<(index + width)])) else { throw invalid }
            index += width
            return value
        }
        func expect(_ character: Character) throws {
            guard index < bytes.count, bytes[index] == character.asciiValue else { throw invalid }
            index += 1
        }
        let year = try number(4)
        try expect("-")
        let month = try number(2)
        try expect("-")
        let day = try number(2)
        try expect(" ")
        let hour = try number(2)
        try expect(":")
        let minute = try number(2)
        try expect(":")
        let second = try number(2)
        var micros: Int64 = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                guard digits < 6 else { throw invalid }
                micros = micros * 10 + Int64(bytes[index] - UInt8(ascii: "0"))
                digits += 1
                index += 1
            }
            guard digits > 0 else { throw invalid }
            for _ in digits..<6 { micros *= 10 }
        }
        guard index < bytes.count else { throw invalid }
        let sign: Int64
        switch bytes[index] {
        case UInt8(ascii: "+"): sign = 1
        case UInt8(ascii: "-"): sign = -1
        default: throw invalid
        }
        index += 1
        var offsetSeconds = try number(2) * 3600
        if index < bytes.count {
            try expect(":")
            offsetSeconds += try number(2) * 60
            if index < bytes.count {
                try expect(":")
                offsetSeconds += try number(2)
            }
        }
        guard index == bytes.count, (1...12).contains(month), (1...31).contains(day),
              hour < 24, minute < 60, second < 60 else { throw invalid }
        let days = days(fromCivil: year, month, day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - sign * offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let quotient = a / b
        let remainder = a % b
        return remainder < 0 ? (quotient - 1, remainder + b) : (quotient, remainder)
    }

    // Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms", days_from_civil / civil_from_days.
    private static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
