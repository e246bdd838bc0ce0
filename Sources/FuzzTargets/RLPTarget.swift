import Chain
import Foundation

extension FuzzTarget {
    /// Recursive Length Prefix items and signed type-2 transactions, as the chain client reads
    /// them back (a raw transaction's envelope, its fields, the sender's recovery from the
    /// signature). RLP refuses non-canonical encodings, so an item that decodes must encode to
    /// the input itself.
    static let rlp = FuzzTarget(name: "rlp", maximumInputLength: 4096, run: { data in
        if let item = try? RLP.decode(data), item.encoded != data {
            throw InvariantViolation("rlp: a decoded item encodes to other bytes")
        }
        if let transaction = try? SignedTransaction.decode(raw: data), transaction.raw != data {
            throw InvariantViolation("rlp: a decoded transaction keeps other bytes than it was given")
        }
    }, seeds: {
        let key = try AccountKey(privateKey: Data(repeating: 0x11, count: 32))
        let transfer = EIP1559Transaction(chainID: 31337, nonce: 7, maxPriorityFeePerGas: 1_000_000_000, maxFeePerGas: 30_000_000_000,
                                          gasLimit: 21000, to: key.address, value: 1, data: Data())
        let deploy = EIP1559Transaction(chainID: 1, nonce: 0, maxPriorityFeePerGas: 2, maxFeePerGas: 3, gasLimit: 500_000,
                                        to: nil, value: 0, data: Data((0..<80).map { UInt8($0) }))
        return [
            try transfer.signed(by: key).raw,
            try deploy.signed(by: key).raw,
            RLP.list([.bytes(Data()), .uint(0), .uint(1024), .list([.bytes(Data(repeating: 0xab, count: 60))]), .list([])]).encoded,
            RLP.bytes(Data(repeating: 0x7f, count: 1)).encoded,
        ]
    })
}
