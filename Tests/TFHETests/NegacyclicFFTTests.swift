import Foundation
import Testing
@testable import TFHE

@Suite("Negacyclic FFT")
struct NegacyclicFFTTests {
    /// The blind rotation's product: a digit polynomial (|d| ≤ 2^22) times a 64-bit torus
    /// polynomial, compared with the exact schoolbook product modulo 2^64.
    @Test(arguments: [128, 256, 512, 1024, 2048])
    func matchesSchoolbook(polynomialSize n: Int) {
        var rng = TestGenerator(UInt64(n))
        let digits: [UInt64] = (0..<n).map { _ in UInt64(bitPattern: Int64.random(in: -(1 << 22)...(1 << 22), using: &rng)) }
        let torus: [UInt64] = (0..<n).map { _ in rng.next() }
        let expected = Polynomial.schoolbookProduct(digits, torus)

        let product = fftProduct(digits, torus)
        // The error is the FFT's rounding of ~2^(64+22+log2(N)/2)-sized sums to 53 bits: it
        // is about 2^-26.5 per coefficient (2^-24 at worst) and adds a variance well under the bootstrap noise.
        var worst = 0.0
        for j in 0..<n { worst = max(worst, abs((product[j] &- expected[j]).torusValue)) }
        print("FFT N=\(n): worst error \(worst) of the torus (log2 \(log2(max(worst, 1e-300))))")
        #expect(worst < 0x1p-22)
    }

    /// Exact when the sums fit in 53 bits: small inputs give the schoolbook product exactly.
    @Test func exactOnSmallInputs() {
        let n = 512
        var rng = TestGenerator(9)
        let a: [UInt64] = (0..<n).map { _ in UInt64(bitPattern: Int64.random(in: -1000...1000, using: &rng)) }
        let b: [UInt64] = (0..<n).map { _ in UInt64(bitPattern: Int64.random(in: -1000...1000, using: &rng)) }
        let expected = Polynomial.schoolbookProduct(a, b)
        let product = fftProduct(a, b)
        #expect(product == expected)
    }

    @Test func binaryProductIsExact() {
        let n = 1024
        var rng = TestGenerator(3)
        let fft = NegacyclicFFT(polynomialSize: n)
        let a: [UInt64] = (0..<n).map { _ in rng.next() }
        let key: [UInt64] = (0..<n).map { _ in rng.next() & 1 }
        var out = [UInt64](repeating: 0, count: n)
        let engine = BinaryProductEngine(fft: fft)
        a.withUnsafeBufferPointer { ap in key.withUnsafeBufferPointer { kp in out.withUnsafeMutableBufferPointer {
            engine.multiplyAdd(ap.baseAddress!, binaryKey: kp.baseAddress!, into: $0.baseAddress!)
        } } }
        #expect(out == Polynomial.schoolbookProduct(a, key))
    }
}
