/// EIP-1559 fees for a new transaction, and the raise that lets a replacement through.
public struct FeePolicy: Sendable {
    /// maxFeePerGas = baseFeeMultiplier × next base fee + priority fee: room for the base fee
    /// to rise for several full blocks (it rises by at most 12.5% per block, EIP-1559).
    public var baseFeeMultiplier: UInt64 = 2
    /// A floor for the priority fee when the node suggests less.
    public var minimumPriorityFee: UInt64 = 1
    /// The most the operator will pay per gas, base fee included: new transactions offer no
    /// more (they wait for a cheaper block), and replacements stop raising at it.
    public var maxFeePerGasCap: UInt64 = .max

    public init() {}

    public func fees(rpc: EthereumRPC) async throws -> (maxFeePerGas: UInt64, maxPriorityFeePerGas: UInt64) {
        let priority = max(try await rpc.maxPriorityFeePerGas(), minimumPriorityFee)
        let baseFee = try await rpc.nextBaseFee()
        let (scaled, overflow) = baseFee.multipliedReportingOverflow(by: baseFeeMultiplier)
        let (sum, sumOverflow) = scaled.addingReportingOverflow(priority)
        let maxFee = min(overflow || sumOverflow ? .max : sum, maxFeePerGasCap)
        return (maxFee, min(priority, maxFee))
    }

    /// Fees for a replacement: nodes accept one only if both fees rise by at least 10%
    /// (geth's txpool price bump); 12.5% and the current market, whichever is higher. Nil if
    /// that would pass the cap: the transaction then waits as it is.
    public func replacement(of old: (maxFeePerGas: UInt64, maxPriorityFeePerGas: UInt64),
                            market: (maxFeePerGas: UInt64, maxPriorityFeePerGas: UInt64)) -> (maxFeePerGas: UInt64, maxPriorityFeePerGas: UInt64)? {
        func bump(_ fee: UInt64) -> UInt64 { fee.addingReportingOverflow(max(fee / 8, 1)).overflow ? .max : fee + max(fee / 8, 1) }
        let priority = max(bump(old.maxPriorityFeePerGas), market.maxPriorityFeePerGas)
        let maxFee = max(bump(old.maxFeePerGas), market.maxFeePerGas, priority)
        guard maxFee <= maxFeePerGasCap else { return nil }
        return (maxFee, priority)
    }
}
