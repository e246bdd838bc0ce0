import Foundation

/// A confirmation transaction the chain confirmer has signed. It is recorded before it is
/// sent (write-ahead), so a confirmer that crashes between signing and the receipt finds it
/// on restart and resends or replaces it under the same nonce instead of confirming twice.
/// One record per (account, nonce): a fee-raised replacement updates the record.
public struct ChainTransactionRecord: Sendable, Equatable, Codable {
    /// The sending account (EIP-55 address).
    public var account: String
    public var nonce: Int64
    public var jobIDs: [JobID]
    /// Every signed version's hash, oldest first: any of them may be the one mined.
    public var transactionHashes: [String]
    /// The newest signed version, as sent.
    public var rawTransaction: Data
    public var maxFeePerGas: UInt64
    public var maxPriorityFeePerGas: UInt64
    /// When the newest version was last broadcast.
    public var sentAt: Date

    public init(account: String, nonce: Int64, jobIDs: [JobID], transactionHashes: [String], rawTransaction: Data,
                maxFeePerGas: UInt64, maxPriorityFeePerGas: UInt64, sentAt: Date) {
        self.account = account; self.nonce = nonce; self.jobIDs = jobIDs; self.transactionHashes = transactionHashes
        self.rawTransaction = rawTransaction; self.maxFeePerGas = maxFeePerGas
        self.maxPriorityFeePerGas = maxPriorityFeePerGas; self.sentAt = sentAt
    }
}

/// Durable storage of the chain confirmer's in-flight transactions (both job stores implement it).
public protocol ChainTransactionLog: Sendable {
    /// Inserts or replaces the record of (account, nonce).
    func saveChainTransaction(_ record: ChainTransactionRecord) async throws
    /// The account's in-flight transactions, by nonce.
    func chainTransactions(account: String) async throws -> [ChainTransactionRecord]
    func deleteChainTransaction(account: String, nonce: Int64) async throws
    /// Runs `body` while no other confirmer, in this process or another sharing the store,
    /// runs one for the same account: nonces are handed out by one round at a time.
    func withExclusiveAccess<R: Sendable>(account: String, _ body: @Sendable () async throws -> R) async throws -> R
}

extension ChainTransactionRecord {
    /// The stores keep a record as one JSON document keyed by (account, nonce).
    public func encodedDocument() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    public static func decodeDocument(_ text: String) throws -> ChainTransactionRecord {
        try JSONDecoder().decode(ChainTransactionRecord.self, from: Data(text.utf8))
    }
}
