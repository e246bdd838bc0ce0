import Foundation
import Jobs
import Logging
import Metrics

/// The `ResultConfirmer` that commits `(jobId, resultHash, status)` to the JobsRegistry
/// contract and reports a job confirmed once its confirmation is `requiredConfirmations`
/// blocks deep.
///
/// Its state lives in two places that survive a restart: the chain (what is confirmed, which
/// nonces are used) and the `ChainTransactionLog` (what was signed and not yet final). Each
/// round it
/// 1. reconciles its in-flight transactions: a receipt deep enough ends one; a transaction
///    the node no longer knows (dropped, or removed by a reorg) is broadcast again under its
///    nonce; one pending longer than `replaceAfter` is replaced with fees raised by 12.5%;
///    a nonce used by something else ("nonce too low") ends it, and its jobs are looked up;
/// 2. reads each job's confirmation from the contract: final ones are returned; jobs with
///    none and no transaction in flight are sent, batched with `confirmBatch`.
/// The contract refuses a second confirmation of a job, so no failure here can confirm a
/// job twice; the write-ahead log means none is forgotten.
public actor ChainConfirmer: ResultConfirmer {
    public struct Configuration: Sendable {
        public var requiredConfirmations: UInt64 = 3
        /// Seconds a transaction may stay pending before it is replaced with higher fees.
        public var replaceAfter: TimeInterval = 60
        public var maxBatch = 64
        public var feePolicy = FeePolicy()
        public init() {}
    }

    private let registry: JobsRegistry
    private let key: AccountKey
    private let log: any ChainTransactionLog
    private let configuration: Configuration
    private let logger: Logger
    /// Set once `checkSetup` has passed.
    private var chainID: UInt64?
    private var rpc: EthereumRPC { registry.rpc }
    private var account: String { key.address.description }

    public init(registry: JobsRegistry, key: AccountKey, log: any ChainTransactionLog,
                configuration: Configuration = Configuration(), logger: Logger = Logger(label: "fhe-jobs.chain")) {
        self.registry = registry; self.key = key; self.log = log; self.configuration = configuration; self.logger = logger
    }

    /// Checks the node, the contract and the key's right to confirm. Run at start to catch a
    /// wrong address or key at once; the first round runs it again if the node was down then.
    public func checkSetup() async throws {
        try await registry.checkDeployed()
        guard try await registry.isConfirmator(key.address) else {
            throw ChainError.unexpected("\(key.address) is not a confirmator of the registry at \(registry.address); the owner adds it with `fhe-jobs chain add-confirmator`")
        }
        chainID = try await rpc.chainID()
    }

    public func confirm(_ jobs: [Job]) async throws -> [JobID: Confirmation] {
        if chainID == nil { try await checkSetup() }
        // Processes sharing the store take turns, so only one hands out nonces at a time.
        return try await log.withExclusiveAccess(account: account) { try await self.round(jobs) }
    }

    private func round(_ jobs: [Job]) async throws -> [JobID: Confirmation] {
        let head = try await rpc.blockNumber()
        let inFlight = try await reconcile(head: head)
        var confirmed: [JobID: Confirmation] = [:]
        var toSend: [(jobID: UUID, resultHash: Data, status: JobsRegistry.Status)] = []
        for job in jobs {
            guard let hex = job.resultHash, let resultHash = try? Data(ethereumHex: hex), resultHash.count == 32 else {
                logger.error("job has no 32-byte result hash; not confirmed", metadata: ["job": "\(job.id)"])
                continue
            }
            if let onChain = try await registry.confirmation(of: job.id) {
                guard onChain.resultHash == resultHash else {
                    logger.critical("the registry holds a different result hash for this job", metadata: [
                        "job": "\(job.id)", "onChain": "\(onChain.resultHash.ethereumHex)", "ours": "\(hex)"])
                    continue
                }
                guard head + 1 >= onChain.blockNumber + configuration.requiredConfirmations else { continue }
                let transaction = try await registry.confirmationTransaction(of: job.id, inBlock: onChain.blockNumber)
                confirmed[job.id] = Confirmation(kind: .chain, reference: transaction?.ethereumHex ?? "",
                                                 blockNumber: Int64(onChain.blockNumber), confirmedAt: Date())
            } else if !inFlight.contains(job.id) {
                toSend.append((job.id, resultHash, job.status == .failed ? .failed : .succeeded))
            }
        }
        var start = 0
        while start < toSend.count {
            let batch = Array(toSend[start..<min(start + configuration.maxBatch, toSend.count)])
            try await send(batch)
            start += batch.count
        }
        return confirmed
    }

    // MARK: In-flight transactions

    /// Brings every logged transaction forward one step; returns the jobs still in flight.
    private func reconcile(head: UInt64) async throws -> Set<JobID> {
        var inFlight: Set<JobID> = []
        for record in try await log.chainTransactions(account: account) {
            if try await advance(record, head: head) { inFlight.formUnion(record.jobIDs) }
        }
        return inFlight
    }

    /// One step for one transaction; returns false once it is finished (deep enough, or
    /// superseded) and its record deleted.
    private func advance(_ record: ChainTransactionRecord, head: UInt64) async throws -> Bool {
        // Any signed version may be the one mined.
        for hex in record.transactionHashes.reversed() {
            guard let receipt = try await rpc.transactionReceipt(try Data(ethereumHex: hex)) else { continue }
            if !receipt.succeeded {
                // Typically a job in the batch was confirmed meanwhile; the jobs are looked up again.
                logger.warning("confirmation transaction reverted", metadata: ["tx": "\(hex)", "nonce": "\(record.nonce)"])
                try await finish(record)
                return false
            }
            if head + 1 >= receipt.blockNumber + configuration.requiredConfirmations {
                Counter(label: "fhe_jobs_chain_gas_used_total").increment(by: Int64(receipt.gasUsed))
                try await finish(record)
                return false
            }
            return true // mined, not deep enough yet; a reorg may still remove it
        }
        if try await rpc.transactionCount(key.address, .latest) > UInt64(record.nonce) {
            // The nonce went to a transaction whose receipt we do not have (for example a
            // version mined, then reorganised away, then replaced): look the jobs up afresh.
            logger.warning("nonce used by another transaction; rechecking its jobs", metadata: ["nonce": "\(record.nonce)"])
            try await finish(record)
            return false
        }
        let latest = try Data(ethereumHex: record.transactionHashes.last ?? "0x")
        if try await !rpc.knowsTransaction(latest) {
            // Dropped from the mempool, removed by a reorg, or never sent (a crash after the
            // write-ahead record): the same signed bytes again, under the same nonce.
            logger.info("rebroadcasting confirmation transaction", metadata: ["tx": "\(latest.ethereumHex)", "nonce": "\(record.nonce)"])
            return try await broadcast(record)
        }
        if Date().timeIntervalSince(record.sentAt) > configuration.replaceAfter {
            return try await replace(record)
        }
        return true
    }

    /// Re-signs a stuck transaction under its nonce with fees raised past the 10% nodes require.
    private func replace(_ record: ChainTransactionRecord) async throws -> Bool {
        let previous = try SignedTransaction.decode(raw: record.rawTransaction)
        guard let fees = configuration.feePolicy.replacement(of: (record.maxFeePerGas, record.maxPriorityFeePerGas),
                                                             market: try await configuration.feePolicy.fees(rpc: rpc)) else {
            logger.warning("a confirmation transaction is stuck at the fee cap; waiting for cheaper blocks", metadata: [
                "nonce": "\(record.nonce)", "maxFeePerGas": "\(record.maxFeePerGas)", "cap": "\(configuration.feePolicy.maxFeePerGasCap)"])
            return true
        }
        var transaction = previous.transaction
        transaction.maxFeePerGas = fees.maxFeePerGas
        transaction.maxPriorityFeePerGas = fees.maxPriorityFeePerGas
        let signed = try transaction.signed(by: key)
        var updated = record
        updated.transactionHashes.append(signed.hash.ethereumHex)
        updated.rawTransaction = signed.raw
        updated.maxFeePerGas = fees.maxFeePerGas
        updated.maxPriorityFeePerGas = fees.maxPriorityFeePerGas
        updated.sentAt = Date()
        try await log.saveChainTransaction(updated)
        logger.notice("replacing a stuck confirmation transaction", metadata: [
            "nonce": "\(record.nonce)", "maxFeePerGas": "\(fees.maxFeePerGas)", "tx": "\(signed.hash.ethereumHex)"])
        Counter(label: "fhe_jobs_chain_replacements_total").increment()
        return try await broadcast(updated)
    }

    // MARK: Sending

    private func send(_ batch: [(jobID: UUID, resultHash: Data, status: JobsRegistry.Status)]) async throws {
        let data = JobsRegistry.confirmCall(batch)
        let gas: UInt64
        do {
            gas = try await rpc.estimateGas(from: key.address, to: registry.address, data: data)
        } catch ChainError.reverted(let reason) {
            // Someone confirmed one of these jobs since we looked; the next round finds it.
            logger.warning("confirmation would revert; rechecking", metadata: ["reason": "\(reason)", "jobs": "\(batch.count)"])
            return
        }
        let fees = try await configuration.feePolicy.fees(rpc: rpc)
        let logged = try await log.chainTransactions(account: account).map(\.nonce).max().map { UInt64($0) + 1 } ?? 0
        let nonce = max(try await rpc.transactionCount(key.address, .pending), logged)
        guard let chainID else { throw ChainError.unexpected("the chain confirmer's setup was not checked") }
        let signed = try EIP1559Transaction(
            chainID: chainID, nonce: nonce, maxPriorityFeePerGas: fees.maxPriorityFeePerGas, maxFeePerGas: fees.maxFeePerGas,
            gasLimit: gas + gas / 4, to: registry.address, data: data).signed(by: key)
        let record = ChainTransactionRecord(
            account: account, nonce: Int64(nonce), jobIDs: batch.map(\.jobID), transactionHashes: [signed.hash.ethereumHex],
            rawTransaction: signed.raw, maxFeePerGas: fees.maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas, sentAt: Date())
        // Write-ahead: recorded before it can reach the chain.
        try await log.saveChainTransaction(record)
        logger.info("sending confirmations", metadata: ["jobs": "\(batch.count)", "nonce": "\(nonce)", "tx": "\(signed.hash.ethereumHex)"])
        Counter(label: "fhe_jobs_chain_transactions_total").increment()
        _ = try await broadcast(record)
    }

    /// Sends the record's newest version; returns false if the nonce turned out to be used.
    private func broadcast(_ record: ChainTransactionRecord) async throws -> Bool {
        do {
            _ = try await rpc.sendRawTransaction(record.rawTransaction)
            return true
        } catch let error as ChainError where error.isAlreadyKnown {
            return true
        } catch let error as ChainError where error.isNonceTooLow {
            // Our view of the nonce was stale (a crash after sending, or another sender):
            // whatever took the nonce, the jobs are looked up on chain in the next round.
            logger.warning("nonce too low; rechecking the jobs on chain", metadata: ["nonce": "\(record.nonce)"])
            try await finish(record)
            return false
        }
    }

    private func finish(_ record: ChainTransactionRecord) async throws {
        try await log.deleteChainTransaction(account: record.account, nonce: record.nonce)
    }
}
