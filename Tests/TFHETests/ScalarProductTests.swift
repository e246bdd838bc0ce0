import Foundation
import Testing
@testable import TFHE

/// Products by clear constants and division by them: the signed-digit recoding, the reciprocal,
/// and their bootstrap counts beside TFHE-rs 1.7.0's (docs/TFHE-RS-BOOTSTRAP-COUNTS.md).
/// Their results are checked on encryptions by IntegerRandomOperandTests and
/// IntegerShiftDivisionTests.
@Suite("Scalar products and division by a clear constant")
struct ScalarProductTests {
    /// Σ d_j B^j mod B^W, as Swift's wrapping arithmetic modulo 2^64 when B^W = 2^64.
    func value(_ signed: [Int], base: UInt64) -> UInt64 {
        signed.reversed().reduce(UInt64(0)) { $0 &* base &+ UInt64(bitPattern: Int64($1)) }
    }

    /// The recoded digits give the multiplier back, stay within -(B-1) ... B-1, and cost the
    /// least a brute force over every carry pattern finds.
    @Test func recodingIsExactAndLeastCost() {
        var rng = TestGenerator(2031)
        for base: UInt64 in [2, 4, 8] {
            let bitsPerDigit = base.trailingZeroBitCount
            for width in 1...6 {
                for _ in 0..<40 {
                    let bits = width * bitsPerDigit
                    let k = UInt64.random(in: 0...UInt64.max, using: &rng) & ((1 << bits) - 1)
                    let digits = (0..<width).map { (k >> UInt64($0 * bitsPerDigit)) % base }
                    let weights = (0..<width).map { _ in Int.random(in: 0...9, using: &rng) }
                    let signed = SignedDigitRecoding.recode(digits, base: base, weights: weights)
                    #expect(signed.count == width)
                    #expect(signed.allSatisfy { $0.magnitude < base })
                    #expect(value(signed, base: base) & ((1 << bits) - 1) == k, "base \(base), k \(k)")
                    let cost = zip(signed, weights).reduce(0) { $0 + Int($1.0.magnitude) * $1.1 }
                    // Every recoding is fixed by which positions pass a carry on: 2^width of them.
                    var least = Int.max
                    for pattern in 0..<(1 << width) {
                        var carry = 0, total = 0, valid = true
                        for j in 0..<width {
                            let v = Int(digits[j]) + carry
                            let next = (pattern >> j) & 1
                            let d = v - next * Int(base)
                            if d.magnitude >= base { valid = false; break }
                            total += Int(d.magnitude) * weights[j]
                            carry = next
                        }
                        if valid { least = min(least, total) }
                    }
                    #expect(cost == least, "base \(base), k \(k), weights \(weights)")
                }
            }
        }
    }

    /// 3 = 4 - 1: one digit of noise 3 becomes two of noise 1, and a power of the base stays one digit.
    @Test func recodingExamples() {
        #expect(SignedDigitRecoding.recode([3, 0], base: 4, weights: [4, 3]) == [-1, 1])
        #expect(SignedDigitRecoding.recode([0, 1, 0], base: 4, weights: [3, 2, 1]) == [0, 1, 0])
        // At the top position a carry out is dropped (modulo B^W): 3 at the top is -1 there.
        #expect(SignedDigitRecoding.recode([1, 3], base: 4, weights: [2, 1]) == [1, -1])
    }

