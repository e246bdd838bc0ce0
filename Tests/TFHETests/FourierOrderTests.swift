import Foundation
import Testing
@testable import TFHE

@Suite("Fourier point order")
struct FourierOrderTests {
    @Test(arguments: [128, 256, 512, 1024, 2048])
    func legacyFormulaMatchesCurrent(polynomialSize n: Int) {
        let fft = NegacyclicFFT(polynomialSize: n)
        let measured = NegacyclicFFT.measuredSlots(polynomialSize: n) { fft.forward($0, re: $1, im: $2) }
        #expect(measured == NegacyclicFFT.formatVersion1Slots(polynomialSize: n))
    }
}
