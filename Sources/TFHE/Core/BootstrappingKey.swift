/// The bootstrapping key in the Fourier domain: for each coefficient s_i of the small LWE
/// key, a GGSW encryption of s_i under the GLWE key (CGGI 2020 §3.3), every polynomial
/// transformed once, when the key is made or loaded, and laid out in the order the blind
/// rotation reads it: [key index i][row r = (column c, level v)][output column][re M | im M].
///
/// A GGSW of m is (k+1)·l GLWE rows; row (c, v) encrypts 0 with m·q/B^v added to its
/// polynomial c (c < k a mask, c = k the body), so that Σ_{c,v} dec_{c,v}(D) · row(c,v)
/// encrypts m · phase(D): the external product.
public struct FourierBootstrappingKey: Sendable {
    public let inputDimension: Int
    public let glweDimension: Int
    public let polynomialSize: Int
    public let decomposition: GadgetDecomposition
    let storage: AlignedBuffer<Double>

    var pointCount: Int { polynomialSize / 2 }
    var rowsPerGGSW: Int { (glweDimension + 1) * decomposition.levelCount }
    /// Doubles per GGSW: rows × output columns × (re + im).
    var ggswStride: Int { rowsPerGGSW * (glweDimension + 1) * polynomialSize }

    /// Memory taken by the key, in bytes.
    public var byteCount: Int { storage.count * MemoryLayout<Double>.stride }

    init<T: TorusScalar>(lweKey: BinarySecretKey<T>, glweKey: BinarySecretKey<T>, glweDimension k: Int,
                         fft: NegacyclicFFT, decomposition: GadgetDecomposition, noise: NoiseDistribution,
                         randomness: inout EncryptionRandomness) {
        inputDimension = lweKey.count
        glweDimension = k
        polynomialSize = fft.polynomialSize
        self.decomposition = decomposition
        let n = fft.polynomialSize, m = n / 2, columns = k + 1
        let ggswStride = (k + 1) * decomposition.levelCount * columns * n
        storage = AlignedBuffer(count: lweKey.count * ggswStride)
        let products = BinaryProductEngine(fft: fft)
        let row = AlignedBuffer<T>(count: columns * n)
        let real = AlignedBuffer<Double>(count: n)
        for i in 0..<lweKey.count {
            let bit = lweKey.pointer[i]
            for c in 0...k {
                for v in 1...decomposition.levelCount {
                    GLWE.encrypt(nil, key: glweKey, glweDimension: k, products: products, distribution: noise,
                                 into: row.pointer, randomness: &randomness)
                    // Add m·q/B^v to the constant coefficient of polynomial c.
                    row.pointer[c * n] = row.pointer[c * n] &+ bit &* decomposition.factor(level: v, as: T.self)
                    let r = c * decomposition.levelCount + (v - 1)
                    for column in 0..<columns {
                        let target = storage.pointer + i * ggswStride + (r * columns + column) * n
                        fft.forward(torus: UnsafePointer(row.pointer + column * n), scratch: real.pointer,
                                    re: target, im: target + m)
                    }
                }
            }
        }
        row.zeroize()
        withExtendedLifetime(real) {}  // used through its pointer until the loop's last FFT
    }
}