    /// ⌊2^e / d⌋ + 1 against the same value from UInt64 division where it fits, and the
    /// reciprocal's defining bounds (2^e < m·d <= 2^e + d) above 64 bits.
    @Test func reciprocalDigits() {
        var rng = TestGenerator(2032)
        let divisors: [UInt64] = [3, 5, 7, 10, 255, 1000, 0xFFFF_FFFF, 0x8000_0000_0000_0001, UInt64.max]
            + (0..<20).map { _ in UInt64.random(in: 3...UInt64.max, using: &rng) }
        for d in divisors {
            for exponent in [8, 31, 62, 63, 100, 129] {
                let digits = IntegerServerKey<UInt64>.reciprocalDigits(exponent: exponent, divisor: d, bitsPerDigit: 2)
                #expect(digits.allSatisfy { $0 < 4 })
                if exponent < 64 {
                    let expected = (UInt64(1) << UInt64(exponent)) / d + 1
                    #expect(digits.reversed().reduce(UInt64(0)) { $0 << 2 | $1 } == expected, "d \(d), e \(exponent)")
                } else {
                    // m·d - 2^e in (0, d], computed on base-4 digits with a wide accumulator.
                    var product = [UInt64](repeating: 0, count: digits.count + 34)
                    for (j, digit) in digits.enumerated() {
                        var carry: UInt64 = 0
                        for i in 0..<33 {
                            let dDigit = i < 32 ? (d >> UInt64(2 * i)) & 3 : 0
                            let t = product[i + j] + digit * dDigit + carry
                            product[i + j] = t & 3
                            carry = t >> 2
                        }
                        var i = j + 33
                        while carry > 0 { let t = product[i] + carry; product[i] = t & 3; carry = t >> 2; i += 1 }
                    }
                    // Subtract 2^e (exponent even here or odd: bit e of the base-4 number).
                    let position = exponent / 2, shifted = UInt64(1) << UInt64(exponent % 2)
                    var borrow = shifted, i = position
                    while borrow > 0 {
                        if product[i] >= borrow { product[i] -= borrow; borrow = 0 } else { product[i] = product[i] + 4 - borrow; borrow = 1 }
                        i += 1
                    }
                    #expect(product[32...].allSatisfy { $0 == 0 }, "d \(d), e \(exponent): m·d - 2^e exceeds 64 bits")
                    let excess = product[..<32].reversed().reduce(UInt64(0)) { $0 << 2 | $1 }
                    #expect(excess > 0 && excess <= d, "d \(d), e \(exponent)")
                }
            }
        }
    }

    /// The reciprocal's edges on encryptions: the largest numerators, divisors just above a
    /// power of two (the widest reciprocal) and just below the next, and constants whose
    /// digits are all 3 (every digit recoded) or alternate.
    @Test func extremesOnEncryptions() throws {
        let keys = IntegerTestKeys.insecure
        try FheContext.with(keys.server) {
            let numerators: [UInt16] = [.max, .max - 1, 0x8000, 12345]
            for a in numerators {
                let x = try FheUint16(a)
                for d: UInt16 in [3, 0x8001, 0xFFFF, 0xFFFD, 0x5555] {
                    let (q, r) = try x.quotientAndRemainder(dividingBy: d)
                    #expect(try q.clear() == a / d && r.clear() == a % d, "\(a) / \(d)")
                }
                for c: UInt16 in [.max, 0xAAAA, 0x5555, 3, 0xFFFD] {
                    #expect(try (x * c).clear() == a &* c, "\(a) * \(c)")
                }
            }
        }
    }

    /// Bootstraps of scalar mul and scalar division over 200 random constants per width (a
    /// metadata-only key of the 2_2 TUniform set, the default ripple carries), at the median
    /// and the 95th percentile, no more than TFHE-rs 1.7.0's with 2 threads (its ripple plan),
    /// derived from its source over 2,000 constants (docs/TFHE-RS-BOOTSTRAP-COUNTS.md).
    @Test func countsAtMostTFHErs() throws {
        let params = try TestParameters.load("tfhe-rs_message_2_carry_2_ks_pbs_tuniform_2m128")
        let client = try ClientKey<UInt64>(parameters: params)
        let key = try IntegerServerKey<UInt64>.metadataOnly(parameters: params)
        // width: (scalar mul median, 95th percentile; scalar div median, 95th percentile)
        let tfhers: [Int: (mul: (Int, Int), div: (Int, Int))] = [
            8: ((13, 18), (33, 54)), 16: ((40, 53), (95, 137)), 32: ((127, 158), (294, 374)), 64: ((429, 511), (970, 1161)),
        ]
        var rng = TestGenerator(2033)
        for width in [8, 16, 32, 64] {
            let x = try client.encryptRadix(0, blockCount: width / 2)
            var mul: [Int] = [], div: [Int] = []
            for _ in 0..<200 {
                let c = UInt64.random(in: 0...UInt64.max, using: &rng) >> UInt64(64 - width)
                var before = key.bootstrapCount
                _ = try key.scalarMul(x, c)
                mul.append(key.bootstrapCount - before)
                before = key.bootstrapCount
                _ = try key.scalarDiv(x, c)
                div.append(key.bootstrapCount - before)
            }
            mul.sort(); div.sort()
            let theirs = try #require(tfhers[width])
            print("FheUint\(width): scalar mul median \(mul[100]) (95%: \(mul[189])), TFHE-rs \(theirs.mul); scalar div median \(div[100]) (95%: \(div[189])), TFHE-rs \(theirs.div)")
            #expect(mul[100] <= theirs.mul.0 && mul[189] <= theirs.mul.1, "FheUint\(width) scalar mul: \(mul[100]), \(mul[189])")
            #expect(div[100] <= theirs.div.0 && div[189] <= theirs.div.1, "FheUint\(width) scalar div: \(div[100]), \(div[189])")
        }
    }
}
