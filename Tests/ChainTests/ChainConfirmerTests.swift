import Foundation
import Jobs
import JobStoreSQLite
import Testing
@testable import Chain

/// The chain confirmer against the faults issue 6 names, each on a dev chain of its own: a
/// restart between send and receipt, a dropped and a stuck transaction, an RPC outage, a
/// reorg, and a nonce taken by another transaction. Every test ends with each job confirmed
/// exactly once (one `JobConfirmed` event) at the required depth.
@Suite(.serialized) struct ChainConfirmerTests {
    private struct Fixture {
        let chain: DevChain
        let registry: JobsRegistry
        let log: SQLiteJobStore
        let directory: URL

        init() async throws {
            chain = try DevChain()
            registry = try await chain.deployRegistry()
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("chain-confirmer-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            log = try SQLiteJobStore(path: directory.appendingPathComponent("jobs.sqlite").path)
            try await log.migrate()
        }

        /// A new confirmer over the same log: what a restarted process builds.
        func confirmer(replaceAfter: TimeInterval = 600, maxFeePerGas: UInt64 = .max) async throws -> ChainConfirmer {
            var configuration = ChainConfirmer.Configuration()
            configuration.feePolicy.maxFeePerGasCap = maxFeePerGas
            configuration.requiredConfirmations = 3
            configuration.replaceAfter = replaceAfter
            let confirmer = ChainConfirmer(registry: registry, key: DevChain.confirmator, log: log, configuration: configuration)
            try await confirmer.checkSetup()
            return confirmer
        }

        func jobs(_ count: Int) -> [Job] {
            (0..<count).map { _ in
                var job = Job(tenant: "t", owner: "o", type: .compute, priority: .normal, useFHE: false, payload: .object([:]),
                              createdAt: Date(), maxAttempts: 1, timeoutSeconds: 60)
                job.status = .succeeded
                job.resultHash = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).ethereumHex.dropFirst(2).description
                return job
            }
        }

        /// How many JobConfirmed events the canonical chain holds for the job.
        func events(_ job: Job) async throws -> Int {
            try await chain.rpc.logs(address: registry.address, topics: [JobsRegistry.jobConfirmedTopic, JobsRegistry.jobKey(job.id)],
                                     fromBlock: .number(0), toBlock: .latest).count
        }

        func nonce(_ tag: EthereumRPC.BlockTag = .latest) async throws -> UInt64 {
            try await chain.rpc.transactionCount(DevChain.confirmator.address, tag)
        }

        /// Each job confirmed once, on chain and in the answer, with the transaction's hash and
        /// a block deep enough.
        func expectConfirmedOnce(_ jobs: [Job], _ confirmations: [JobID: Jobs.Confirmation]) async throws {
            let head = try await chain.rpc.blockNumber()
            for job in jobs {
                let confirmation = try #require(confirmations[job.id])
                #expect(confirmation.kind == .chain && confirmation.reference.count == 66)
                #expect(UInt64(try #require(confirmation.blockNumber)) + 2 <= head)
                #expect(try await events(job) == 1)
                #expect(try await registry.confirmation(of: job.id)?.resultHash == Data(ethereumHex: job.resultHash!))
            }
            #expect(try await log.chainTransactions(account: DevChain.confirmator.address.description).isEmpty)
        }
    }

    @Test func batchesAndWaitsForConfirmations() async throws {
        let fixture = try await Fixture()
        let confirmer = try await fixture.confirmer()
        let jobs = fixture.jobs(5)
        #expect(try await confirmer.confirm(jobs).isEmpty) // sent, one block deep
        #expect(try await fixture.nonce() == 1) // one transaction for five jobs
        try await fixture.chain.mine(1)
        #expect(try await confirmer.confirm(jobs).isEmpty) // two deep: not yet
        try await fixture.chain.mine(1)
        let confirmations = try await confirmer.confirm(jobs)
        try await fixture.expectConfirmedOnce(jobs, confirmations)
        #expect(Set(confirmations.values.map(\.reference)).count == 1)
    }

    @Test func restartBetweenSendAndReceiptSendsNothingTwice() async throws {
        let fixture = try await Fixture()
        try await fixture.chain.control("dev_setAutomine", [.bool(false)])
        let jobs = fixture.jobs(3)
        _ = try await fixture.confirmer().confirm(jobs) // signed, logged, sent; then the process "dies"
        let restarted = try await fixture.confirmer()
        #expect(try await restarted.confirm(jobs).isEmpty)
        #expect(try await fixture.nonce(.pending) == 1) // still the one transaction
        try await fixture.chain.mine(3)
        try await fixture.expectConfirmedOnce(jobs, try await restarted.confirm(jobs))
        #expect(try await fixture.nonce() == 1)
    }

    @Test func droppedTransactionIsSentAgain() async throws {
        let fixture = try await Fixture()
        let confirmer = try await fixture.confirmer()
        try await fixture.chain.control("dev_setAutomine", [.bool(false)])
        let jobs = fixture.jobs(2)
        _ = try await confirmer.confirm(jobs)
        try await fixture.chain.control("dev_dropPending")
        _ = try await confirmer.confirm(jobs) // the node forgot it: broadcast again
        try await fixture.chain.mine(3)
        try await fixture.expectConfirmedOnce(jobs, try await confirmer.confirm(jobs))
    }

