import CLibPQ

/// The rows of one result, copied out of the `PGresult` so that it can be freed at once.
///
/// All cell bytes live in one buffer with an offset table, not one `String` per cell.
public struct PostgresRows: Sendable, RandomAccessCollection {
    /// Column names in result order.
    public let columns: [String]
    @usableFromInline let storage: Storage

    /// Immutable after construction, hence Sendable. Visible to inlined code (`PostgresRow.decode` is
    /// specialized in its callers' modules), never to callers.
    @usableFromInline final class Storage: Sendable {
        @usableFromInline let bytes: [UInt8]
        /// Per cell (row-major): start offset into `bytes`, or -1 for NULL; `ends[i]` is the end offset.
        @usableFromInline let starts: [Int]
        @usableFromInline let ends: [Int]
        @usableFromInline let columnCount: Int
        /// Column name → first position, for wide results only: a few names are found faster by comparing
        /// them than by hashing (most results have fewer than ``indexedColumns`` columns).
        let columnIndex: [String: Int]?

        init(bytes: [UInt8], starts: [Int], ends: [Int], columnCount: Int, columnIndex: [String: Int]?) {
            self.bytes = bytes
            self.starts = starts
            self.ends = ends
            self.columnCount = columnCount
            self.columnIndex = columnIndex
        }
    }

    /// Copies every cell of `result`; the caller still owns and clears `result`.
    init(copying result: OpaquePointer) {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        var columns: [String] = []
        columns.reserveCapacity(columnCount)
        for column in 0..<columnCount {
            columns.append(PQfname(result, Int32(column)).map { String(cString: $0) } ?? "")
        }
        var columnIndex: [String: Int]?
        if columnCount > Self.indexedColumns {
            var index: [String: Int] = [:]
            for (column, name) in columns.enumerated() where index[name] == nil { index[name] = column }
            columnIndex = index
        }
        var totalLength = 0
        for row in 0..<rowCount {
            for column in 0..<columnCount {
                totalLength += Int(PQgetlength(result, Int32(row), Int32(column)))
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(totalLength)
        var starts: [Int] = []
        var ends: [Int] = []
        starts.reserveCapacity(rowCount * columnCount)
        ends.reserveCapacity(rowCount * columnCount)
        for row in 0..<rowCount {
            for column in 0..<columnCount {
                if PQgetisnull(result, Int32(row), Int32(column)) != 0 {
                    starts.append(-1)
                    ends.append(-1)
                    continue
                }
                let length = Int(PQgetlength(result, Int32(row), Int32(column)))
                starts.append(bytes.count)
                if length > 0, let value = PQgetvalue(result, Int32(row), Int32(column)) {
                    bytes.append(contentsOf: UnsafeRawBufferPointer(start: value, count: length))
                }
                ends.append(bytes.count)
            }
        }
        self.columns = columns
        self.storage = Storage(
            bytes: bytes, starts: starts, ends: ends, columnCount: columnCount, columnIndex: columnIndex
        )
    }

    /// Results with more columns than this find a column by name through a dictionary.
    static let indexedColumns = 12

    public var startIndex: Int { 0 }
    public var endIndex: Int { storage.columnCount == 0 ? 0 : storage.starts.count / storage.columnCount }

    public subscript(position: Int) -> PostgresRow {
        precondition(indices.contains(position), "row index out of range")
        return PostgresRow(storage: storage, columns: columns, row: position)
    }
}

/// One row of a `PostgresRows`.
///
/// `decode` is `@inlinable`, so that it is specialized for each type where it is called: unspecialized, its
/// generic closure and `postgresNull` looked up type metadata on every call (~1.4 % of a pickup's server
/// CPU). Its slow paths (the errors, finding a column by name) are not inlined.
public struct PostgresRow: Sendable {
    @usableFromInline let storage: PostgresRows.Storage
    @usableFromInline let columns: [String]
    @usableFromInline let row: Int

    /// Decodes the value at `column` (0-based). NULL decodes to nil for optionals and is an error otherwise.
    @inlinable
    public func decode<T: PostgresDecodable>(_ type: T.Type, at column: Int) throws -> T {
        guard column >= 0, column < storage.columnCount else { throw columnOutOfRange(column) }
        let cell = row * storage.columnCount + column
        let start = storage.starts[cell]
        guard start >= 0 else {
            if let null = T.postgresNull { return null }
            throw unexpectedNull(column, expected: T.self)
        }
        let end = storage.ends[cell]
        do {
            return try storage.bytes.withUnsafeBytes { buffer in
                try T.decode(postgresText: UnsafeRawBufferPointer(rebasing: buffer[start..<end]))
            }
        } catch let error as PostgresError {
            throw naming(error, column: column)
        }
    }

    /// Decodes the value of the first column named `name`.
    @inlinable
    public func decode<T: PostgresDecodable>(_ type: T.Type, column name: String) throws -> T {
        try decode(type, at: position(of: name))
    }

    /// The position of the first column named `name`.
    @usableFromInline
    func position(of name: String) throws -> Int {
        let found = if let index = storage.columnIndex { index[name] } else { columns.firstIndex(of: name) }
        guard let column = found else {
            throw PostgresError(.decoding, reason: "no column named \(name)")
        }
        return column
    }

    @usableFromInline
    func columnOutOfRange(_ column: Int) -> PostgresError {
        PostgresError(.decoding, reason: "column index \(column) out of range")
    }

    @usableFromInline
    func unexpectedNull(_ column: Int, expected: Any.Type) -> PostgresError {
        PostgresError(.decoding, reason: "column \(columns[column]) is NULL, expected \(expected)")
    }

    /// A decoding error of the value at `column`, with the column's name (never the value).
    @usableFromInline
    func naming(_ error: PostgresError, column: Int) -> PostgresError {
        var error = error
        error.reason = "column \(columns[column]): \(error.reason)"
        return error
    }

    /// True when the value at `column` is SQL NULL.
    public func isNull(at column: Int) -> Bool {
        precondition(column >= 0 && column < storage.columnCount, "column index out of range")
        return storage.starts[row * storage.columnCount + column] < 0
    }
}
