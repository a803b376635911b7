import Foundation
import Postgres
import Testing

@Suite("PostgresQuery binds every interpolated value")
struct PostgresQueryTests {
    @Test func interpolationNumbersPlaceholders_andKeepsValuesOutOfSQL() {
        let id = 42
        let name = "O'Brien"
        let query: PostgresQuery = "SELECT * FROM t WHERE id = \(id) AND name = \(name) ORDER BY \(unsafeSQL: "id")"
        #expect(query.sql == "SELECT * FROM t WHERE id = $1 AND name = $2 ORDER BY id")
        #expect(query.binds == ["42", "O'Brien"])
        #expect(query.description == query.sql)
    }

    @Test func nilBindsNull() {
        let value: Int? = nil
        let query: PostgresQuery = "SELECT \(value)"
        #expect(query.binds == [nil])
    }

    @Test func injectionAttemptIsStoredLiterally() throws {
        let connection = try Fixtures.makeConnection()
        try connection.simpleQuery("CREATE TABLE x (value text NOT NULL)")
        let attack = "'); DROP TABLE x; --"
        #expect(try connection.execute("INSERT INTO x (value) VALUES (\(attack))") == 1)
        let rows = try connection.query("SELECT value FROM x")
        #expect(try rows.map { try $0.decode(String.self, column: "value") } == [attack])
    }

    @Test func executeReturnsAffectedRows_andRowsExposeColumns() throws {
        let connection = try Fixtures.makeConnection()
        try connection.simpleQuery("CREATE TABLE n (id int8 PRIMARY KEY, label text); INSERT INTO n VALUES (1, 'a'), (2, 'b'), (3, NULL)")
        #expect(try connection.execute("UPDATE n SET label = 'z' WHERE id >= \(2)") == 2)
        let rows = try connection.query("SELECT id, label FROM n ORDER BY id")
        #expect(rows.columns == ["id", "label"])
        #expect(rows.count == 3)
        #expect(try rows.map { try $0.decode(Int64.self, column: "id") } == [1, 2, 3])
        // The same SQL text again uses the cached prepared statement.
        #expect(try connection.query("SELECT id, label FROM n ORDER BY id").count == 3)
    }

    @Test func uniqueViolationCarriesSQLStateAndConstraint_butNoData() throws {
        let connection = try Fixtures.makeConnection()
        try connection.simpleQuery("CREATE TABLE person (phone text CONSTRAINT person_phone_key UNIQUE)")
        let phone = "+4915112345678"
        try connection.execute("INSERT INTO person (phone) VALUES (\(phone))")
        let error = #expect(throws: PostgresError.self) {
            try connection.execute("INSERT INTO person (phone) VALUES (\(phone))")
        }
        #expect(error?.kind == .query)
        #expect(error?.sqlState == SQLState.uniqueViolation)
        #expect(error?.constraint == "person_phone_key")
        #expect(error?.table == "person")
        #expect(error?.isConnectionProblem == false)
        #expect(error?.serverMessage?.isEmpty == false)
        let description = try #require(error?.description)
        #expect(!description.contains(phone))
        #expect(!description.contains(error?.serverMessage ?? "<none>"))
        #expect(description.contains("23505"))
        // The connection is still usable after a failed statement outside a transaction.
        #expect(try connection.query("SELECT 1").count == 1)
    }

    @Test func invalidTextRepresentationCarries22P02_withoutTheValue() throws {
        let connection = try Fixtures.makeConnection()
        let error = #expect(throws: PostgresError.self) {
            try connection.query("SELECT \("not-a-number-4711")::int8")
        }
        #expect(error?.sqlState == SQLState.invalidTextRepresentation)
        #expect(error?.description.contains("not-a-number-4711") == false)
    }

    @Test func syntaxErrorIsAQueryError_andSimpleQueryRunsSeveralStatements() throws {
        let connection = try Fixtures.makeConnection()
        let error = #expect(throws: PostgresError.self) { try connection.query("SELEC 1") }
        #expect(error?.sqlState == "42601")
        try connection.simpleQuery("CREATE TABLE a (id int); CREATE TABLE b (id int); INSERT INTO a VALUES (1)")
        #expect(try connection.query("SELECT count(*) FROM a").first?.decode(Int.self, at: 0) == 1)
    }

    @Test func closedConnectionIsBroken_andThrowsConnectionLost() throws {
        let connection = try Fixtures.makeConnection()
        #expect(!connection.isBroken)
        #expect(connection.socket >= 0)
        connection.close()
        connection.close()
        #expect(connection.isBroken)
        let error = #expect(throws: PostgresError.self) { try connection.query("SELECT 1") }
        #expect(error?.kind == .connectionLost)
    }

    @Test func connectFailsFast_whenNoServerListens() throws {
        let start = ContinuousClock.now
        let error = #expect(throws: PostgresError.self) {
            try PostgresConnection.connect("host=/nonexistent-socket-dir port=5432 dbname=x", logger: Fixtures.logger)
        }
        #expect(error?.kind == .connectionFailed)
        #expect(error?.isConnectionProblem == true)
        #expect(ContinuousClock.now - start < .seconds(2))
    }
}
