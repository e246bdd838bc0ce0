/// One shortint block: an LWE encryption of a value in 0..<messageModulus·carryModulus under
/// the encoding Δ = q / (2·messageModulus·carryModulus) (one bit of padding above it), with
/// the two facts the evaluator needs to stay correct without decrypting (TFHE-rs's shortint
/// metadata; Bergerat et al., "Parameter Optimization and Larger Precision for (T)FHE",
/// J. Cryptology 2023, eprint 2022/704, §5):
///
/// - `degree`: an upper bound on the encrypted value, so that an addition that could carry
///   into the padding bit is detected before it happens;
/// - `noiseLevel`: the noise of the ciphertext as a multiple of a bootstrap's output noise
///   (standard deviations add up under addition and scale under multiplication by a clear
///   integer, so this is Σ|wᵢ| over the bootstrapped ciphertexts combined). A bootstrap is
///   correct with the parameter set's p-fail only for inputs up to `ShortintEncoding.maxNoiseLevel`.
///
/// Both are public and stable so that serialization can write and read them; a reader must
/// check them against the encoding (`ShortintEncoding.validate`) before use.
public struct ShortintCiphertext<T: TorusScalar>: Sendable, Hashable {
    public var lwe: LWECiphertext<T>
    public var degree: UInt64
    public var noiseLevel: UInt64

    public init(lwe: LWECiphertext<T>, degree: UInt64, noiseLevel: UInt64) {
        self.lwe = lwe
        self.degree = degree
        self.noiseLevel = noiseLevel
    }

    /// A noiseless encryption of a public constant (zero mask): noise level 0. It reveals its
    /// value, as it should; it exists for constants mixed into encrypted computations.
    public static func trivial(_ value: UInt64, encoding: ShortintEncoding, dimension: Int,
                               parameterFingerprint: UInt64) -> Self {
        var lwe = LWECiphertext<T>(dimension: dimension, parameterFingerprint: parameterFingerprint)
        lwe.body = T(truncatingIfNeeded: value % encoding.plaintextModulus) &* encoding.delta(T.self)
        return Self(lwe: lwe, degree: value % encoding.plaintextModulus, noiseLevel: 0)
    }
}
