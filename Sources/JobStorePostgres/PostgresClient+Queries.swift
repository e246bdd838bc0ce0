import PostgresNIO

// How the store runs its statements: in a transaction, or alone, collecting the rows.

extension PostgresClient {
    /// Runs `body` in a transaction (READ COMMITTED, PostgreSQL's default) on a leased
    /// connection: committed if it returns, rolled back if it throws.
    ///
    /// postgres-nio wraps every failure in a `PostgresTransactionError`; this rethrows the
    /// underlying error instead (the statement's `PSQLError`, or the error `body` threw), so
    /// callers of the store see the same errors with or without a transaction. The wrapper
    /// is kept only when the rollback failed too, as then both errors matter.
    func transaction<Result>(
        logger: Logger, _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        do {
            return try await withTransaction(logger: logger, body)
        } catch let error as PostgresTransactionError {
            if let begin = error.beginError { throw begin }
            if let commit = error.commitError { throw commit }
            if let closure = error.closureError, error.rollbackError == nil { throw closure }
            throw error
        }
    }
}

extension PostgresConnection {
    /// Runs `body` in a transaction on this connection, with `PostgresClient.transaction`'s
    /// errors: the statement's or the body's own, the wrapper only when the rollback failed too.
    func transaction<Result: Sendable>(logger: Logger, _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        do {
            return try await withTransaction(logger: logger) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            if let begin = error.beginError { throw begin }
            if let commit = error.commitError { throw commit }
            if let closure = error.closureError, error.rollbackError == nil { throw closure }
            throw error
        }
    }

    /// All rows of a query (the stores' result sets are small: single rows or one page).
    func rows(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        try await self.query(query, logger: logger).collect()
    }
}

extension PostgresClient {
    /// All rows of a query run on a connection leased for it alone (no transaction).
    func rows(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        try await self.query(query, logger: logger).collect()
    }
}
