import Foundation
import Postgres
import Testing

@Suite("Types round-trip through PostgreSQL")
struct TypeRoundTripTests {
    let connection: PostgresConnection

    init() throws {
        connection = try Fixtures.makeConnection()
    }

    private func roundTrip<T: PostgresEncodable & PostgresDecodable>(_ value: T, as cast: String) throws -> T {
        let rows = try connection.query("SELECT \(value)::\(unsafeSQL: cast)")
        return try #require(rows.first).decode(T.self, at: 0)
    }

    @Test func integersKeepTheirValue_includingExtremes() throws {
        for value in [0, 1, -1, Int.max, Int.min] {
            #expect(try roundTrip(value, as: "int8") == value)
        }
        for value in [Int64.max, Int64.min] {
            #expect(try roundTrip(value, as: "int8") == value)
        }
        for value in [Int32.max, Int32.min] {
            #expect(try roundTrip(value, as: "int4") == value)
        }
        let small = try connection.query("SELECT \(Int16.min)::int2")
        #expect(try small[0].decode(Int32.self, at: 0) == Int32(Int16.min))
    }

    @Test func doublesKeepTheirValue() throws {
        for value in [0.0, -1.5, 0.1, 1e300, -2.2250738585072014e-308, Double.infinity, -Double.infinity] {
            #expect(try roundTrip(value, as: "float8") == value)
        }
        #expect(try roundTrip(Double.nan, as: "float8").isNaN)
    }

    @Test func boolsKeepTheirValue() throws {
        #expect(try roundTrip(true, as: "bool") == true)
        #expect(try roundTrip(false, as: "bool") == false)
    }

    @Test func stringsKeepUnicodeQuotesAndBackslashes() throws {
        let value = "Grüße 👩‍👩‍👧 'single' \"double\" \\ back\\slash \\x00 $1 \n\t; DROP"
        #expect(try roundTrip(value, as: "text") == value)
        #expect(try roundTrip("", as: "text") == "")
    }

    @Test func datesKeepMicroseconds() throws {
        let date = Date(timeIntervalSince1970: 1_795_239_549.123456)
        let decoded = try roundTrip(date, as: "timestamptz")
        #expect(abs(decoded.timeIntervalSince1970 - date.timeIntervalSince1970) < 0.000_001)
        let text = try connection.query("SELECT \(date)::timestamptz::text")
        #expect(try text[0].decode(String.self, at: 0) == "2026-11-21 05:39:09.123456+00")
        #expect(date.postgresText == "2026-11-21 05:39:09.123456+00")
    }

    @Test func datesDecodeEveryFractionLength_andRejectInfinity() throws {
        let rows = try connection.query("""
            SELECT '2026-01-02 03:04:05+00'::timestamptz, '2026-01-02 03:04:05.5+00'::timestamptz,
                   '1999-12-31 23:59:59.000001+00'::timestamptz, 'infinity'::timestamptz
            """)
        let row = try #require(rows.first)
        #expect(try row.decode(Date.self, at: 0).timeIntervalSince1970 == 1_767_323_045)
        #expect(try row.decode(Date.self, at: 1).timeIntervalSince1970 == 1_767_323_045.5)
        #expect(abs(try row.decode(Date.self, at: 2).timeIntervalSince1970 - 946_684_799.000001) < 0.000_001)
        let error = #expect(throws: PostgresError.self) { try row.decode(Date.self, at: 3) }
        #expect(error?.kind == .decoding)
    }

    @Test func uuidsKeepTheirValue() throws {
        let value = UUID()
        #expect(try roundTrip(value, as: "uuid") == value)
    }

    @Test func byteaKeepsAll256ByteValues() throws {
        let value = (0...255).map { UInt8($0) } + [0, 0, 255]
        #expect(try roundTrip(value, as: "bytea") == value)
        #expect(try roundTrip([UInt8](), as: "bytea") == [])
    }

    @Test func nullDecodesToNil_andNonOptionalNullNamesTheColumn() throws {
        let missing: String? = nil
        let rows = try connection.query("SELECT \(missing)::text AS nickname, \(Optional("x"))::text AS present")
        let row = try #require(rows.first)
        #expect(row.isNull(at: 0))
        #expect(try row.decode(String?.self, at: 0) == nil)
        #expect(try row.decode(String?.self, column: "present") == "x")
        let error = #expect(throws: PostgresError.self) { try row.decode(String.self, column: "nickname") }
        #expect(error?.kind == .decoding)
        #expect(error?.description.contains("nickname") == true)
    }

    /// NULL for every optional type (the requirement `postgresNull`, no cast), an error for the others.
    @Test func nullDecodesToNilForEveryOptional() throws {
        let row = try #require(try connection.query("SELECT NULL::int AS n, NULL::uuid AS u, NULL::bytea AS b, NULL::text[] AS a, NULL::bool AS f").first)
        #expect(try row.decode(Int?.self, column: "n") == nil)
        #expect(try row.decode(UUID?.self, column: "u") == nil)
        #expect(try row.decode([UInt8]?.self, column: "b") == nil)
        #expect(try row.decode([String]?.self, column: "a") == nil)
        #expect(try row.decode(Bool?.self, column: "f") == nil)
        for column in 0..<5 {
            #expect(throws: PostgresError.self) { try row.decode(Int.self, at: column) }
        }
        #expect(throws: PostgresError.self) { try row.decode([String].self, column: "a") }
    }

