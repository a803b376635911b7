import App
import ArgumentParser
import Foundation
import Logging
import Postgres

/// The database for an operator command: found and migrated as `migrate` does, then a one-connection
/// pool for the same service functions the HTTP handlers use.
enum OperatorDatabase {
    static func run<T>(_ common: CommonOptions, _ body: (PostgresPool) throws -> T) throws -> T {
        try run(common) { pool, _, _ in try body(pool) }
    }

    /// The same, for commands that need the configuration and a logger too.
    static func run<T>(_ common: CommonOptions, _ body: (PostgresPool, AppConfiguration, Logger) throws -> T) throws -> T {
        let config = try common.configuration()
        let logger = bootstrapLogging(config)
        let database = try DatabaseBootstrap.prepare(config, logger: logger)
        defer { database.release() }
        try database.migrate(config, logger: logger)
        let pool = PostgresPool(configuration: PostgresConfiguration(connectionString: database.connectionString, poolSize: 1), logger: logger)
        defer { pool.shutdown() }
        do {
            return try body(pool, config, logger)
        } catch let error as ServiceError {
            throw OperatorError(message: error.message, field: error.field)
        } catch let error as AppError {
            throw OperatorError(message: error.message, field: error.field)
        }
    }

    /// Writes a line for the operator to standard error, keeping standard output for the result.
    static func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// A refused operator command: the service's message, with the field as the option it came from.
struct OperatorError: Error, CustomStringConvertible {
    let description: String

    init(message: String, field: String?) {
        let option = field.map { " (" + $0.replacing(/[A-Z]/) { "-" + $0.output.lowercased() } + ")" } ?? ""
        description = message + option
    }
}
