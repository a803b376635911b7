import CLibPQ
import Foundation

/// libpq connection strings — conninfo (`host=/run port=5432 user=x`) or `postgres://` URLs — read with
/// libpq's own parser (`PQconninfoParse`), so every form libpq accepts is understood the same way.
public enum PostgresConnectionString {
    /// The settings `connectionString` names (no defaults filled in); nil when libpq cannot parse it.
    public static func settings(_ connectionString: String) -> [String: String]? {
        guard let options = PQconninfoParse(connectionString, nil) else { return nil }
        defer { PQconninfoFree(options) }
        var settings: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { settings[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        return settings
    }

    /// The same connection with some settings changed (a nil value removes one), as conninfo; nil when
    /// `connectionString` cannot be parsed.
    public static func replacing(_ changes: [String: String?], in connectionString: String) -> String? {
        guard var settings = settings(connectionString) else { return nil }
        for (key, value) in changes { settings[key] = value }
        return settings.sorted { $0.key < $1.key }.map { "\($0.key)=" + quote($0.value) }.joined(separator: " ")
    }

    /// A conninfo value in single quotes, `\` and `'` escaped (libpq "Connection Strings", 34.1.1).
    static func quote(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}
