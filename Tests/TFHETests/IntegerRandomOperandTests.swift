import Foundation
import Testing
@testable import TFHE

/// The arithmetic, comparison, shift and division operations on seeded random operands at every
/// width, against Swift's wrapping arithmetic, on the insecure 2_2 test set. The other integer suites try edge values and only a
/// few random ones, too few at the wide widths (a 64-bit product used to see only (max, 1) and
/// (0, max), a 64-bit division only the divisor 0); here every width gets random operands of
/// the shapes of `RandomOperands`, fewer at the wide widths, whose operations cost more.
@Suite("FheUint on seeded random operands at every width")
struct IntegerRandomOperandTests {
    /// add, sub and their scalar forms and borrow flag on `count` pairs; mul and scalar mul on
    /// the first `products`.
    func arithmetic<C: FixedWidthInteger & UnsignedInteger & Sendable>(_: C.Type, seed: UInt64, count: Int, products: Int) throws {
        let pairs = RandomOperands.pairs(C.self, count: count, seed: seed)
        let seeded = "(random operands, seed \(seed))"
        try checkBinary("add \(seeded)", pairs, { try $0 + $1 }, { $0 &+ $1 })
        try checkBinary("sub \(seeded)", pairs, { try $0 - $1 }, { $0 &- $1 })
        try checkScalar("scalar add \(seeded)", pairs, { try $0 + $1 }, { $0 &+ $1 })
        try checkScalar("scalar sub \(seeded)", pairs, { try $0 - $1 }, { $0 &- $1 })
        try checkScalar("clear minus \(seeded)", pairs, { try $1 - $0 }, { $1 &- $0 })
        try checkPredicate("overflowing sub's borrow \(seeded)", pairs, { try $0.overflowingSub($1).overflow },
                           { $0.subtractingReportingOverflow($1).overflow })
        let fewer = Array(pairs.prefix(products))
        try checkBinary("mul \(seeded)", fewer, { try $0 * $1 }, { $0 &* $1 })
        try checkScalar("scalar mul \(seeded)", fewer, { try $0 * $1 }, { $0 &* $1 })
    }

    @Test func arithmeticUInt8() throws { try arithmetic(UInt8.self, seed: 101, count: 8, products: 6) }
    @Test func arithmeticUInt16() throws { try arithmetic(UInt16.self, seed: 102, count: 6, products: 4) }
    @Test func arithmeticUInt32() throws { try arithmetic(UInt32.self, seed: 103, count: 4, products: 2) }
    @Test func arithmeticUInt64() throws { try arithmetic(UInt64.self, seed: 104, count: 3, products: 2) }

    /// The comparisons and min, encrypted and against a clear operand.
    func comparisons<C: FixedWidthInteger & UnsignedInteger & Sendable>(_: C.Type, seed: UInt64, count: Int) throws {
        let pairs = RandomOperands.pairs(C.self, count: count, seed: seed)
        let seeded = "(random operands, seed \(seed))"
        try checkPredicate("eq \(seeded)", pairs, { try $0.eq($1) }, { $0 == $1 })
        try checkPredicate("lt \(seeded)", pairs, { try $0.lt($1) }, { $0 < $1 })
        try checkPredicate("le \(seeded)", pairs, { try $0.le($1) }, { $0 <= $1 })
        try checkPredicate("gt \(seeded)", pairs, { try $0.gt($1) }, { $0 > $1 })
        try checkPredicate("ge \(seeded)", pairs, { try $0.ge($1) }, { $0 >= $1 })
        try checkBinary("min \(seeded)", pairs, { try $0.min($1) }, { Swift.min($0, $1) })
        try checkScalarPredicate("scalar eq \(seeded)", pairs, { try $0.eq($1) }, { $0 == $1 })
        try checkScalarPredicate("scalar lt \(seeded)", pairs, { try $0.lt($1) }, { $0 < $1 })
        try checkScalarPredicate("scalar ge \(seeded)", pairs, { try $0.ge($1) }, { $0 >= $1 })
    }

