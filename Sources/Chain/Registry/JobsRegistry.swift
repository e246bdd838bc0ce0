import Foundation

/// The `JobsRegistry` contract (contracts/JobsRegistry.vy): calls, reads and its events.
public struct JobsRegistry: Sendable {
    public let rpc: EthereumRPC
    public let address: EthereumAddress

    public init(rpc: EthereumRPC, address: EthereumAddress) { self.rpc = rpc; self.address = address }

    /// The registry's status codes for a job (its `status: uint8`).
    public enum Status: UInt8, Sendable { case succeeded = 1, failed = 2 }

    /// The most jobs one `confirmBatch` takes (the contract's `DynArray` bound).
    public static let maxBatch = 128
    static let confirmSignature = "confirm(bytes32,bytes32,uint8)"
    static let confirmBatchSignature = "confirmBatch(bytes32[],bytes32[],uint8[])"
    static let jobConfirmedTopic = ABI.eventTopic("JobConfirmed(bytes32,bytes32,uint8,address)")

    /// A job id as the registry's `bytes32`: the UUID's 16 bytes, right-aligned, so the
    /// mapping is reversible and the same in every tool.
    public static func jobKey(_ id: UUID) -> Data {
        Data(count: 16) + withUnsafeBytes(of: id.uuid) { Data($0) }
    }

    /// One confirmation, or `confirmBatch` for several (cheaper per job: one transaction's base cost).
    public static func confirmCall(_ items: [(jobID: UUID, resultHash: Data, status: Status)]) -> Data {
        precondition(!items.isEmpty && items.count <= maxBatch, "a confirmation batch holds 1 to \(maxBatch) jobs")
        if items.count == 1, let item = items.first {
            return ABI.call(confirmSignature, [.bytes32(jobKey(item.jobID)), .bytes32(item.resultHash), .uint(UInt64(item.status.rawValue))])
        }
        return ABI.call(confirmBatchSignature, [
            .array(items.map { .bytes32(jobKey($0.jobID)) }),
            .array(items.map { .bytes32($0.resultHash) }),
            .array(items.map { .uint(UInt64($0.status.rawValue)) }),
        ])
    }

    public struct OnChainConfirmation: Sendable, Equatable {
        public let resultHash: Data
        public let status: UInt8
        public let blockNumber: UInt64
        public let confirmator: EthereumAddress
    }

    /// The job's confirmation as the chain holds it at `block`, or nil if it has none.
    public func confirmation(of jobID: UUID, at block: EthereumRPC.BlockTag = .latest) async throws -> OnChainConfirmation? {
        let data = try await rpc.call(to: address, data: ABI.call("getConfirmation(bytes32)", [.bytes32(Self.jobKey(jobID))]), block: block)
        let blockNumber = try ABI.uint64(data, at: 2)
        guard blockNumber != 0 else { return nil }
        return OnChainConfirmation(resultHash: try ABI.word(data, at: 0), status: UInt8(try ABI.uint64(data, at: 1)),
                                   blockNumber: blockNumber, confirmator: try ABI.address(data, at: 3))
    }

    /// The transaction that confirmed the job, from its `JobConfirmed` event in `block`.
    public func confirmationTransaction(of jobID: UUID, inBlock block: UInt64) async throws -> Data? {
        let logs = try await rpc.logs(address: address, topics: [Self.jobConfirmedTopic, Self.jobKey(jobID)],
                                      fromBlock: .number(block), toBlock: .number(block))
        return logs.first?.transactionHash
    }

    public func isConfirmator(_ account: EthereumAddress) async throws -> Bool {
        try ABI.uint64(try await rpc.call(to: address, data: ABI.call("isConfirmator(address)", [.address(account)])), at: 0) == 1
    }

    public func owner() async throws -> EthereumAddress {
        try ABI.address(try await rpc.call(to: address, data: ABI.call("owner()", [])), at: 0)
    }

    /// Deploys the committed artifact (contracts/JobsRegistry.json) from `key`, which becomes
    /// owner and first confirmator; returns the registry once its code is on chain.
    public static func deploy(rpc: EthereumRPC, key: AccountKey) async throws -> (registry: JobsRegistry, receipt: TransactionReceipt) {
        let sender = try await TransactionSender(rpc: rpc, key: key)
        let receipt = try await sender.send(to: nil, data: try Data(ethereumHex: JobsRegistryArtifact.bytecodeHex))
        guard let address = receipt.contractAddress, !(try await rpc.code(address)).isEmpty else {
            throw ChainError.unexpected("the deployment transaction \(receipt.transactionHash.ethereumHex) created no contract")
        }
        return (JobsRegistry(rpc: rpc, address: address), receipt)
    }

    /// Owner only: lets `account` confirm jobs.
    public func addConfirmator(_ account: EthereumAddress, owner key: AccountKey) async throws -> TransactionReceipt {
        try await TransactionSender(rpc: rpc, key: key).send(to: address, data: ABI.call("addConfirmator(address)", [.address(account)]))
    }

    /// Checks that the address holds a registry this client can talk to (code, and a working read).
    public func checkDeployed() async throws {
        guard !(try await rpc.code(address)).isEmpty else {
            throw ChainError.unexpected("no contract at \(address) on this chain: deploy one with `fhe-jobs chain deploy`")
        }
        _ = try await owner()
    }
}
