import Foundation
import Testing
@testable import TFHE

@Suite("Negacyclic NTT")
struct NegacyclicNTTTests {
    static let sizes = [256, 512, 1024, 2048]

    @Test(arguments: sizes)
    func exactProduct64(polynomialSize n: Int) {
        var rng = TestGenerator(UInt64(n) + 64)
        let a: [UInt64] = (0..<n).map { _ in rng.next() }
        let b: [UInt64] = (0..<n).map { _ in rng.next() }
        #expect(NegacyclicNTT(polynomialSize: n).multiply(a, b) == Polynomial.schoolbookProduct(a, b))
    }

    @Test(arguments: sizes)
    func exactProduct32(polynomialSize n: Int) {
        var rng = TestGenerator(UInt64(n) + 32)
        let a: [UInt32] = (0..<n).map { _ in UInt32(truncatingIfNeeded: rng.next()) }
        let b: [UInt32] = (0..<n).map { _ in UInt32(truncatingIfNeeded: rng.next()) }
        #expect(NegacyclicNTT(polynomialSize: n).multiply(a, b) == Polynomial.schoolbookProduct(a, b))
    }

    @Test func forwardThenInverseIsIdentity() {
        let n = 1024
        var rng = TestGenerator(5)
        let original: [UInt64] = (0..<n).map { _ in rng.next() % NegacyclicNTT.prime }
        var values = original
        let ntt = NegacyclicNTT(polynomialSize: n)
        values.withUnsafeMutableBufferPointer { ntt.forward($0.baseAddress!); ntt.inverse($0.baseAddress!) }
        #expect(values == original)
    }

    /// The FFT against the exact NTT on the bootstrap's product (digits times key), for every N
    /// of the parameter sets: the FFT's error is reported and bounded.
    @Test(arguments: [512, 1024, 2048])
    func fftAgreesWithNTT(polynomialSize n: Int) {
        var rng = TestGenerator(UInt64(n) + 7)
        let digits: [UInt64] = (0..<n).map { _ in UInt64(bitPattern: Int64.random(in: -(1 << 22)..<(1 << 22), using: &rng)) }
        let key: [UInt64] = (0..<n).map { _ in rng.next() }
        let exact = NegacyclicNTT(polynomialSize: n).multiply(digits, key)
        let approximate = fftProduct(digits, key)
        var sumSquares = 0.0
        for j in 0..<n { let e = (approximate[j] &- exact[j]).torusValue; sumSquares += e * e }
        let rms = (sumSquares / Double(n)).squareRoot()
        print("FFT vs NTT, N=\(n): rms error 2^\(log2(rms)) of the torus")
        #expect(rms < 0x1p-24)
    }
}
