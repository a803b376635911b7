import Foundation
/// A SQL statement whose interpolated values become bound parameters (`$1`, `$2`, …).
///
/// ```swift
/// let query: PostgresQuery = "SELECT name FROM box WHERE id = \(id) AND authority_id = \(authorityID)"
/// // sql: "SELECT name FROM box WHERE id = $1 AND authority_id = $2", binds: [id, authorityID]
/// ```
/// `\(unsafeSQL:)` is the only way to splice text into the statement; never pass user input to it.
public struct PostgresQuery: ExpressibleByStringInterpolation, Sendable, CustomStringConvertible {
    /// The statement text with `$n` placeholders.
    public var sql: String
    /// Parameter values in text format, nil for NULL.
    public var binds: [String?]

    /// Creates a query from SQL text and already-encoded parameters.
    public init(unsafeSQL sql: String, binds: [String?] = []) {
        self.sql = sql
        self.binds = binds
    }

    public init(stringLiteral value: String) {
        self.init(unsafeSQL: value)
    }

    public init(stringInterpolation: StringInterpolation) {
        self.init(unsafeSQL: stringInterpolation.sql, binds: stringInterpolation.binds)
    }

    /// The SQL text only; bound values are never shown.
    public var description: String { sql }

    /// Collects literal SQL and bound values while the compiler builds a `PostgresQuery`.
    public struct StringInterpolation: StringInterpolationProtocol, Sendable {
        var sql: String
        var binds: [String?]

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql = ""
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
            binds = []
            binds.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) {
            sql += literal
        }

        /// Binds `value` as the next parameter `$n`.
        public mutating func appendInterpolation<T: PostgresEncodable>(_ value: T) {
            binds.append(value.postgresText)
            sql += "$\(binds.count)"
        }

        /// Binds `value` as the next parameter `$n`, or NULL when it is nil.
        public mutating func appendInterpolation<T: PostgresEncodable>(_ value: T?) {
            binds.append(value?.postgresText ?? nil)
            sql += "$\(binds.count)"
        }

        /// Splices a case of a closed set of strings (an enum) as a quoted SQL literal, not a parameter: for
        /// predicates that must match a partial index's `WHERE` (a prepared statement's generic plan cannot
        /// prove `state = $1` implies `state = 'available'`). The value is a constant of the program, never input.
        /// Every quote is doubled scalar by scalar, as PostgreSQL reads the bytes (a quote followed by a combining
        /// mark is one Character, but still a quote to PostgreSQL), and without Foundation: `replacingOccurrences`
        /// had been 3 % of a pickup's server CPU.
        public mutating func appendInterpolation<T: RawRepresentable & CaseIterable>(literal value: T) where T.RawValue == String {
            sql.unicodeScalars.append("'")
            for scalar in value.rawValue.unicodeScalars {
                sql.unicodeScalars.append(scalar)
                if scalar == "'" { sql.unicodeScalars.append(scalar) }
            }
            sql.unicodeScalars.append("'")
        }

        /// Splices `unsafeSQL` into the statement text verbatim. Only for trusted, constant SQL fragments.
        public mutating func appendInterpolation(unsafeSQL: String) {
            sql += unsafeSQL
        }
    }
}
