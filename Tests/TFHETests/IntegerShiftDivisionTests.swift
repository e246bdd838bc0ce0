import Foundation
import Testing
@testable import TFHE

@Suite("FheUint shifts, rotations, division, remainder and casts")
struct IntegerShiftDivisionTests {
    func shifts<C: FixedWidthInteger & UnsignedInteger & Sendable>(_: C.Type, seed: UInt64) throws {
        let w = C(C.bitWidth)
        var rng = TestGenerator(seed)
        let values = [C.max, C(1), C.random(in: 0...C.max, using: &rng), C.random(in: 0...C.max, using: &rng)]
        // Amounts: 0, 1, odd and even, width - 1, and at or beyond the width (taken modulo it).
        let amounts: [C] = [0, 1, 2, 3, w / 2 + 1, w - 1, w, w + 3]
        let pairs = zip(values.cycled(amounts.count), amounts).map { ($0, $1) }
        let mask = w - 1
        try checkScalar("<<", pairs, { try $0 << $1 }, { $0 << ($1 & mask) })
        try checkScalar(">>", pairs, { try $0 >> $1 }, { $0 >> ($1 & mask) })
        try checkScalar("rotl", pairs, { try $0.rotatedLeft(by: $1) }, { rotl($0, $1 & mask) })
        try checkScalar("rotr", pairs, { try $0.rotatedRight(by: $1) }, { rotl($0, (w - ($1 & mask)) & mask) })
        let encrypted = Array(pairs.prefix(IntegerInputs.count(C.self, [8, 4, 3, 2]))) + [(values[2], w + 5)]
        try checkBinary("<< encrypted", encrypted, { try $0 << $1 }, { $0 << ($1 & mask) })
        try checkBinary(">> encrypted", encrypted, { try $0 >> $1 }, { $0 >> ($1 & mask) })
        try checkBinary("rotl encrypted", Array(encrypted.suffix(3)), { try $0.rotatedLeft(by: $1) }, { rotl($0, $1 & mask) })
        try checkBinary("rotr encrypted", Array(encrypted.suffix(3)), { try $0.rotatedRight(by: $1) }, { rotl($0, (w - ($1 & mask)) & mask) })
    }

    @Test func shiftsUInt8() throws { try shifts(UInt8.self, seed: 31) }
    @Test func shiftsUInt16() throws { try shifts(UInt16.self, seed: 32) }
    @Test func shiftsUInt32() throws { try shifts(UInt32.self, seed: 33) }
    @Test func shiftsUInt64() throws { try shifts(UInt64.self, seed: 34) }

    /// Division by zero: quotient max, remainder the numerator (TFHE-rs's convention).
    func division<C: FixedWidthInteger & UnsignedInteger & Sendable>(_: C.Type, seed: UInt64, encryptedCases: Int) throws {
        var rng = TestGenerator(seed)
        let random = { C.random(in: 0...C.max, using: &rng) }
        let small = C.random(in: 1...200, using: &rng)
        let all: [(C, C)] = [(random(), 0), (C.max, 1), (random(), small), (C.max, C.max), (C.max - 1, C.max),
                             (random(), random() >> (C.bitWidth / 2)), (0, random() | 1), (random(), random())]
        let quotient = { (a: C, b: C) in b == 0 ? C.max : a / b }
        let remainder = { (a: C, b: C) in b == 0 ? a : a % b }
        let encrypted = Array(all.prefix(encryptedCases))
        try checkBinary("/", encrypted, { try $0 / $1 }, quotient)
        try checkBinary("%", Array(encrypted.prefix(2)), { try $0 % $1 }, remainder)
        let keys = IntegerTestKeys.insecure
        try FheContext.with(keys.server) {
            for (a, b) in encrypted.suffix(2) {
                let (q, r) = try FheUint(a).quotientAndRemainder(dividingBy: try FheUint(b))
                #expect(try q.clear() == quotient(a, b) && r.clear() == remainder(a, b), "divRem(\(a), \(b))")
            }
        }
        // Clear divisors: 0, 1, a power of two, small odd, large.
        let scalar: [(C, C)] = [(random(), 0), (random(), 1), (random(), 8), (random(), 7), (C.max, C.max - 1), (random(), small)]
        let scalarCases = IntegerInputs.count(C.self, [6, 6, 5, 4])
        try checkScalar("/ clear", Array(scalar.prefix(scalarCases)), { try $0 / $1 }, quotient)
        try checkScalar("% clear", Array(scalar.prefix(scalarCases)), { try $0 % $1 }, remainder)
    }

    @Test func divisionUInt8() throws { try division(UInt8.self, seed: 41, encryptedCases: 8) }
    @Test func divisionUInt16() throws { try division(UInt16.self, seed: 42, encryptedCases: 4) }
    @Test func divisionUInt32() throws { try division(UInt32.self, seed: 43, encryptedCases: 2) }
    @Test func divisionUInt64() throws { try division(UInt64.self, seed: 44, encryptedCases: 1) }

    @Test func casts() throws {
        let keys = IntegerTestKeys.insecure
        try FheContext.with(keys.server) {
            let a = try FheUint16(0xBEEF)
            #expect(try a.cast(to: UInt8.self).clear() == 0xEF)
            #expect(try a.cast(to: UInt64.self).clear() == 0xBEEF)
            #expect(try a.cast(to: UInt32.self).cast(to: UInt16.self).clear() == 0xBEEF)
            // A widened value computes at its new width.
            #expect(try (a.cast(to: UInt32.self) * UInt32(0x10001)).clear() == 0xBEEF &* 0x10001)
            #expect(try a.isNonZero().clear() == true)
            #expect(try FheUint16(0).isNonZero().clear() == false)
        }
    }
}

private func rotl<C: FixedWidthInteger>(_ v: C, _ s: C) -> C {
    let k = Int(s) % C.bitWidth
    return k == 0 ? v : (v << k) | (v >> (C.bitWidth - k))
}

extension Array {
    fileprivate func cycled(_ count: Int) -> [Element] { (0..<count).map { self[$0 % self.count] } }
}
