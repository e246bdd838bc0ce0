import Testing
@testable import TFHE

@Suite("Gadget decomposition")
struct GadgetDecompositionTests {
    @Test(arguments: [(23, 1), (4, 4), (3, 5), (10, 2), (16, 4), (8, 8)])
    func recomposesWithinBound(baseLog: Int, levels: Int) {
        let decomposition = GadgetDecomposition(baseLog: baseLog, levelCount: levels)
        var rng = TestGenerator(UInt64(baseLog * 100 + levels))
        let discarded = 64 - baseLog * levels
        let bound: UInt64 = discarded == 0 ? 0 : UInt64(1) << (discarded - 1)  // q / (2 B^l)
        let half = Int64(1) << (baseLog - 1)
        var digits = [Int64](repeating: 0, count: levels)
        let edgeCases: [UInt64] = [0, 1, UInt64.max, UInt64(1) << 63, (UInt64(1) << 63) - 1, bound, bound &- 1]
        for value in edgeCases + (0..<2000).map({ _ in rng.next() }) {
            digits.withUnsafeMutableBufferPointer { decomposition.decompose(value, into: $0.baseAddress!) }
            for d in digits { #expect(d >= -half && d < half) }
            let error = Int64(bitPattern: decomposition.recompose(digits, as: UInt64.self) &- value)
            #expect(error.magnitude <= bound)
        }
    }

    @Test func thirtyTwoBit() {
        let decomposition = GadgetDecomposition(baseLog: 10, levelCount: 2)
        var rng = TestGenerator(32)
        var digits = [Int32](repeating: 0, count: 2)
        for _ in 0..<2000 {
            let value = UInt32(truncatingIfNeeded: rng.next())
            digits.withUnsafeMutableBufferPointer { decomposition.decompose(value, into: $0.baseAddress!) }
            let error = Int32(bitPattern: decomposition.recompose(digits, as: UInt32.self) &- value)
            #expect(error.magnitude <= 1 << 11)
        }
    }
}

extension GadgetDecompositionTests {
    /// The SIMD decomposition of whole polynomials gives the scalar digits, for both words.
    @Test(arguments: [(10, 2), (3, 5), (8, 3), (23, 1), (16, 4)])
    func polynomialDecompositionMatchesScalar(baseLog: Int, levels: Int) {
        let decomposition = GadgetDecomposition(baseLog: baseLog, levelCount: levels)
        var rng = TestGenerator(UInt64(baseLog * 31 + levels))
        let n = 37  // not a multiple of 8: exercises the scalar tail too
        let values64: [UInt64] = (0..<n).map { _ in rng.next() }
        let values32: [UInt32] = values64.map { UInt32(truncatingIfNeeded: $0) }
        var digits = [Double](repeating: 0, count: levels * n)
        var scalar64 = [Int64](repeating: 0, count: levels), scalar32 = [Int32](repeating: 0, count: levels)
        values64.withUnsafeBufferPointer { v in digits.withUnsafeMutableBufferPointer {
            decomposition.decompose(v.baseAddress!, count: n, into: $0.baseAddress!) } }
        for j in 0..<n {
            scalar64.withUnsafeMutableBufferPointer { decomposition.decompose(values64[j], into: $0.baseAddress!) }
            for v in 0..<levels { #expect(digits[v * n + j] == Double(scalar64[v])) }
        }
        if baseLog * levels <= 32 {
            values32.withUnsafeBufferPointer { v in digits.withUnsafeMutableBufferPointer {
                decomposition.decompose(v.baseAddress!, count: n, into: $0.baseAddress!) } }
            for j in 0..<n {
                scalar32.withUnsafeMutableBufferPointer { decomposition.decompose(values32[j], into: $0.baseAddress!) }
                for v in 0..<levels { #expect(digits[v * n + j] == Double(scalar32[v])) }
            }
        }
    }
}
