import Foundation
import Testing
@testable import TFHE

@Suite("FheUint comparisons, min, max, select, bitwise operations and booleans")
struct IntegerComparisonTests {
    func comparisons<C: FixedWidthInteger & UnsignedInteger & Sendable>(_: C.Type, seed: UInt64) throws {
        var pairs = IntegerInputs.pairs(C.self, edgePairs: IntegerInputs.count(C.self, [8, 5, 3, 3]),
                                        random: IntegerInputs.count(C.self, [5, 3, 2, 1]), seed: seed)
        pairs.append((pairs.last!.0, pairs.last!.0))  // equal operands
        // Operands differing only in the low block, where the tree's last decision is made.
        pairs.append((C.max - 2, C.max - 1))
        try checkPredicate("eq", pairs, { try $0.eq($1) }, { $0 == $1 })
        try checkPredicate("ne", pairs, { try $0.ne($1) }, { $0 != $1 })
        try checkPredicate("lt", pairs, { try $0.lt($1) }, { $0 < $1 })
        try checkPredicate("le", pairs, { try $0.le($1) }, { $0 <= $1 })
        try checkPredicate("gt", pairs, { try $0.gt($1) }, { $0 > $1 })
        try checkPredicate("ge", pairs, { try $0.ge($1) }, { $0 >= $1 })
        try checkScalarPredicate("scalar eq", pairs, { try $0.eq($1) }, { $0 == $1 })
        try checkScalarPredicate("scalar ne", pairs, { try $0.ne($1) }, { $0 != $1 })
        try checkScalarPredicate("scalar lt", pairs, { try $0.lt($1) }, { $0 < $1 })
        try checkScalarPredicate("scalar le", pairs, { try $0.le($1) }, { $0 <= $1 })
        try checkScalarPredicate("scalar gt", pairs, { try $0.gt($1) }, { $0 > $1 })
        try checkScalarPredicate("scalar ge", pairs, { try $0.ge($1) }, { $0 >= $1 })
        try checkBinary("min", pairs, { try $0.min($1) }, { Swift.min($0, $1) })
        try checkBinary("max", pairs, { try $0.max($1) }, { Swift.max($0, $1) })
        try checkBinary("select(a < b)", pairs, { try FheUint.select($0.lt($1), $0, $1) }, { $0 < $1 ? $0 : $1 })
        try checkBinary("and", pairs, { try $0 & $1 }, { $0 & $1 })
        try checkBinary("or", pairs, { try $0 | $1 }, { $0 | $1 })
        try checkBinary("xor", pairs, { try $0 ^ $1 }, { $0 ^ $1 })
        try checkBinary("not", pairs, { a, _ in try ~a }, { a, _ in ~a })
        try checkScalar("scalar and", pairs, { try $0 & $1 }, { $0 & $1 })
        try checkScalar("scalar or", pairs, { try $0 | $1 }, { $0 | $1 })
        try checkScalar("scalar xor", pairs, { try $0 ^ $1 }, { $0 ^ $1 })
    }

    /// Scalar orders where not every pair of blocks can be packed against its two clear digits
    /// (`order`'s clear case): an odd block count leaves a block alone, and a block of noise
    /// level 2 compares alone; each against a random constant and against its own value.
    @Test func scalarOrdersOnOddAndNoisyOperands() throws {
        let keys = IntegerTestKeys.insecure
        let key = try keys.privateCounter()
        var rng = TestGenerator(77)
        for blocks in [3, 5] {
            let limit = UInt64(1) << UInt64(2 * blocks)
            for _ in 0..<3 {
                let value = rng.next() % limit, constant = rng.next() % limit
                let a = try keys.client.encryptRadix(value, blockCount: blocks)
                // The same value with the noise of its block 1 raised to level 2 by adding an
                // encryption of zero.
                var zero = try keys.client.encryptRadix(0, blockCount: 1).blocks[0]
                zero.degree = 0
                var noisy = a.blocks
                noisy[1] = key.shortint.uncheckedAdd(noisy[1], zero)
                #expect(noisy[1].noiseLevel == 2)
                for operand in [a, RadixCiphertext(blocks: noisy)] {
                    for c in [constant, value] {
                        func clear(_ block: ShortintCiphertext<UInt64>) throws -> Bool { try keys.client.decryptShortint(block) == 1 }
                        let context = "\(blocks) blocks, \(value) against \(c), noise \(operand.blocks[1].noiseLevel)"
                        #expect(try clear(key.scalarGt(operand, c)) == (value > c), "gt, \(context)")
                        #expect(try clear(key.scalarGe(operand, c)) == (value >= c), "ge, \(context)")
                        #expect(try clear(key.scalarLt(operand, c)) == (value < c), "lt, \(context)")
                        #expect(try clear(key.scalarLe(operand, c)) == (value <= c), "le, \(context)")
                    }
                }
            }
        }
    }

    @Test func uint8() throws { try comparisons(UInt8.self, seed: 11) }
    @Test func uint16() throws { try comparisons(UInt16.self, seed: 12) }
    @Test func uint32() throws { try comparisons(UInt32.self, seed: 13) }
    @Test func uint64() throws { try comparisons(UInt64.self, seed: 14) }

    @Test func booleans() throws {
        let keys = IntegerTestKeys.insecure
        try FheContext.with(keys.server) {
            for a in [false, true] {
                for b in [false, true] {
                    let x = try FheBool(encrypting: a, with: keys.client), y = try FheBool(encrypting: b, with: keys.client)
                    #expect(try (x & y).clear() == (a && b))
                    #expect(try (x | y).clear() == (a || b))
                    #expect(try (x ^ y).clear() == (a != b))
                    #expect(try (!x).clear() == !a)
                    #expect(try (!(x ^ y) & x).clear() == (a == b && a))
                    #expect(try x.select(try FheUint8(200), try FheUint8(13)).clear() == (a ? 200 : 13))
                    #expect(try x.toInteger(UInt16.self).clear() == (a ? 1 : 0))
                }
            }
        }
    }
}
