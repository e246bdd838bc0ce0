import Foundation
import Jobs
import PostgresNIO

extension PostgresJobStore: ChainTransactionLog {
    public func saveChainTransaction(_ record: ChainTransactionRecord) async throws {
        let document = try record.encodedDocument()
        _ = try await client.rows("""
            INSERT INTO chain_transactions (account, nonce, record) VALUES (\(record.account), \(record.nonce), \(document))
            ON CONFLICT (account, nonce) DO UPDATE SET record = excluded.record
            """, logger: logger)
    }

    public func chainTransactions(account: String) async throws -> [ChainTransactionRecord] {
        try await client.rows("SELECT record FROM chain_transactions WHERE account = \(account) ORDER BY nonce", logger: logger)
            .map { try ChainTransactionRecord.decodeDocument(try $0.decode(String.self)) }
    }

    /// A session-level advisory lock on a connection leased for the round, so confirmers in
    /// several processes (API and worker replicas) never hand out the same nonce. If the
    /// process dies, PostgreSQL ends its session and the lock with it. The connection is held
    /// for the whole round, chain calls included, without the query deadline: closing it
    /// would end the lock while the round goes on.
    public func withExclusiveAccess<R: Sendable>(account: String, _ body: @Sendable () async throws -> R) async throws -> R {
        let logger = logger
        return try await client.withoutUseTimeout.withConnectionInCallerTask { connection in
            _ = try await connection.rows("SELECT pg_advisory_lock(\(PostgresAdvisoryLocks.chainAccount), hashtext(\(account)))", logger: logger)
            do {
                let result = try await body()
                _ = try await connection.rows("SELECT pg_advisory_unlock(\(PostgresAdvisoryLocks.chainAccount), hashtext(\(account)))", logger: logger)
                return result
            } catch {
                _ = try? await connection.rows("SELECT pg_advisory_unlock(\(PostgresAdvisoryLocks.chainAccount), hashtext(\(account)))", logger: logger)
                throw error
            }
        }
    }

    public func deleteChainTransaction(account: String, nonce: Int64) async throws {
        _ = try await client.rows("DELETE FROM chain_transactions WHERE account = \(account) AND nonce = \(nonce)", logger: logger)
    }
}
