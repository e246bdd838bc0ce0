import Foundation
import Testing
@testable import TFHE

@Suite("FheUint arithmetic against Swift's wrapping operations")
struct IntegerArithmeticTests {
    func arithmetic<C: FixedWidthInteger & UnsignedInteger & Sendable>(_: C.Type, seed: UInt64) throws {
        let pairs = IntegerInputs.pairs(C.self, edgePairs: IntegerInputs.count(C.self, [8, 6, 3, 2]),
                                        random: IntegerInputs.count(C.self, [6, 3, 2, 1]), seed: seed)
        try checkBinary("add", pairs, { try $0 + $1 }, { $0 &+ $1 })
        try checkBinary("sub", pairs, { try $0 - $1 }, { $0 &- $1 })
        try checkBinary("&+ &- &*", Array(pairs.prefix(2)), { try ($0 &+ $1) &- ($0 &* $1) }, { ($0 &+ $1) &- ($0 &* $1) })
        try checkBinary("neg", pairs, { a, _ in try -a }, { a, _ in 0 &- a })
        try checkScalar("scalar add", pairs, { try $0 + $1 }, { $0 &+ $1 })
        try checkScalar("scalar sub", pairs, { try $0 - $1 }, { $0 &- $1 })
        try checkScalar("clear minus", Array(pairs.prefix(4)), { try $1 - $0 }, { $1 &- $0 })
        let narrow = Array(pairs.prefix(IntegerInputs.count(C.self, [14, 5, 3, 2])))
        try checkBinary("mul", narrow, { try $0 * $1 }, { $0 &* $1 })
        try checkScalar("scalar mul", narrow, { try $0 * $1 }, { $0 &* $1 })
        try checkBinary("scalar mul by max", Array(narrow.prefix(2)), { a, _ in try a * C.max }, { a, _ in a &* C.max })
        try checkBinary("scalar mul by 0 and 4", Array(narrow.prefix(2)), { a, _ in try a * C(0) + a * C(4) }, { a, _ in a &* 4 })
        let keys = IntegerTestKeys.insecure
        try FheContext.with(keys.server) {
            for (a, b) in pairs {
                let (sum, carried) = try FheUint(a).overflowingAdd(try FheUint(b))
                let (clearSum, clearCarried) = a.addingReportingOverflow(b)
                #expect(try sum.clear() == clearSum && carried.clear() == clearCarried, "overflowingAdd(\(a), \(b))")
                let (difference, borrowed) = try FheUint(a).overflowingSub(try FheUint(b))
                let (clearDifference, clearBorrowed) = a.subtractingReportingOverflow(b)
                #expect(try difference.clear() == clearDifference && borrowed.clear() == clearBorrowed, "overflowingSub(\(a), \(b))")
            }
        }
    }

    @Test func uint8() throws { try arithmetic(UInt8.self, seed: 1) }
    @Test func uint16() throws { try arithmetic(UInt16.self, seed: 2) }
    @Test func uint32() throws { try arithmetic(UInt32.self, seed: 3) }
    @Test func uint64() throws { try arithmetic(UInt64.self, seed: 4) }

    /// A long chain of operations without decrypting: degree and noise stay within bounds
    /// because every operation cleans what it must, and the value stays exact.
    @Test func chainedAdditions() throws {
        let keys = IntegerTestKeys.insecure
        var rng = TestGenerator(21)
        try FheContext.with(keys.server) {
            var accumulator = try FheUint16(0)
            var clear: UInt16 = 0
            for step in 0..<30 {
                let v = UInt16.random(in: 0...UInt16.max, using: &rng)
                switch step % 3 {
                case 0: accumulator = try accumulator + FheUint16(v); clear = clear &+ v
                case 1: accumulator = try accumulator - FheUint16(v); clear = clear &- v
                default: accumulator = try accumulator + v; clear = clear &+ v
                }
                for block in accumulator.radix.blocks {
                    #expect(block.degree <= 3 && block.noiseLevel <= keys.server.encoding.maxNoiseLevel)
                }
            }
            #expect(try accumulator.clear() == clear)
        }
    }

    /// Blocks that still hold carries (as a deserialized ciphertext may) are propagated first.
    @Test func operandsWithCarriesArePropagated() throws {
        let keys = IntegerTestKeys.insecure
        let shortint = keys.server.shortint
        let a = try keys.client.encryptRadix(0xB7, blockCount: 4), b = try keys.client.encryptRadix(0x6E, blockCount: 4)
        // Blockwise sums without carry propagation: digits up to 6.
        let raw = RadixCiphertext(blocks: zip(a.blocks, b.blocks).map { shortint.uncheckedAdd($0, $1) })
        #expect(try keys.client.decryptRadix(raw) == (0xB7 + 0x6E) & 0xFF)
        try FheContext.with(keys.server) {
            let x = try FheUint8(radix: raw, key: keys.server)
            #expect(try (x + UInt8(1)).clear() == UInt8(truncatingIfNeeded: 0xB7 + 0x6E + 1))
            #expect(try (x * x).clear() == UInt8(truncatingIfNeeded: 0xB7 + 0x6E) &* UInt8(truncatingIfNeeded: 0xB7 + 0x6E))
        }
    }

    @Test func misuseIsATypedError() throws {
        let keys = IntegerTestKeys.insecure
        let a = try FheUint8(3)
        #expect(throws: TFHEError.self) { try a + a }  // no server key in scope
        try FheContext.with(keys.server) {
            let wrongWidth = FheUint8(unchecked: try keys.client.encryptRadix(3, blockCount: 5))
            #expect(throws: TFHEError.self) { try a + wrongWidth }
            var foreign = a
            foreign.radix.blocks[0].lwe = LWECiphertext(data: foreign.radix.blocks[0].lwe.data, parameterFingerprint: 42)
            #expect(throws: TFHEError.self) { try a + foreign }
            #expect(throws: TFHEError.self) { try FheUint16(radix: a.radix, key: keys.server) }
            // Metadata read from outside is checked: a boolean of degree 3, a block of noise 9.
            #expect(throws: TFHEError.self) { try FheBool(block: a.radix.blocks[0]) }
            var noisy = a
            noisy.radix.blocks[1].noiseLevel = 9
            #expect(throws: TFHEError.self) { try FheUint8(radix: noisy.radix, key: keys.server) }
            #expect(throws: TFHEError.self) { try a + noisy }
        }
    }
}
