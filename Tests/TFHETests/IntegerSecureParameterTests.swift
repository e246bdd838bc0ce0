import Foundation
import Testing
@testable import TFHE

/// A subset of the integer suite on the secure 2_2 TUniform set (n = 918, N = 2048), where the
/// noise bookkeeping has tight margins: its p-fail of 2^-128.5 holds only for bootstrap inputs
/// up to its max_noise_level of 5, and the integer layer goes right up to that level. Every
/// bivariate lookup (products, comparisons) reads a packed input a·4 + b of noise level
/// 4·1 + 1 = 5, and carry-save sums group blocks until their noise levels add up to 5. At that
/// p-fail a wrong result is a bug, never bad luck: bookkeeping that lets an input past the
/// budget, or noise larger than the model says, shows up here and not on the roomy test set.
///
/// One key for the whole suite (`IntegerTestKeys.secure22`); few operands, since a bootstrap
/// (KS+PBS) costs 26 to 29 ms here on a 2-core AMD EPYC, against about 1.5 ms on the test set.
@Suite("FheUint on the secure 2_2 set at its noise budget")
struct IntegerSecureParameterTests {
    var keys: IntegerTestKeys { .secure22 }

    @Test func parameterSetIsTheSecureOne() throws {
        #expect(!keys.client.parameters.insecure && keys.client.parameters.securityBits == 128)
        #expect(keys.server.encoding.maxNoiseLevel == 5)
    }

    func arithmetic<C: FixedWidthInteger & UnsignedInteger & Sendable>(_: C.Type, seed: UInt64, random: Int) throws {
        // The carries of max · max and max + max, then random operands.
        let pairs = [(C.max, C.max)] + RandomOperands.pairs(C.self, count: random, seed: seed)
        let seeded = "(seed \(seed))"
        try checkBinary("add \(seeded)", pairs, { try $0 + $1 }, { $0 &+ $1 }, keys: keys)
        try checkBinary("sub \(seeded)", pairs, { try $0 - $1 }, { $0 &- $1 }, keys: keys)
        try checkBinary("mul \(seeded)", pairs, { try $0 * $1 }, { $0 &* $1 }, keys: keys)
        try checkPredicate("lt \(seeded)", pairs, { try $0.lt($1) }, { $0 < $1 }, keys: keys)
        try checkPredicate("gt \(seeded)", pairs, { try $0.gt($1) }, { $0 > $1 }, keys: keys)
        try checkPredicate("eq \(seeded)", pairs, { try $0.eq($1) }, { $0 == $1 }, keys: keys)
        try checkScalar("scalar add \(seeded)", pairs, { try $0 + $1 }, { $0 &+ $1 }, keys: keys)
        try checkScalar("scalar mul \(seeded)", pairs, { try $0 * $1 }, { $0 &* $1 }, keys: keys)
        try checkScalarPredicate("scalar ge \(seeded)", pairs, { try $0.ge($1) }, { $0 >= $1 }, keys: keys)
    }

    @Test func arithmeticUInt8() throws { try arithmetic(UInt8.self, seed: 201, random: 4) }
    @Test func arithmeticUInt16() throws { try arithmetic(UInt16.self, seed: 202, random: 2) }

    /// Division (the longest chain of dependent layers: quotient and remainder in one) and a
    /// shift by an encrypted amount.
    @Test func divisionAndShiftUInt8() throws {
        let pairs = RandomOperands.nonzeroSecond(UInt8.self, count: 2, seed: 203)
        try FheContext.with(keys.server) {
            let (a, b) = pairs[0]
            let (q, r) = try FheUint8(a, keys).quotientAndRemainder(dividingBy: FheUint8(b, keys))
            #expect(try q.clear(keys) == a / b && r.clear(keys) == a % b, "divRem (seed 203) UInt8(\(a), \(b))")
        }
        try checkBinary("<< encrypted (seed 203)", pairs, { try $0 << $1 }, { $0 << ($1 & 7) }, keys: keys)
    }

