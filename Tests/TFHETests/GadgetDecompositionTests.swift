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