    /// By name, the first column of that name, in narrow results (names compared) and wide ones (a
    /// dictionary above 12 columns) alike; an unknown name is an error that names it.
    @Test func columnsAreFoundByName_theFirstOfThatName_narrowAndWide() throws {
        for width in [1, 3, 12, 13, 40] {
            let select = (0..<width).map { "\($0) AS c\($0)" }.joined(separator: ", ")
            let row = try #require(try connection.query(PostgresQuery(unsafeSQL: "SELECT \(select), -1 AS c0")).first)
            #expect(try row.decode(Int.self, column: "c0") == 0, "width \(width)")
            #expect(try row.decode(Int.self, column: "c\(width - 1)") == width - 1, "width \(width)")
            #expect(try row.decode(Int.self, at: width) == -1)
            let error = #expect(throws: PostgresError.self) { try row.decode(Int.self, column: "missing") }
            #expect(error?.description.contains("missing") == true)
        }
    }

    @Test func arraysArePostgresArrayLiterals() throws {
        let strings = ["plain", "with space", "quote\"inside", "back\\slash", "comma,brace{}", "NULL", "", "Yılmaz \"Ömer\" 東京 🙂\\"]
        #expect(try roundTrip(strings, as: "text[]") == strings)
        let count = try connection.query("SELECT cardinality(\(strings)::text[]), \(strings)::text[] @> ARRAY['NULL']")
        #expect(try count[0].decode(Int.self, at: 0) == strings.count)
        #expect(try count[0].decode(Bool.self, at: 1))
        let numbers: [Int64] = [1, -2, Int64.max]
        #expect(try roundTrip(numbers, as: "int8[]") == numbers)
        let uuids = [UUID(), UUID()]
        #expect(try roundTrip(uuids, as: "uuid[]") == uuids)
        #expect(try roundTrip([String](), as: "text[]") == [])
    }

    @Test func decodingAWrongTypeThrows_withoutQuotingTheValue() throws {
        let rows = try connection.query("SELECT 'secret-value'::text")
        let error = #expect(throws: PostgresError.self) { try rows[0].decode(Int.self, at: 0) }
        #expect(error?.kind == .decoding)
        #expect(error?.description.contains("secret-value") == false)
    }

    enum Colour: String, PostgresCodable, PostgresArrayElement, CaseIterable {
        case lightBlue = "light_blue"
        case red
    }

    @Test func stringEnumsBindAndDecodeByRawValue() throws {
        #expect(try roundTrip(Colour.lightBlue, as: "text") == .lightBlue)
        let text = try connection.query("SELECT \(Colour.lightBlue)::text, \(Colour.lightBlue) = 'light_blue', 'red' = ANY(\([Colour.red, .lightBlue])::text[])")
        #expect(try text[0].decode(String.self, at: 0) == "light_blue")
        #expect(try text[0].decode(Bool.self, at: 1))
        #expect(try text[0].decode(Bool.self, at: 2))
        #expect(try connection.query("SELECT NULL::text")[0].decode(Colour?.self, at: 0) == nil)
    }

    @Test func unknownEnumValue_isADecodingError_thatDoesNotQuoteTheValue() throws {
        let rows = try connection.query("SELECT 'purple-secret'::text")
        let error = #expect(throws: PostgresError.self) { try rows[0].decode(Colour.self, at: 0) }
        #expect(error?.kind == .decoding)
        #expect(error?.description.contains("purple-secret") == false)
    }

    @Test func literalInterpolation_splicesAQuotedEnumCase() throws {
        let query: PostgresQuery = "SELECT \(literal: Colour.lightBlue) = 'light_blue'"
        #expect(query.sql == "SELECT 'light_blue' = 'light_blue'")
        #expect(query.binds.isEmpty)
        #expect(try connection.query(query)[0].decode(Bool.self, at: 0))
    }

    enum Quoted: String, CaseIterable {
        case apostrophe = "o'clock", edges = "'both'", twice = "a''b", none = "plain", empty = ""
        /// A quote with a combining mark after it, and one after a prepended mark: each is one Character with
        /// the quote inside, which PostgreSQL still reads as a quote.
        case combining = "'\u{301}", prepended = "\u{600}' OR true --"
    }

    @Test(arguments: [(Quoted.apostrophe, "'o''clock'"), (.edges, "'''both'''"), (.twice, "'a''''b'"), (.none, "'plain'"), (.empty, "''"),
                      (.combining, "'''\u{301}'"), (.prepended, "'\u{600}'' OR true --'")])
    func literalInterpolation_doublesEveryQuote(_ value: Quoted, spliced: String) throws {
        let query: PostgresQuery = "SELECT \(literal: value)"
        #expect(Array(query.sql.utf8) == Array(("SELECT " + spliced).utf8))
        #expect(try connection.query(query)[0].decode(String.self, at: 0) == value.rawValue)
    }
}