    @Test func stuckTransactionIsReplacedWithHigherFees() async throws {
        let fixture = try await Fixture()
        // The node mines nothing paying under 1.1 gwei of priority fee; the confirmer offers 1 gwei.
        try await fixture.chain.control("dev_setMinPriorityFee", [.string(Quantity.encode(1_100_000_000))])
        let confirmer = try await fixture.confirmer(replaceAfter: 0)
        let jobs = fixture.jobs(2)
        _ = try await confirmer.confirm(jobs)
        #expect(try await fixture.nonce() == 0) // stuck
        let stuck = try #require(try await fixture.log.chainTransactions(account: DevChain.confirmator.address.description).first)
        _ = try await confirmer.confirm(jobs) // replaced: +12.5%, over the floor
        let replaced = try #require(try await fixture.log.chainTransactions(account: DevChain.confirmator.address.description).first)
        #expect(replaced.transactionHashes.count == 2 && replaced.nonce == stuck.nonce)
        #expect(replaced.maxPriorityFeePerGas * 10 >= stuck.maxPriorityFeePerGas * 11)
        #expect(try await fixture.nonce() == 1)
        try await fixture.chain.mine(2)
        try await fixture.expectConfirmedOnce(jobs, try await confirmer.confirm(jobs))
    }

    @Test func feeCapHoldsAStuckTransactionUntilBlocksGetCheaper() async throws {
        let fixture = try await Fixture()
        try await fixture.chain.control("dev_setMinPriorityFee", [.string(Quantity.encode(1_100_000_000))])
        // The cap leaves no room for a 10% raise of the 1 gwei priority fee.
        let confirmer = try await fixture.confirmer(replaceAfter: 0, maxFeePerGas: 1_050_000_000)
        let jobs = fixture.jobs(1)
        _ = try await confirmer.confirm(jobs)
        _ = try await confirmer.confirm(jobs)
        let record = try #require(try await fixture.log.chainTransactions(account: DevChain.confirmator.address.description).first)
        #expect(record.transactionHashes.count == 1 && record.maxFeePerGas <= 1_050_000_000) // not replaced past the cap
        #expect(try await fixture.nonce() == 0)
        // The market comes down to what was offered: the same transaction is mined.
        try await fixture.chain.control("dev_setMinPriorityFee", [.string("0x0")])
        try await fixture.chain.mine(3)
        try await fixture.expectConfirmedOnce(jobs, try await confirmer.confirm(jobs))
    }

    @Test func rpcOutageDelaysButLosesNothing() async throws {
        let fixture = try await Fixture()
        let confirmer = try await fixture.confirmer()
        let first = fixture.jobs(2), second = fixture.jobs(2)
        _ = try await confirmer.confirm(first)
        try await fixture.chain.control("dev_goOffline", [.string("0x3")])
        await #expect(throws: ChainError.self) { _ = try await confirmer.confirm(first + second) }
        // The confirmation service retries with backoff; here, until the node is back.
        var confirmations: [JobID: Jobs.Confirmation] = [:]
        let deadline = ContinuousClock.now + .seconds(30)
        while confirmations.count < 4, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(500))
            guard let round = try? await confirmer.confirm(first + second) else { continue }
            confirmations.merge(round) { old, _ in old }
            try? await fixture.chain.mine(1)
        }
        try await fixture.expectConfirmedOnce(first + second, confirmations)
    }

    @Test func reorgedConfirmationIsSentAgain() async throws {
        let fixture = try await Fixture()
        let confirmer = try await fixture.confirmer()
        let jobs = fixture.jobs(2)
        let before = try await fixture.chain.snapshot()
        _ = try await confirmer.confirm(jobs)
        try await fixture.chain.mine(1)
        #expect(try await fixture.registry.confirmation(of: jobs[0].id) != nil)
        try await fixture.chain.revert(to: before) // the block with the confirmation is gone
        #expect(try await fixture.registry.confirmation(of: jobs[0].id) == nil)
        #expect(try await confirmer.confirm(jobs).isEmpty) // sent again, under the same nonce
        try await fixture.chain.mine(2)
        try await fixture.expectConfirmedOnce(jobs, try await confirmer.confirm(jobs))
    }

    @Test func nonceTakenByAnotherTransactionIsResolvedOnChain() async throws {
        let fixture = try await Fixture()
        let confirmer = try await fixture.confirmer()
        try await fixture.chain.control("dev_setAutomine", [.bool(false)])
        let jobs = fixture.jobs(2)
        _ = try await confirmer.confirm(jobs) // nonce 0, pending
        try await fixture.chain.control("dev_dropPending")
        // Something else with the same key takes nonce 0 (an operator's transaction, say).
        try await fixture.chain.control("dev_setAutomine", [.bool(true)])
        let other = fixture.jobs(1)
        _ = try await TransactionSender(rpc: fixture.chain.rpc, key: DevChain.confirmator)
            .send(to: fixture.registry.address, data: JobsRegistry.confirmCall([(other[0].id, Data(repeating: 1, count: 32), .succeeded)]))
        _ = try await confirmer.confirm(jobs) // sees nonce 0 used, finds the jobs unconfirmed, sends them at nonce 1
        try await fixture.chain.mine(2)
        try await fixture.expectConfirmedOnce(jobs, try await confirmer.confirm(jobs))
        #expect(try await fixture.nonce() == 2)
    }

    @Test func refusesAKeyThatIsNotAConfirmator() async throws {
        let fixture = try await Fixture()
        await #expect(throws: ChainError.self) {
            try await ChainConfirmer(registry: fixture.registry, key: DevChain.stranger, log: fixture.log).checkSetup()
        }
    }
}
