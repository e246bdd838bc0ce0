import Foundation
import GRDB
import Jobs

extension SQLiteJobStore: ChainTransactionLog {
    public func saveChainTransaction(_ record: ChainTransactionRecord) async throws {
        let document = try record.encodedDocument()
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO chain_transactions (account, nonce, record) VALUES (?, ?, ?)
                ON CONFLICT (account, nonce) DO UPDATE SET record = excluded.record
                """, arguments: [record.account, record.nonce, document])
        }
    }

    public func chainTransactions(account: String) async throws -> [ChainTransactionRecord] {
        try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT record FROM chain_transactions WHERE account = ? ORDER BY nonce",
                                arguments: [account]).map(ChainTransactionRecord.decodeDocument)
        }
    }

    /// One process: the confirmer actor already runs one round at a time. Several processes
    /// sharing the SQLite file would each hand out nonces, so run the chain confirmer in one
    /// of them, or use PostgreSQL, whose store locks across processes.
    public func withExclusiveAccess<R: Sendable>(account: String, _ body: @Sendable () async throws -> R) async throws -> R {
        try await body()
    }

    public func deleteChainTransaction(account: String, nonce: Int64) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM chain_transactions WHERE account = ? AND nonce = ?", arguments: [account, nonce])
        }
    }
}
