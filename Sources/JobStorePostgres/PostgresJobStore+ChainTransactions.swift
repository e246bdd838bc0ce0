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

    public func deleteChainTransaction(account: String, nonce: Int64) async throws {
        _ = try await client.rows("DELETE FROM chain_transactions WHERE account = \(account) AND nonce = \(nonce)", logger: logger)
    }
}
