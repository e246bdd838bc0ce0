import Foundation
import TFHEKernelABI

/// Which key a ciphertext between operations is encrypted under, and so the order of the two
/// steps of a bootstrap: TFHE-rs's shortint default keeps ciphertexts under the big key
/// (GLWE key flattened, dimension kN) and key-switches first ("KS then PBS"); its boolean
/// set keeps them under the small LWE key and key-switches after the PBS.
public enum BootstrapOrder: String, Sendable, Codable {
    case keySwitchThenBootstrap = "ks_pbs"
    case bootstrapThenKeySwitch = "pbs_ks"
}

/// How the phase is brought from Z_q to Z_2N before blind rotation.
public enum ModulusSwitch: String, Sendable, Codable {
    /// Round every mask coefficient to the nearest multiple of q/2N (the body is floored,
    /// which centres each value in its decoding window: `BlindRotation.switchModulus`).
    case standard
    /// The centred-mean modulus switch of TFHE-rs 1.4: the body absorbs half the sum of the
    /// mask's rounding errors, so the switch's error is Σ e_i (s_i - 1/2) rather than
    /// Σ e_i s_i, halving its variance for a binary key (E[(s-1/2)^2] = 1/4 versus E[s^2] = 1/2).
    case centeredMean = "centered_mean"
}

/// A compiled TFHE parameter set: validated once, then read-only (the tfhe-go pattern of
/// `Literal.Compile()`): nothing downstream re-validates.
public struct ParameterSet: Sendable, Hashable {
    public let name: String
    public let source: String
    /// Bits of security the source claims (lattice-estimator), nil for insecure test sets.
    public let securityBits: Int?
    /// log2 of the stated probability of a wrong bootstrap, for an input at the maximum noise
    /// level in the worst case (the source's figure where this engine delivers it, else this
    /// engine's by `NoiseModel`: the note says which), and what it needs.
    public let failureProbabilityLog2: Double
    public let failureProbabilityNote: String?
    /// Where this engine departs from the set's source (the 32-bit key-switching key on the
    /// 64-bit sets), and what that costs.
    public let engineNote: String?
    public let insecure: Bool
    /// Kept for benchmarks only (its security rests on an outdated estimate): production key
    /// generation refuses it unless told otherwise (`checkUsableForProductionKeys`).
    public let benchmarkOnly: Bool
    public let torusBits: Int
    public let lweDimension: Int
    public let glweDimension: Int
    public let polynomialSize: Int
    public let lweNoise: NoiseDistribution
    public let glweNoise: NoiseDistribution
    public let bootstrapDecomposition: GadgetDecomposition
    public let keySwitchDecomposition: GadgetDecomposition
    /// log2 of the modulus of the small LWE ciphertext that the key switch outputs (TFHE-rs's
    /// `post_keyswitch_ciphertext_modulus`): the torus word, or 32 on a 64-bit set for
    /// TFHE-rs's KS32 atomic pattern (`AtomicPatternKind::KeySwitch32`, TFHE-rs 1.1 to 1.7),
    /// which key-switches the 64-bit big LWE into a small LWE on 2^32 and modulus-switches
    /// that to 2N. `lwe_noise` is drawn on this modulus (TUniform(2^13) on 2^32 for the KS32
    /// 2_2 set). `ks.output_modulus_bits` in the file; absent means the torus word.
    public let postKeySwitchModulusBits: Int
    public let messageBits: Int
    public let carryBits: Int
    public let order: BootstrapOrder
    public internal(set) var modulusSwitch: ModulusSwitch
    /// How the blind rotation walks the LWE key, which also fixes the LWE key's distribution
    /// (block binary for `.blockBinary`, uniform binary otherwise) and what the bootstrapping
    /// key holds (`BlindRotationMethod`).
    public let blindRotation: BlindRotationMethod
    /// The largest noise level a bootstrap input may have (TFHE-rs's `max_noise_level`, kept
    /// per parameter set): a level adds under addition and multiplies under scalar
    /// multiplication, starting at 1 for a bootstrap's output, and the set's p-fail holds for
    /// inputs up to this level (`NoiseModel.failureProbabilityAtMaxNoiseLog2`). The evaluator
    /// cleans operands by a bootstrap before they would pass it (`ShortintEncoding`).
    /// Not part of the fingerprint: it changes how ciphertexts are combined, not what they are.
    public let maxNoiseLevel: Int

    /// True for a KS32 set: the small LWE lives on 2^32 below a 64-bit torus
    /// (`postKeySwitchModulusBits`), and the bootstrap keeps it in 32-bit words.
    public var usesKeySwitch32: Bool { postKeySwitchModulusBits < torusBits }

    /// Dimension of the big LWE key (the GLWE key flattened): k·N.
    public var bigLWEDimension: Int { glweDimension * polynomialSize }

    /// The LWE dimension and noise of ciphertexts between operations.
    public var ciphertextDimension: Int {
        order == .keySwitchThenBootstrap ? bigLWEDimension : lweDimension
    }

    /// A short, stable identifier of the set's numbers (not its prose), written into every
    /// serialized object so a ciphertext of one set is never used with another's keys.
    /// Computed once, when the set is compiled: every operation checks it.
    public internal(set) var fingerprint: UInt64 = 0

    /// The same set with another modulus switch (for experiments and tests of the noise model).
    public init(copying other: ParameterSet, modulusSwitch: ModulusSwitch) {
        self = other
        self.modulusSwitch = modulusSwitch
        fingerprint = computeFingerprint()
    }

    /// Empty for the classic rotation (and the KS32 suffix empty for a torus-word key switch), so the fingerprints of the sets that predate the other
    /// methods (and of the keys and ciphertexts stored under them) stay what they were.
    private var blindRotationFingerprintText: String {
        switch blindRotation {
        case .classic: ""
        case .blockBinary(let b): "|block_binary/\(b)"
        case .multiBit(let g): "|multi_bit/\(g)"
        }
    }

    func computeFingerprint() -> UInt64 {
        let text = "\(torusBits)|\(lweDimension)|\(glweDimension)|\(polynomialSize)|\(lweNoise)|\(glweNoise)|"
            + "\(bootstrapDecomposition.baseLog)/\(bootstrapDecomposition.levelCount)|"
            + "\(keySwitchDecomposition.baseLog)/\(keySwitchDecomposition.levelCount)|"
            + "\(messageBits)|\(carryBits)|\(order.rawValue)|\(modulusSwitch.rawValue)" + blindRotationFingerprintText
            + (usesKeySwitch32 ? "|ks\(postKeySwitchModulusBits)" : "")
        // FNV-1a, 64-bit: an identifier, not a security mechanism.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return hash
    }
}

extension BlindRotationMethod {
    /// For listings: "classic", "block binary (blocks of 3)", "multi-bit (groups of 4)".
    public var summary: String {
        switch self {
        case .classic: "classic"
        case .blockBinary(let b): "block binary (blocks of \(b))"
        case .multiBit(let g): "multi-bit (groups of \(g))"
        }
    }
}
