import Foundation
import Testing
@testable import TFHE

/// Deferred propagation: additions and products leave their last carry propagation to whoever
/// needs clean blocks. That must never cost more than propagating at once, and every consumer
/// must read a result that still holds carries correctly.
@Suite("Deferred carry propagation")
struct DeferredPropagationTests {
    typealias Radix = RadixCiphertext<UInt64>

    /// Random chains of additions, subtractions, negations, products, scalar operations and
    /// sums, each result fed to the next operations, on a metadata-only key of the 2_2 set. With
    /// deferred propagation, and a result read more than once propagated once when it is made
    /// (what the operation graphs' evaluator does), a chain and one propagation of its result
    /// at the end cost at most what the chain costs on a key that propagates every result, and
    /// the propagated result has the same blocks' degrees.
    @Test func neverCostsMoreThanPropagatingAtOnce() throws {
        let params = try TestParameters.load("tfhe-rs_message_2_carry_2_ks_pbs_tuniform_2m128")
        let client = try ClientKey<UInt64>(parameters: params)
        let eager = try IntegerServerKey<UInt64>.metadataOnly(parameters: params)
        let deferring = eager.deferringPropagation()
        var rng = TestGenerator(2041)
        var savedSomewhere = false
        for blockCount in [4, 8, 32] {
            let inputs = try (0..<3).map { _ in try client.encryptRadix(rng.next(), blockCount: blockCount) }
            for _ in 0..<25 {
                let steps = (0..<6).map { _ in (Int.random(in: 0..<7, using: &rng), rng.next() | 3) }
                // The values each step reads: the last two made, and the first input for a sum.
                func operands(_ step: Int) -> [Int] {
                    let last = inputs.count + step - 1
                    switch steps[step].0 {
                    case 2, 4, 5: return [last]
                    case 6: return [last, last - 1, 0]
                    default: return [last, last - 1]
                    }
                }
                var reads = [Int](repeating: 0, count: inputs.count + steps.count)
                for step in steps.indices { for i in operands(step) { reads[i] += 1 } }
                func chain(_ key: IntegerServerKey<UInt64>) throws -> (bootstraps: Int, result: Radix) {
                    let before = key.bootstrapCount
                    var values = inputs
                    for (step, (operation, constant)) in steps.enumerated() {
                        let read = operands(step).map { values[$0] }
                        var next: Radix
                        switch operation {
                        case 0: next = try key.add(read[0], read[1])
                        case 1: next = try key.sub(read[0], read[1])
                        case 2: next = try key.neg(read[0])
                        case 3: next = try key.mul(read[0], read[1])
                        case 4: next = try key.scalarAdd(read[0], constant)
                        case 5: next = try key.scalarMul(read[0], constant)
                        default: next = try key.sum(read)
                        }
                        if key.defersPropagation && reads[values.count] > 1 { next = try key.completePropagation(next) }
                        values.append(next)
                    }
                    return (key.bootstrapCount - before, values[values.count - 1])
                }
                let atOnce = try chain(eager)
                let deferred = try chain(deferring)
                let before = deferring.bootstrapCount
                let final = try deferring.completePropagation(deferred.result)
                let finalPropagation = deferring.bootstrapCount - before
                #expect(deferred.bootstraps + finalPropagation <= atOnce.bootstraps, "\(blockCount) blocks, steps \(steps)")
                #expect(final.blocks.map(\.degree) == atOnce.result.blocks.map(\.degree))
                if deferred.bootstraps < atOnce.bootstraps { savedSomewhere = true }
            }
        }
        #expect(savedSomewhere, "an unpropagated result saves its propagation")
    }

    /// Results that still hold carries, decrypted directly and fed to every kind of consumer.
    @Test func everyConsumerReadsCarries() throws {
        let keys = IntegerTestKeys.insecure
        try FheContext.with(keys.server.deferringPropagation()) {
            let (a, b): (UInt16, UInt16) = (0xBEEF, 0x1234)
            let x = try FheUint16(a), y = try FheUint16(b)
            let sum = try x + y, difference = try x - y, product = try x * y
            #expect(sum.radix.blocks.contains { $0.degree >= 4 }, "a fresh sum defers its carries")
            let (s, d, p) = (a &+ b, a &- b, a &* b)
            #expect(try sum.clear() == s && difference.clear() == d && product.clear() == p)
            #expect(try (sum + product).clear() == s &+ p)
            #expect(try (sum * difference).clear() == s &* d)
            #expect(try (sum * 7).clear() == s &* 7)
            #expect(try sum.gt(product).clear() == (s > p))
            #expect(try sum.eq(s).clear() == true)
            #expect(try sum.min(difference).clear() == Swift.min(s, d))
            #expect(try FheUint16.select(try sum.gt(difference), sum, difference).clear() == Swift.max(s, d))
            #expect(try (sum ^ product).clear() == s ^ p)
            #expect(try (~sum).clear() == ~s)
            #expect(try (sum >> 3).clear() == s >> 3)
            #expect(try (sum >> (try FheUint16(5))).clear() == s >> 5)
            #expect(try (sum / 7).clear() == s / 7)
            let (q, r) = try sum.quotientAndRemainder(dividingBy: try FheUint16(300))
            #expect(try q.clear() == s / 300 && r.clear() == s % 300)
            #expect(try sum.cast(to: UInt32.self).clear() == UInt32(s))
            #expect(try sum.cast(to: UInt8.self).clear() == UInt8(truncatingIfNeeded: s))
        }
    }
}
