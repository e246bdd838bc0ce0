import Testing
@testable import TFHE

/// The SIMD conversions between 64-bit integers and Doubles (SIMDBuiltins.swift), whichever
/// way this build does them (one instruction with AVX-512DQ, exact floating-point tricks
/// elsewhere), against the scalar conversions.
@Suite("SIMD lane conversions")
struct LaneConversionTests {
    @Test func smallIntegersConvertExactly() {
        var rng = TestGenerator(51)
        let limit = Int64(1) << 51 - 1
        let edges: [Int64] = [0, 1, -1, limit, -limit, 1 << 22, -(1 << 22), 1 << 50, -(1 << 50)]
        let values = edges + (0..<4000).map { i in
            // Magnitudes of every size up to 2^51.
            let bits = i % 51 + 1
            return Int64(bitPattern: rng.next()) >> (64 - bits)
        }
        for start in stride(from: 0, to: values.count - 7, by: 8) {
            let lanes = SIMD8<Int64>(values[start..<start + 8])
            let converted = SIMD8<Double>(convertingSmall: lanes)
            for l in 0..<8 { #expect(converted[l] == Double(lanes[l]), "lane value \(lanes[l])") }
        }
    }

    @Test func doublesRoundModuloTwoToThe64() {
        var rng = TestGenerator(63)
        let edges: [Double] = [0, -0.0, 0.5, 1.5, 2.5, -0.5, -1.5, 0.49999999999999994, 0x1p32, -0x1p32, 0x1p32 - 0.5,
                               0x1p32 + 0.5, -0x1p-30, 0x1p52, 0x1p53, 0x1p63, -0x1p63, 0x1p63 - 1024, -(0x1p63 - 1024),
                               4_294_967_295.5, -4_294_967_296.5, 123_456_789_012.25]
        let values = edges + (0..<4000).map { i -> Double in
            // Magnitudes up to 2^63, with and without fractions.
            let mantissa = Double(Int64(bitPattern: rng.next()) >> 11)  // |m| < 2^52
            return mantissa * Double(sign: .plus, exponent: i % 64 - 52, significand: 1)
        }.filter { abs($0) <= 0x1p63 }
        for start in stride(from: 0, to: values.count - 7, by: 8) {
            let lanes = SIMD8<Double>(values[start..<start + 8])
            let converted = SIMD8<UInt64>(wrappingRounded: lanes)
            for l in 0..<8 {
                #expect(converted[l] == Self.reference(lanes[l]), "lane value \(lanes[l])")
            }
        }
    }

    /// round(x) (ties to even) modulo 2^64, for |x| ≤ 2^63, by exact scalar steps.
    static func reference(_ x: Double) -> UInt64 {
        let r = x.rounded(.toNearestOrEven)
        if r == 0x1p63 || r == -0x1p63 { return 1 << 63 }
        return UInt64(bitPattern: Int64(r))
    }
}
