import Foundation
import Testing
@testable import Chain

/// The JobsRegistry contract through the Swift client, on a real EVM (the dev chain).
@Suite(.serialized) struct RegistryTests {
    private func hash(_ byte: UInt8) -> Data { Data(repeating: byte, count: 32) }

    @Test func deployConfirmReadAndRefuse() async throws {
        let chain = try DevChain()
        let (registry, deployment) = try await JobsRegistry.deploy(rpc: chain.rpc, key: DevChain.owner)
        #expect(deployment.succeeded && deployment.gasUsed > 100_000)
        #expect(try await registry.owner() == DevChain.owner.address)
        #expect(try await registry.isConfirmator(DevChain.owner.address))
        #expect(try await !registry.isConfirmator(DevChain.stranger.address))

        let job = UUID()
        let sender = try await TransactionSender(rpc: chain.rpc, key: DevChain.owner)
        let receipt = try await sender.send(to: registry.address, data: JobsRegistry.confirmCall([(job, hash(7), .succeeded)]))
        let stored = try #require(try await registry.confirmation(of: job))
        #expect(stored == .init(resultHash: hash(7), status: 1, blockNumber: receipt.blockNumber, confirmator: DevChain.owner.address))
        #expect(try await registry.confirmationTransaction(of: job, inBlock: receipt.blockNumber) == receipt.transactionHash)
        #expect(try await registry.confirmation(of: UUID()) == nil)

        // A second confirmation of the job reverts, and the reason reaches the caller.
        await #expect(throws: ChainError.reverted(reason: "job already confirmed")) {
            _ = try await sender.send(to: registry.address, data: JobsRegistry.confirmCall([(job, self.hash(8), .succeeded)]))
        }
        // An account that is not a confirmator is refused.
        let stranger = try await TransactionSender(rpc: chain.rpc, key: DevChain.stranger)
        await #expect(throws: ChainError.reverted(reason: "not a confirmator")) {
            _ = try await stranger.send(to: registry.address, data: JobsRegistry.confirmCall([(UUID(), self.hash(9), .succeeded)]))
        }
        // Only the owner adds confirmators.
        await #expect(throws: ChainError.reverted(reason: "only owner")) {
            _ = try await registry.addConfirmator(DevChain.stranger.address, owner: DevChain.stranger)
        }
        #expect(try await registry.confirmation(of: job)?.resultHash == hash(7))
    }

    @Test func batchConfirmationAndGas() async throws {
        let chain = try DevChain()
        let registry = try await chain.deployRegistry()
        let sender = try await TransactionSender(rpc: chain.rpc, key: DevChain.confirmator)
        var gas: [Int: UInt64] = [:]
        for size in [1, 10, 100] {
            let jobs = (0..<size).map { _ in UUID() }
            let receipt = try await sender.send(to: registry.address,
                                                data: JobsRegistry.confirmCall(jobs.enumerated().map { ($1, self.hash(UInt8($0 % 255 + 1)), .succeeded) }))
            gas[size] = receipt.gasUsed
            #expect(receipt.logs.count == size)
            for (index, job) in jobs.enumerated() {
                #expect(try await registry.confirmation(of: job)?.resultHash == hash(UInt8(index % 255 + 1)))
            }
        }
        // A batch that repeats a confirmed job reverts as a whole.
        let first = UUID()
        _ = try await sender.send(to: registry.address, data: JobsRegistry.confirmCall([(first, hash(1), .succeeded)]))
        await #expect(throws: ChainError.reverted(reason: "job already confirmed")) {
            _ = try await sender.send(to: registry.address, data: JobsRegistry.confirmCall([(UUID(), self.hash(2), .succeeded), (first, self.hash(3), .succeeded)]))
        }
        // Batching must be cheaper per job than single confirmations.
        let single = try #require(gas[1]), ten = try #require(gas[10]), hundred = try #require(gas[100])
        #expect(ten / 10 < single && hundred / 100 < single)
        print("gas per confirmation: batch of 1 \(single), of 10 \(ten / 10) per job, of 100 \(hundred / 100) per job")
    }

    @Test func wrongAddressAndUnreachableNodeAreClearErrors() async throws {
        let chain = try DevChain()
        let nowhere = JobsRegistry(rpc: chain.rpc, address: DevChain.stranger.address)
        await #expect(throws: ChainError.self) { try await nowhere.checkDeployed() }
        let closed = EthereumRPC(client: try JSONRPCClient(url: "http://127.0.0.1:9", timeout: .seconds(2)))
        await #expect(throws: ChainError.self) { _ = try await closed.blockNumber() }
        #expect(throws: ChainError.self) { try EthereumRPC(url: "ftp://example.com") }
    }
}
