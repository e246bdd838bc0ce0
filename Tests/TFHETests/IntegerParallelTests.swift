import Foundation
import Testing
@testable import TFHE

@Suite("Bootstrap counts and parallel evaluation of integer operations")
struct IntegerParallelTests {
    /// Bootstraps of one operation, on a key whose counter no other test touches.
    func count(_ key: IntegerServerKey<UInt64>, _ body: () throws -> Void) throws -> Int {
        let before = key.bootstrapCount
        try FheContext.with(key) { try body() }
        return key.bootstrapCount - before
    }

    /// The counts grow as the algorithms say: carries by grouped lookahead cost about 3n
    /// bootstraps for n blocks (states, carries and group states, messages), by ripple (the
    /// default) n, order comparisons n plus one carry group per layer and the state groups the
    /// layers left need (`order`): 5, 11, 22, 46; and each count is the same whatever the
    /// number of workers.
    @Test func countsPerOperation() throws {
        let keys = IntegerTestKeys.insecure
        let key = try IntegerServerKey(serverKey: keys.serverKey, batchSize: 8, carryPropagation: .parallelPrefix)
        let ripple = try keys.privateCounter()
        for blocks in [4, 8, 16, 32] {
            let a = try keys.client.encryptRadix(0x1234_5678_9ABC_DEF0, blockCount: blocks)
            let b = try keys.client.encryptRadix(0x0FED_CBA9_8765_4321, blockCount: blocks)
            let add = try count(key) { _ = try key.add(a, b) }
            #expect(add <= 3 * blocks + blocks / 3, "add of \(blocks) blocks: \(add)")
            #expect(try count(ripple) { _ = try ripple.add(a, b) } == blocks, "ripple add of \(blocks) blocks")
            let gt = try count(key) { _ = try key.gt(a, b) }
            #expect(gt == [4: 5, 8: 11, 16: 22, 32: 46][blocks]!, "gt of \(blocks) blocks: \(gt)")
            let eq = try count(key) { _ = try key.eq(a, b) }
            #expect(eq <= blocks + blocks / 2, "eq of \(blocks) blocks: \(eq)")
        }
    }

    /// One worker, two workers and batched workers give the same results and counts.
    @Test func workersAgree() throws {
        let keys = IntegerTestKeys.insecure
        let a = try keys.client.encryptRadix(0xC0FFEE, blockCount: 16), b = try keys.client.encryptRadix(0xBADA55, blockCount: 16)
        var counts: [Int] = []
        for key in [try keys.privateCounter(workerCount: 1, batchSize: 1), try keys.privateCounter(workerCount: 2, batchSize: 1),
                    try keys.privateCounter(workerCount: 2, batchSize: 4)] {
            var product: UInt64 = 0
            counts.append(try count(key) { product = try keys.client.decryptRadix(try key.mul(a, b)) })
            #expect(product == (0xC0FFEE &* 0xBADA55) & 0xFFFF_FFFF)
        }
        #expect(Set(counts).count == 1)
    }

    /// Two operations at once on the same key (its scratch buffers are per worker).
    @Test func concurrentOperationsOnOneKey() async throws {
        let keys = IntegerTestKeys.insecure
        let key = keys.server
        let inputs = try (0..<4).map { i in try keys.client.encryptRadix(UInt64(i) * 0x1111, blockCount: 8) }
        let sums = try await withThrowingTaskGroup(of: (Int, UInt64).self) { group in
            for i in 0..<4 {
                group.addTask { (i, try keys.client.decryptRadix(try key.add(inputs[i], inputs[(i + 1) % 4]))) }
            }
            var results = [UInt64](repeating: 0, count: 4)
            for try await (i, value) in group { results[i] = value }
            return results
        }
        for i in 0..<4 { #expect(sums[i] == (UInt64(i) * 0x1111 + UInt64((i + 1) % 4) * 0x1111) & 0xFFFF) }
    }
}