    /// Blocks driven to the maximum noise level and the maximum degree before any cleaning:
    /// each block is the unchecked sum of five fresh blocks (noise level 5, degree 5·3 = 15),
    /// so the first bootstraps of the operations below read inputs at the set's limit.
    @Test func operandsAtMaxNoiseLevel() throws {
        let shortint = keys.server.shortint, encoding = keys.server.encoding
        var rng = TestGenerator(204)
        let values = (0..<5).map { _ in UInt8.random(in: 0...UInt8.max, using: &rng) }
        let parts = try values.map { try keys.client.encryptRadix(UInt64($0), blockCount: 4) }
        let blocks = (0..<4).map { i in parts.dropFirst().reduce(parts[0].blocks[i]) { shortint.uncheckedAdd($0, $1.blocks[i]) } }
        for block in blocks {
            #expect(block.noiseLevel == encoding.maxNoiseLevel && block.degree == encoding.maxDegree)
        }
        let sum = values.reduce(0, &+)
        let b = UInt8.random(in: 0...UInt8.max, using: &rng)
        let detail = "operands \(values) (seed 204), b = \(b)"
        try FheContext.with(keys.server) {
            let noisy = try FheUint8(radix: RadixCiphertext(blocks: blocks), key: keys.server)
            #expect(try (noisy + FheUint8(b, keys)).clear(keys) == sum &+ b, "\(detail)")
            #expect(try (noisy * FheUint8(b, keys)).clear(keys) == sum &* b, "\(detail)")
            #expect(try noisy.lt(FheUint8(b, keys)).clear(keys) == (sum < b), "\(detail)")
            #expect(try (noisy * b).clear(keys) == sum &* b, "\(detail)")
        }
    }

    /// Sums of many operands: the carry-save compression fills each bootstrap's input up to
    /// noise level 5 (five clean blocks per group).
    @Test func sumsOfManyOperands() throws {
        var rng = TestGenerator(205)
        for (count, blockCount) in [(5, 4), (11, 8)] {
            let mask: UInt64 = (1 << (2 * blockCount)) - 1
            let values = (0..<count).map { _ in UInt64.random(in: 0...mask, using: &rng) }
            let operands = try values.map { try keys.client.encryptRadix($0, blockCount: blockCount) }
            let sum = try keys.server.sum(operands)
            #expect(try keys.client.decryptRadix(sum) == values.reduce(0, &+) & mask, "sum of \(values) (seed 205)")
            #expect(sum.blocks.allSatisfy { $0.degree < keys.server.encoding.messageModulus })
        }
    }

    /// A chain of operations without decrypting between them, on results (not fresh
    /// encryptions): every block stays within the budgets, and the value stays exact.
    @Test func chainedOperations() throws {
        var rng = TestGenerator(206)
        let encoding = keys.server.encoding
        try FheContext.with(keys.server) {
            var accumulator = try FheUint8(UInt8.random(in: 0...UInt8.max, using: &rng), keys)
            var clear = try accumulator.clear(keys)
            var steps: [String] = []
            for step in 0..<8 {
                let v = UInt8.random(in: 0...UInt8.max, using: &rng)
                switch step % 5 {
                case 0: accumulator = try accumulator + FheUint8(v, keys); clear = clear &+ v; steps.append("+ \(v)")
                case 1: accumulator = try accumulator * v; clear = clear &* v; steps.append("* \(v)")
                case 2: accumulator = try accumulator - FheUint8(v, keys); clear = clear &- v; steps.append("- \(v)")
                case 3: accumulator = try accumulator * FheUint8(v, keys); clear = clear &* v; steps.append("* enc \(v)")
                default: accumulator = try accumulator + v; clear = clear &+ v; steps.append("+ clear \(v)")
                }
                for block in accumulator.radix.blocks {
                    #expect(block.degree <= encoding.maxDegree && block.noiseLevel <= encoding.maxNoiseLevel)
                }
            }
            #expect(try accumulator.clear(keys) == clear, "steps \(steps) (seed 206)")
        }
    }
}
