import Foundation
import Testing
@testable import TFHE

@Suite("Fourier point order")
struct FourierOrderTests {
    /// Canonical point k, read at slot pointSlots[k], is the folded and twisted polynomial's
    /// DFT at k, computed here directly: Σ_j (a_j + i·a_{j+M}) ψ^j ω^{jk}.
    @Test(arguments: [128, 256, 512, 1024, 2048])
    func slotsHoldTheCanonicalPoints(polynomialSize n: Int) {
        let m = n / 2
        let fft = NegacyclicFFT(polynomialSize: n)
        var rng = TestGenerator(UInt64(n) ^ 0xf0)
        let a = AlignedBuffer<Double>(count: n)
        for j in 0..<n { a.pointer[j] = Double(Int.random(in: -1000...1000, using: &rng)) }
        let re = AlignedBuffer<Double>(count: m), im = AlignedBuffer<Double>(count: m)
        fft.forward(UnsafePointer(a.pointer), re: re.pointer, im: im.pointer)
        var worst = 0.0
        for k in stride(from: 0, to: m, by: max(1, m / 64)) {
            var (sr, si) = (0.0, 0.0)
            for j in 0..<m {
                let angle = Double.pi * Double(j) / Double(n) - 2 * Double.pi * Double(j * k % m) / Double(m)
                let (cr, ci) = (a.pointer[j], a.pointer[j + m])
                sr += cr * cos(angle) - ci * sin(angle)
                si += cr * sin(angle) + ci * cos(angle)
            }
            let slot = fft.pointSlots[k]
            worst = max(worst, abs(re.pointer[slot] - sr), abs(im.pointer[slot] - si))
        }
        #expect(worst < 1e-6)
        #expect(Set(fft.pointSlots).count == m)
    }

    /// The transform leaves the points in mixed-radix digit-reversed order: each
    /// decimation-in-frequency pass of radix r puts the points with k ≡ j (mod r) in its j-th
    /// part (radix-4 passes from span M/2 down, a radix-2 one at span 8 when their number is odd,
    /// then the three radix-2 stages inside rows of 8), unlike version 1's transposed order.
    @Test(arguments: [128, 256, 1024, 2048])
    func orderIsDigitReversal(polynomialSize n: Int) {
        let fft = NegacyclicFFT(polynomialSize: n)
        let m = n / 2
        var radices: [Int] = []
        var h = m / 2
        while h >= 16 { radices.append(4); h /= 4 }
        if h == 8 { radices.append(2) }
        radices += [2, 2, 2]
        func slot(_ k: Int, _ size: Int, _ radices: ArraySlice<Int>) -> Int {
            guard let r = radices.first else { return 0 }
            return (k % r) * (size / r) + slot(k / r, size / r, radices.dropFirst())
        }
        #expect(fft.pointSlots == (0..<m).map { slot($0, m, radices[...]) })
        #expect(fft.pointSlots != NegacyclicFFT.formatVersion1Slots(polynomialSize: n))
    }
}