    @Test func comparisonsUInt8() throws { try comparisons(UInt8.self, seed: 111, count: 8) }
    @Test func comparisonsUInt16() throws { try comparisons(UInt16.self, seed: 112, count: 6) }
    @Test func comparisonsUInt32() throws { try comparisons(UInt32.self, seed: 113, count: 4) }
    @Test func comparisonsUInt64() throws { try comparisons(UInt64.self, seed: 114, count: 3) }

    /// Shifts and rotations by random amounts below and beyond the width (an amount is taken
    /// modulo the width, as the other shift tests define): clear amounts on `count` pairs,
    /// encrypted ones on the first `encrypted`.
    func shifts<C: FixedWidthInteger & UnsignedInteger & Sendable>(_: C.Type, seed: UInt64, count: Int, encrypted: Int) throws {
        var rng = TestGenerator(seed)
        let w = C(C.bitWidth), mask = w - 1
        let pairs = (0..<count).map { _ in (C.random(in: 0...C.max, using: &rng), C.random(in: 0...(2 * w - 1), using: &rng)) }
        let seeded = "(random operands, seed \(seed))"
        let rotl = { (v: C, s: C) in s & mask == 0 ? v : (v << (s & mask)) | (v >> (w - (s & mask))) }
        try checkScalar("<< \(seeded)", pairs, { try $0 << $1 }, { $0 << ($1 & mask) })
        try checkScalar(">> \(seeded)", pairs, { try $0 >> $1 }, { $0 >> ($1 & mask) })
        try checkScalar("rotl \(seeded)", pairs, { try $0.rotatedLeft(by: $1) }, rotl)
        try checkScalar("rotr \(seeded)", pairs, { try $0.rotatedRight(by: $1) }, { rotl($0, w - ($1 & mask)) })
        let fewer = Array(pairs.prefix(encrypted))
        try checkBinary(">> encrypted \(seeded)", fewer, { try $0 >> $1 }, { $0 >> ($1 & mask) })
        try checkBinary("rotl encrypted \(seeded)", fewer, { try $0.rotatedLeft(by: $1) }, rotl)
    }

    @Test func shiftsUInt8() throws { try shifts(UInt8.self, seed: 121, count: 8, encrypted: 4) }
    @Test func shiftsUInt16() throws { try shifts(UInt16.self, seed: 122, count: 6, encrypted: 3) }
    @Test func shiftsUInt32() throws { try shifts(UInt32.self, seed: 123, count: 4, encrypted: 2) }
    @Test func shiftsUInt64() throws { try shifts(UInt64.self, seed: 124, count: 3, encrypted: 1) }

    /// Quotient and remainder (one division computes both) by random nonzero divisors,
    /// encrypted for the first `encrypted` pairs, clear for the first `clear`. The divisor 0
    /// is IntegerShiftDivisionTests' case, with a random numerator at every width.
    func division<C: FixedWidthInteger & UnsignedInteger & Sendable>(_: C.Type, seed: UInt64, encrypted: Int, clear: Int) throws {
        let seeded = "(random operands, seed \(seed))"
        let pairs = RandomOperands.nonzeroSecond(C.self, count: Swift.max(encrypted, clear), seed: seed)
        let keys = IntegerTestKeys.insecure
        try FheContext.with(keys.server) {
            for (a, b) in pairs.prefix(encrypted) {
                let (q, r) = try FheUint(a).quotientAndRemainder(dividingBy: try FheUint(b))
                #expect(try q.clear() == a / b && r.clear() == a % b, "divRem \(seeded) \(C.self)(\(a), \(b))")
            }
            for (a, b) in pairs.prefix(clear) {
                let (q, r) = try FheUint(a).quotientAndRemainder(dividingBy: b)
                #expect(try q.clear() == a / b && r.clear() == a % b, "divRem by clear \(seeded) \(C.self)(\(a), \(b))")
            }
        }
    }

    @Test func divisionUInt8() throws { try division(UInt8.self, seed: 131, encrypted: 6, clear: 6) }
    @Test func divisionUInt16() throws { try division(UInt16.self, seed: 132, encrypted: 3, clear: 3) }
    @Test func divisionUInt32() throws { try division(UInt32.self, seed: 133, encrypted: 1, clear: 2) }
    @Test func divisionUInt64() throws { try division(UInt64.self, seed: 134, encrypted: 1, clear: 1) }
}
