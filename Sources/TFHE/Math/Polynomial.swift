/// The reference product, beside the kernels' rotations (Kernels/PolynomialRotation.swift).
extension Polynomial {
    /// Schoolbook negacyclic product, O(N²): the reference every fast product is tested against.
    static func schoolbookProduct<T: TorusScalar>(_ a: [T], _ b: [T]) -> [T] {
        let n = a.count
        var out = [T](repeating: 0, count: n)
        for i in 0..<n where a[i] != 0 {
            for j in 0..<n {
                let term = a[i] &* b[j]
                if i + j < n { out[i + j] = out[i + j] &+ term } else { out[i + j - n] = out[i + j - n] &- term }
            }
        }
        return out
    }
}

/// Exact products of a torus polynomial by a binary polynomial (a secret key), through the FFT:
/// the torus operand is cut into 32-bit limbs so that every convolution sum stays below
/// 2^43 < 2^53 and rounds back exactly. Used by key generation, encryption and decryption,
/// where the FFT's rounding error would otherwise add noise of its own.
final class BinaryProductEngine: @unchecked Sendable {
    let fft: NegacyclicFFT
    private let n: Int
    private let coefficients: AlignedBuffer<Double>
    private let keyRe, keyIm, limbRe, limbIm: AlignedBuffer<Double>

    init(fft: NegacyclicFFT) {
        self.fft = fft
        n = fft.polynomialSize
        coefficients = AlignedBuffer(count: n)
        keyRe = AlignedBuffer(count: n / 2); keyIm = AlignedBuffer(count: n / 2)
        limbRe = AlignedBuffer(count: n / 2); limbIm = AlignedBuffer(count: n / 2)
    }

    /// The buffers hold the last key's coefficients and their transform, and products by it.
    deinit {
        for buffer in [coefficients, keyRe, keyIm, limbRe, limbIm] { buffer.zeroize() }
    }

    /// output += a · key (mod q, mod X^N + 1) with key coefficients in {0, 1}.
    func multiplyAdd<T: TorusScalar>(_ a: UnsafePointer<T>, binaryKey key: UnsafePointer<T>, into output: UnsafeMutablePointer<T>) {
        for j in 0..<n { coefficients.pointer[j] = Double(UInt64(key[j])) }
        fft.forward(UnsafePointer(coefficients.pointer), re: keyRe.pointer, im: keyIm.pointer)
        let limbCount = T.bitWidth / 32
        for limb in 0..<limbCount {
            for j in 0..<n { coefficients.pointer[j] = Double(UInt64(a[j]) >> (32 * limb) & 0xffff_ffff) }
            fft.forward(UnsafePointer(coefficients.pointer), re: limbRe.pointer, im: limbIm.pointer)
            for j in 0..<(n / 2) {
                let ar = limbRe.pointer[j], ai = limbIm.pointer[j], br = keyRe.pointer[j], bi = keyIm.pointer[j]
                limbRe.pointer[j] = ar * br - ai * bi
                limbIm.pointer[j] = ar * bi + ai * br
            }
            fft.inverse(re: limbRe.pointer, im: limbIm.pointer, into: coefficients.pointer)
            for j in 0..<n {
                // |value| < 2^43: exact as an Int64, then shifted into its limb's place. Adding and
                // subtracting 1.5·2^52 rounds to the nearest integer (|x| < 2^51) in two
                // additions, where `rounded()` is a libm call on the baseline x86-64 that this
                // code is compiled for (key generation spent 5% of its time there).
                let x = coefficients.pointer[j]
                let value = UInt64(bitPattern: Int64((x + 0x1.8p52) - 0x1.8p52))
                output[j] = output[j] &+ T(truncatingIfNeeded: value << (32 * limb))
            }
        }
    }
}
