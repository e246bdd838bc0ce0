import Foundation

/// A type-2 transaction (EIP-1559) with EIP-155 replay protection through its chain id,
/// signed by an account key and encoded as EIP-2718 typed envelope `0x02 || rlp(fields)`.
public struct EIP1559Transaction: Sendable, Equatable {
    public var chainID: UInt64
    public var nonce: UInt64
    public var maxPriorityFeePerGas: UInt64
    public var maxFeePerGas: UInt64
    public var gasLimit: UInt64
    /// Nil for a contract creation.
    public var to: EthereumAddress?
    public var value: UInt64
    public var data: Data

    public init(chainID: UInt64, nonce: UInt64, maxPriorityFeePerGas: UInt64, maxFeePerGas: UInt64,
                gasLimit: UInt64, to: EthereumAddress?, value: UInt64 = 0, data: Data) {
        self.chainID = chainID; self.nonce = nonce; self.maxPriorityFeePerGas = maxPriorityFeePerGas
        self.maxFeePerGas = maxFeePerGas; self.gasLimit = gasLimit; self.to = to; self.value = value; self.data = data
    }

    private var unsignedFields: [RLP] {
        [.uint(chainID), .uint(nonce), .uint(maxPriorityFeePerGas), .uint(maxFeePerGas), .uint(gasLimit),
         .bytes(to?.bytes ?? Data()), .uint(value), .bytes(data), .list([])]
    }

    /// keccak256(0x02 || rlp(unsigned fields)): what the sender signs.
    public var signingHash: Data { Keccak256.hash(Data([0x02]) + RLP.list(unsignedFields).encoded) }

    public func signed(by key: AccountKey) throws -> SignedTransaction {
        let signature = try key.sign(digest: signingHash)
        let fields = unsignedFields + [.uint(UInt64(signature.recoveryID)), .bytes(signature.r.drop { $0 == 0 }),
                                       .bytes(signature.s.drop { $0 == 0 })]
        return SignedTransaction(transaction: self, raw: Data([0x02]) + RLP.list(fields).encoded, sender: key.address)
    }
}

/// A signed transaction as sent to a node; its hash is keccak256 of the raw envelope.
public struct SignedTransaction: Sendable, Equatable {
    public let transaction: EIP1559Transaction
    public let raw: Data
    public let sender: EthereumAddress
    public var hash: Data { Keccak256.hash(raw) }

    /// Decodes a raw type-2 envelope and recovers its sender: what a node does on receipt.
    public static func decode(raw: Data) throws -> SignedTransaction {
        guard raw.first == 0x02 else { throw EncodingError.invalidRLP("not a type-2 transaction") }
        guard let fields = try RLP.decode(raw.dropFirst()).listValue, fields.count == 12 else {
            throw EncodingError.invalidRLP("a type-2 transaction has 12 fields")
        }
        func uint(_ index: Int) throws -> UInt64 {
            guard let bytes = fields[index].bytesValue, bytes.count <= 8, bytes.first != 0 else {
                throw EncodingError.invalidRLP("field \(index) is not a canonical 64-bit integer")
            }
            return bytes.reduce(0) { $0 << 8 | UInt64($1) }
        }
        guard let toBytes = fields[5].bytesValue, let data = fields[7].bytesValue,
              let r = fields[10].bytesValue, let s = fields[11].bytesValue, r.count <= 32, s.count <= 32 else {
            throw EncodingError.invalidRLP("malformed transaction fields")
        }
        let transaction = EIP1559Transaction(
            chainID: try uint(0), nonce: try uint(1), maxPriorityFeePerGas: try uint(2), maxFeePerGas: try uint(3),
            gasLimit: try uint(4), to: toBytes.isEmpty ? nil : try EthereumAddress(bytes: toBytes), value: try uint(6), data: data)
        let parity = try uint(9)
        guard parity <= 1 else { throw EncodingError.invalidRLP("y parity must be 0 or 1") }
        let signature = RecoverableSignature(r: Data(count: 32 - r.count) + r, s: Data(count: 32 - s.count) + s,
                                             recoveryID: UInt8(parity))
        let sender = try signature.recoverSigner(digest: transaction.signingHash)
        return SignedTransaction(transaction: transaction, raw: raw, sender: sender)
    }
}

extension EIP1559Transaction {
    /// The address a contract created by `sender` at `nonce` gets: keccak256(rlp([sender, nonce]))[12...].
    public static func contractAddress(sender: EthereumAddress, nonce: UInt64) -> EthereumAddress {
        // 20 bytes are always a valid address.
        try! EthereumAddress(bytes: Keccak256.hash(RLP.list([.bytes(sender.bytes), .uint(nonce)]).encoded).suffix(20))
    }
}
