import TFHEKernelABI

/// The bootstrapping key in the Fourier domain: for each coefficient s_i of the small LWE
/// key, a GGSW encryption of s_i under the GLWE key (CGGI 2020 §3.3), or with a multi-bit
/// rotation, for each group of g coefficients and each of the 2^g patterns p of g bits, a GGSW
/// of 1[s_group = p] (`BlindRotationMethod`); every polynomial transformed once, when the key is
/// made or loaded, and laid out in the order the blind rotation reads it:
/// [GGSW j][row r = (column c, level v)][output column][re M | im M].
///
/// A GGSW of m is (k+1)·l GLWE rows; row (c, v) has the phase of an encryption of 0 with
/// m·q/B^v added to its polynomial c (c < k a mask, c = k the body), so that
/// Σ_{c,v} dec_{c,v}(D) · row(c,v) encrypts m · phase(D): the external product. For c < k the
/// term is carried by the body (as -m·q/B^v·S_c), so the masks are uniform stream output.
public struct FourierBootstrappingKey: Sendable {
    /// The LWE dimension n of the inputs it rotates by.
    public let inputDimension: Int
    public let method: BlindRotationMethod
    /// GGSWs held: n for the classic and block-binary rotations, n/g·2^g multi-bit.
    public var ggswCount: Int { method.ggswCount(lweDimension: inputDimension) }
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
        FourierKeyLayout(storage: UnsafePointer(storage.pointer), inputDimension: inputDimension, method: method,
                         glweDimension: glweDimension, polynomialSize: polynomialSize, baseLog: decomposition.baseLog,
                         levelCount: decomposition.levelCount)
    }

    /// Memory taken by the key, in bytes.
    public var byteCount: Int { storage.count * MemoryLayout<Double>.stride }

    /// Generates the key: row (c, v) of GGSW j is a GLWE encryption of zero whose phase is
    /// moved by m_j·q/B^v·(-S_c) for a mask column c < k, or by m_j·q/B^v for the body c = k,
    /// with m_j = `ggswPlaintext(j)`.
    init<T: TorusScalar>(lweKey: BinarySecretKey<T>, glweKey: BinarySecretKey<T>, method: BlindRotationMethod, glweDimension k: Int,
                         fft: NegacyclicFFT, decomposition: GadgetDecomposition, noise: NoiseDistribution,
                         randomness: inout EncryptionRandomness) {
        let products = BinaryProductEngine(fft: fft)
        self.init(inputDimension: lweKey.count, method: method, glweDimension: k, fft: fft, decomposition: decomposition) {
            (row: UnsafeMutablePointer<T>, j: Int, c: Int, v: Int) in
            Self.encryptRow(row, bit: Self.ggswPlaintext(j, method: method, lweKey: lweKey), column: c, level: v, glweKey: glweKey,
                            glweDimension: k, products: products, decomposition: decomposition, noise: noise, randomness: &randomness)
        }
    }

    /// What GGSW j encrypts: s_j (classic, block binary), or for a multi-bit key, with
    /// j = group·2^g + p, the indicator 1[s_group = p] = Π_i (p_i ? s_i : 1 - s_i) over the
    /// group's g coefficients, bit i of p standing for coefficient g·group + i (the modulus
    /// switch sums the same coefficients for p: `BlindRotation.switchModulusMultiBit`).
    static func ggswPlaintext<T: TorusScalar>(_ j: Int, method: BlindRotationMethod, lweKey: BinarySecretKey<T>) -> T {
        switch method {
        case .classic, .blockBinary:
            return lweKey[j]
        case .multiBit(let g):
            let perGroup = 1 << g
            let group = j / perGroup, pattern = j % perGroup
            var product: T = 1
            for i in 0..<g {
                let s = lweKey[g * group + i]
                product = product & (pattern >> i & 1 == 1 ? s : 1 &- s)
            }
            return product
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

    /// Builds the key row by row: `fillRow(row, j, c, v)` writes the standard-domain row (c, v)
    /// of GGSW j ((k+1)·N words), which is then transformed into place. Rows are asked for in
    /// key order (j, then c, then v from 1), the order in which their masks were drawn.
    init<T: TorusScalar>(inputDimension: Int, method: BlindRotationMethod, glweDimension k: Int, fft: NegacyclicFFT,
                         decomposition: GadgetDecomposition,
                         fillRow: (UnsafeMutablePointer<T>, Int, Int, Int) -> Void) {
        self.inputDimension = inputDimension
        self.method = method
        glweDimension = k
        polynomialSize = fft.polynomialSize
        self.decomposition = decomposition
        let n = fft.polynomialSize, m = n / 2, columns = k + 1
        let ggswStride = Self.ggswStride(glweDimension: k, levels: decomposition.levelCount, polynomialSize: n)
        let ggswCount = method.ggswCount(lweDimension: inputDimension)
        storage = AlignedBuffer(count: ggswCount * ggswStride)
        let row = AlignedBuffer<T>(count: columns * n)
        let real = AlignedBuffer<Double>(count: n)
        for i in 0..<ggswCount {
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
    init(inputDimension: Int, method: BlindRotationMethod, glweDimension: Int, polynomialSize: Int,
         decomposition: GadgetDecomposition, storage: AlignedBuffer<Double>) {
        self.inputDimension = inputDimension
        self.method = method
        self.glweDimension = glweDimension
        self.polynomialSize = polynomialSize
        self.decomposition = decomposition
        self.storage = storage
    }

    /// Number of Doubles of a key of these shapes.
    static func wordCount(inputDimension: Int, method: BlindRotationMethod, glweDimension k: Int, polynomialSize n: Int,
                          levels: Int) -> Int {
        method.ggswCount(lweDimension: inputDimension) * (k + 1) * levels * (k + 1) * n
    }
}
