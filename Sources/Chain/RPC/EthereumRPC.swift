import Foundation
import Jobs

/// The Ethereum node methods the registry client needs, typed.
public struct EthereumRPC: Sendable {
    public let client: JSONRPCClient

    public init(client: JSONRPCClient) { self.client = client }
    public init(url: String, breaker: CircuitBreaker? = nil) throws { client = try JSONRPCClient(url: url, breaker: breaker) }

    public enum BlockTag: Sendable {
        case latest, pending, number(UInt64)
        var parameter: RPCParameter {
            switch self {
            case .latest: .string("latest")
            case .pending: .string("pending")
            case .number(let number): .string(Quantity.encode(number))
            }
        }
    }

    public func chainID() async throws -> UInt64 { try Quantity.decode(try await client.call("eth_chainId", as: String.self)) }

    public func blockNumber() async throws -> UInt64 { try Quantity.decode(try await client.call("eth_blockNumber", as: String.self)) }

    public func transactionCount(_ address: EthereumAddress, _ block: BlockTag) async throws -> UInt64 {
        try Quantity.decode(try await client.call("eth_getTransactionCount", [.string(address.description), block.parameter], as: String.self))
    }

    public func code(_ address: EthereumAddress) async throws -> Data {
        try Data(ethereumHex: try await client.call("eth_getCode", [.string(address.description), .string("latest")], as: String.self))
    }

    private static func callObject(from: EthereumAddress?, to: EthereumAddress?, data: Data) -> RPCParameter {
        var object: [String: RPCParameter] = ["data": .string(data.ethereumHex)]
        if let from { object["from"] = .string(from.description) }
        if let to { object["to"] = .string(to.description) }
        return .object(object)
    }

    /// Gas a transaction would use; a revert is `ChainError.reverted` with the contract's reason.
    public func estimateGas(from: EthereumAddress, to: EthereumAddress?, data: Data) async throws -> UInt64 {
        try Quantity.decode(try await client.call("eth_estimateGas", [Self.callObject(from: from, to: to, data: data)], as: String.self))
    }

    /// A read-only call at `block`; a revert is `ChainError.reverted`.
    public func call(to: EthereumAddress, data: Data, from: EthereumAddress? = nil, block: BlockTag = .latest) async throws -> Data {
        try Data(ethereumHex: try await client.call("eth_call", [Self.callObject(from: from, to: to, data: data), block.parameter], as: String.self))
    }

    public func maxPriorityFeePerGas() async throws -> UInt64 {
        try Quantity.decode(try await client.call("eth_maxPriorityFeePerGas", as: String.self))
    }

    /// The base fee of the next block: the last entry of eth_feeHistory's baseFeePerGas.
    public func nextBaseFee() async throws -> UInt64 {
        struct FeeHistory: Decodable { let baseFeePerGas: [String] }
        let history = try await client.call("eth_feeHistory", [.string("0x1"), .string("latest"), .array([])], as: FeeHistory.self)
        guard let last = history.baseFeePerGas.last else { throw ChainError.unexpected("eth_feeHistory returned no base fee") }
        return try Quantity.decode(last)
    }

    /// Sends a signed transaction; returns its hash as the node reports it.
    public func sendRawTransaction(_ raw: Data) async throws -> Data {
        try Data(ethereumHex: try await client.call("eth_sendRawTransaction", [.string(raw.ethereumHex)], as: String.self))
    }

    /// The receipt, or nil while the transaction is pending, dropped or unknown.
    public func transactionReceipt(_ hash: Data) async throws -> TransactionReceipt? {
        try await client.call("eth_getTransactionReceipt", [.string(hash.ethereumHex)], as: TransactionReceipt?.self)
    }

    /// Whether the node knows the transaction at all (pending or mined).
    public func knowsTransaction(_ hash: Data) async throws -> Bool {
        struct Known: Decodable { let hash: String }
        return try await client.call("eth_getTransactionByHash", [.string(hash.ethereumHex)], as: Known?.self) != nil
    }

    public func logs(address: EthereumAddress, topics: [Data?], fromBlock: BlockTag, toBlock: BlockTag) async throws -> [LogEntry] {
        let filter: RPCParameter = .object([
            "address": .string(address.description),
            "topics": .array(topics.map { $0.map { .string($0.ethereumHex) } ?? .null }),
            "fromBlock": fromBlock.parameter, "toBlock": toBlock.parameter,
        ])
        return try await client.call("eth_getLogs", [filter], as: [LogEntry].self)
    }
}

/// The fields of a transaction receipt the confirmer reads.
public struct TransactionReceipt: Decodable, Sendable, Equatable {
    public let transactionHash: Data
    public let blockNumber: UInt64
    public let blockHash: Data
    public let succeeded: Bool
    public let gasUsed: UInt64
    public let effectiveGasPrice: UInt64?
    public let contractAddress: EthereumAddress?
    public let logs: [LogEntry]

    enum CodingKeys: String, CodingKey {
        case transactionHash, blockNumber, blockHash, status, gasUsed, effectiveGasPrice, contractAddress, logs
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        transactionHash = try Data(ethereumHex: try container.decode(String.self, forKey: .transactionHash))
        blockNumber = try Quantity.decode(try container.decode(String.self, forKey: .blockNumber))
        blockHash = try Data(ethereumHex: try container.decode(String.self, forKey: .blockHash))
        succeeded = try Quantity.decode(try container.decode(String.self, forKey: .status)) == 1
        gasUsed = try Quantity.decode(try container.decode(String.self, forKey: .gasUsed))
        effectiveGasPrice = try container.decodeIfPresent(String.self, forKey: .effectiveGasPrice).map(Quantity.decode)
        contractAddress = try container.decodeIfPresent(String.self, forKey: .contractAddress).map { try EthereumAddress($0.lowercased()) }
        logs = try container.decode([LogEntry].self, forKey: .logs)
    }
}

/// One event log.
public struct LogEntry: Decodable, Sendable, Equatable {
    public let address: EthereumAddress
    public let topics: [Data]
    public let data: Data
    public let blockNumber: UInt64
    public let transactionHash: Data

    enum CodingKeys: String, CodingKey { case address, topics, data, blockNumber, transactionHash }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        address = try EthereumAddress(try container.decode(String.self, forKey: .address).lowercased())
        topics = try container.decode([String].self, forKey: .topics).map { try Data(ethereumHex: $0) }
        data = try Data(ethereumHex: try container.decode(String.self, forKey: .data))
        blockNumber = try Quantity.decode(try container.decode(String.self, forKey: .blockNumber))
        transactionHash = try Data(ethereumHex: try container.decode(String.self, forKey: .transactionHash))
    }
}
