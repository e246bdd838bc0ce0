import TFHEKernelABI

/// The bootstrapping key in the Fourier domain: for each coefficient s_i of the small LWE
/// key, a GGSW encryption of s_i under the GLWE key (CGGI 2020 §3.3), every polynomial
/// transformed once, when the key is made or loaded, and laid out in the order the blind
/// rotation reads it: [key index i][row r = (column c, level v)][output column][re M | im M].
///
/// A GGSW of m is (k+1)·l GLWE rows; row (c, v) has the phase of an encryption of 0 with
/// m·q/B^v added to its polynomial c (c < k a mask, c = k the body), so that
/// Σ_{c,v} dec_{c,v}(D) · row(c,v) encrypts m · phase(D): the external product. For c < k the
/// term is carried by the body (as -m·q/B^v·S_c), so the masks are uniform stream output.
public struct FourierBootstrappingKey: Sendable {
    public let inputDimension: Int
    public let glweDimension: Int
    public let polynomialSize: Int
    public let decomposition: GadgetDecomposition
    let storage: AlignedBuffer<Double>

    var pointCount: Int { polynomialSize / 2 }
    var rowsPerGGSW: Int { (glweDimension + 1) * decomposition.levelCount }
    /// Doubles per GGSW: rows × output columns × (re + im).
    var ggswStride: Int {
        Self.ggswStride(glweDimension: glweDimension, levels: decomposition.levelCount, polynomialSize: polynomialSize)
    }

    /// Doubles per GGSW of a key of this shape: (k+1)·l rows of k+1 polynomials of N/2 complex
    /// points.
    static func ggswStride(glweDimension k: Int, levels: Int, polynomialSize n: Int) -> Int {
        (k + 1) * levels * (k + 1) * n
    }

    /// The kernels' view of the key (valid while the key lives).
    var layout: FourierKeyLayout {
        FourierKeyLayout(storage: UnsafePointer(storage.pointer), inputDimension: inputDimension, glweDimension: glweDimension,
                         polynomialSize: polynomialSize, baseLog: decomposition.baseLog, levelCount: decomposition.levelCount)
    }

    /// Memory taken by the key, in bytes.
    public var byteCount: Int { storage.count * MemoryLayout<Double>.stride }

    /// Generates the key: row (c, v) of GGSW i is a GLWE encryption of zero whose phase is
    /// moved by s_i·q/B^v·(-S_c) for a mask column c < k, or by s_i·q/B^v for the body c = k.
    init<T: TorusScalar>(lweKey: BinarySecretKey<T>, glweKey: BinarySecretKey<T>, glweDimension k: Int,
                         fft: NegacyclicFFT, decomposition: GadgetDecomposition, noise: NoiseDistribution,
                         randomness: inout EncryptionRandomness) {
        let products = BinaryProductEngine(fft: fft)
        self.init(inputDimension: lweKey.count, glweDimension: k, fft: fft, decomposition: decomposition) {
            (row: UnsafeMutablePointer<T>, i: Int, c: Int, v: Int) in
            Self.encryptRow(row, bit: lweKey[i], column: c, level: v, glweKey: glweKey, glweDimension: k,
                            products: products, decomposition: decomposition, noise: noise, randomness: &randomness)
        }
    }

    /// One standard-domain row of the key: (k+1)·N words, masks first. Its masks are the
    /// next k·N words of `randomness.mask`, which is what lets a seeded key store only bodies.
    static func encryptRow<T: TorusScalar>(_ row: UnsafeMutablePointer<T>, bit: T, column c: Int, level v: Int,
                                           glweKey: BinarySecretKey<T>, glweDimension k: Int,
                                           products: BinaryProductEngine, decomposition: GadgetDecomposition,
                                           noise: NoiseDistribution, randomness: inout EncryptionRandomness) {
        let n = products.fft.polynomialSize
        GLWE.encrypt(nil, key: glweKey, glweDimension: k, products: products, distribution: noise,
                     into: row, randomness: &randomness)
        let gadget = bit &* decomposition.factor(level: v, as: T.self)
        let body = row + k * n
        if c == k {
            body[0] = body[0] &+ gadget
        } else {
            // Adding g = m·q/B^v to mask c would move the phase by -g·S_c; subtracting g·S_c
            // from the body moves it the same, and leaves every mask exactly the stream's
            // output, which is what lets a seeded key regenerate them (TFHE-rs does the same).
            glweKey.withCoefficients { key in
                let s = key.baseAddress! + c * n
                for j in 0..<n { body[j] = body[j] &- gadget &* s[j] }
            }
        }
    }

    /// Builds the key row by row: `fillRow(row, i, c, v)` writes the standard-domain row (c, v)
    /// of GGSW i ((k+1)·N words), which is then transformed into place. Rows are asked for in
    /// key order (i, then c, then v from 1), the order in which their masks were drawn.
    init<T: TorusScalar>(inputDimension: Int, glweDimension k: Int, fft: NegacyclicFFT,
                         decomposition: GadgetDecomposition,
                         fillRow: (UnsafeMutablePointer<T>, Int, Int, Int) -> Void) {
        self.inputDimension = inputDimension
        glweDimension = k
        polynomialSize = fft.polynomialSize
        self.decomposition = decomposition
        let n = fft.polynomialSize, m = n / 2, columns = k + 1
        let ggswStride = Self.ggswStride(glweDimension: k, levels: decomposition.levelCount, polynomialSize: n)
        storage = AlignedBuffer(count: inputDimension * ggswStride)
        let row = AlignedBuffer<T>(count: columns * n)
        let real = AlignedBuffer<Double>(count: n)
        for i in 0..<inputDimension {
            for c in 0...k {
                for v in 1...decomposition.levelCount {
                    fillRow(row.pointer, i, c, v)
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

    /// A key read back from its Fourier-domain words (deserialization; shapes checked there).
    init(inputDimension: Int, glweDimension: Int, polynomialSize: Int, decomposition: GadgetDecomposition,
         storage: AlignedBuffer<Double>) {
        self.inputDimension = inputDimension
        self.glweDimension = glweDimension
        self.polynomialSize = polynomialSize
        self.decomposition = decomposition
        self.storage = storage
    }

    /// Number of Doubles of a key of these shapes.
    static func wordCount(inputDimension: Int, glweDimension k: Int, polynomialSize n: Int, levels: Int) -> Int {
        inputDimension * (k + 1) * levels * (k + 1) * n
    }
}
