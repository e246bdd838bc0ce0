import Foundation

/// Sends one transaction and waits for its receipt: for deployment and administration, where
/// nothing else uses the account at the same time (the confirmer manages its own nonces).
public struct TransactionSender: Sendable {
    public let rpc: EthereumRPC
    public let key: AccountKey
    public let chainID: UInt64
    public var feePolicy = FeePolicy()
    public var receiptTimeout: Duration = .seconds(120)

    public init(rpc: EthereumRPC, key: AccountKey) async throws {
        self.rpc = rpc; self.key = key
        chainID = try await rpc.chainID()
    }

    /// Estimates gas (a revert fails here, with its reason, before anything is spent), signs,
    /// sends, and waits for the receipt; a mined revert is `ChainError.reverted`.
    public func send(to: EthereumAddress?, data: Data) async throws -> TransactionReceipt {
        let gas = try await rpc.estimateGas(from: key.address, to: to, data: data)
        let fees = try await feePolicy.fees(rpc: rpc)
        let nonce = try await rpc.transactionCount(key.address, .pending)
        let signed = try EIP1559Transaction(chainID: chainID, nonce: nonce, maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
                                            maxFeePerGas: fees.maxFeePerGas, gasLimit: gas + gas / 4, to: to, data: data).signed(by: key)
        _ = try await rpc.sendRawTransaction(signed.raw)
        let deadline = ContinuousClock.now + receiptTimeout
        while ContinuousClock.now < deadline {
            if let receipt = try await rpc.transactionReceipt(signed.hash) {
                guard receipt.succeeded else { throw ChainError.reverted(reason: "transaction \(signed.hash.ethereumHex) reverted") }
                return receipt
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw ChainError.unexpected("transaction \(signed.hash.ethereumHex) not mined within \(receiptTimeout)")
    }
}
