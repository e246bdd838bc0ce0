import TFHEKernelABI
import Foundation

/// The standard TFHE noise formulas (CGGI 2020, Theorems 4.1 and 4.2 and Lemma 3.6, in the
/// form TFHE-rs and concrete-optimizer use for binary keys), in squared torus units. Tests
/// compare measured variances with these, which is how we know the engine's noise is the
/// one the security and failure analysis assume.
///
/// Notation: n small LWE dimension, k GLWE dimension, N polynomial size, (B = 2^β, l) a
/// gadget, σ² a key's noise variance, q = 2^w. A balanced digit uniform on [-B/2, B/2) has
/// E[d²] = (B² + 2)/12; a binary key coefficient has E[s²] = 1/2.
public struct NoiseModel: Sendable {
    public let parameters: ParameterSet
    /// Ones in the small LWE key (the CMuxes whose rounding error counts); n/2 on average.
    public let lweKeyWeight: Double

    public init(parameters: ParameterSet, lweKeyWeight: Int? = nil) {
        self.parameters = parameters
        self.lweKeyWeight = lweKeyWeight.map(Double.init) ?? Self.expectedLWEKeyWeight(parameters)
    }

    /// n/2 for a uniform binary key; n/(B+1) for a block binary one (each of its n/B blocks
    /// holds a single 1 with probability B/(B+1)).
    static func expectedLWEKeyWeight(_ p: ParameterSet) -> Double {
        if case .blockBinary(let b) = p.blindRotation { return Double(p.lweDimension) / Double(b + 1) }
        return Double(p.lweDimension) / 2
    }

    private var w: Int { parameters.torusBits }

    static func digitSecondMoment(baseLog: Int) -> Double {
        let b = pow(2.0, Double(baseLog))
        return (b * b + 2) / 12
    }

    /// Variance of rounding to a multiple of q/B^l: (B^{-2l} - q^{-2}) / 12.
    func decompositionRoundingVariance(_ g: GadgetDecomposition) -> Double {
        (pow(2.0, -2.0 * Double(g.baseLog * g.levelCount)) - pow(2.0, -2.0 * Double(w))) / 12
    }

    /// Noise added by one key switch from dimension kN to n:
    /// kN · l · σ_lwe² · E[d²]  +  kN · E[s²] · (B^{-2l} - q^{-2})/12,
    /// plus, on 64-bit words, the rounding of the key's entries to 32 bits:
    /// kN · l · E[d²] · (1 + n/2) · (2^{-64} - 2^{-128})/12.
    /// That last term is this engine's, not TFHE-rs's: its key switch keeps 64-bit entries on
    /// the 64-bit sets (`KeySwitchingKey`). It is 2^-41.3 on the TUniform 2M128 set, 2^19.3
    /// below the first term, and the failure probabilities here include it.
    ///
    /// KS32 (`ParameterSet.usesKeySwitch32`): σ_lwe² is on 2^32, the entries are exact words
    /// on 2^32 (no entry rounding), and the body is rounded from 2^64 to 2^32, which adds
    /// (2^{-64} - 2^{-128})/12. The digits are still those of the 64-bit input.
    public var keySwitchAddedVariance: Double {
        let p = parameters, g = p.keySwitchDecomposition
        let rows = Double(p.bigLWEDimension) * Double(g.levelCount)
        let digits = Self.digitSecondMoment(baseLog: g.baseLog)
        let keyAndDecomposition = rows * p.lweNoise.variance(bitWidth: p.postKeySwitchModulusBits) * digits
            + Double(p.bigLWEDimension) * 0.5 * decompositionRoundingVariance(g)
        // Rounding a word of the 2^w torus to a multiple of 2^(w-32): uniform, one 2^-32 step.
        let roundingTo32 = w > 32 ? (0x1p-64 - pow(2.0, -2.0 * Double(w))) / 12 : 0
        if p.usesKeySwitch32 { return keyAndDecomposition + roundingTo32 }
        return keyAndDecomposition + rows * digits * (1 + lweKeyWeight) * roundingTo32
    }

    /// Noise of the output of a blind rotation and sample extraction, a sum of n CMuxes:
    /// n · (k+1) · l · N · σ_glwe² · E[d²]   (the key's noise, carried by every digit)
    /// + weight(s) · (1 + kN · E[S²]) · (B^{-2l} - q^{-2})/12   (the gadget's rounding, in the
    ///   CMuxes whose selector bit is 1)
    /// + `fourierRoundingVariance` (the products' rounding in floating point).
    ///
    /// A block binary key adds (X^{e_j} - 1)·ExtProd(GGSW_j, ACC) for every one of its GGSWs,
    /// and X^e·E - E has twice the variance of E: each GGSW's key and FFT terms count twice, and
    /// the rounding term (that of ACC, not of a difference) twice for each key coefficient
    /// that is 1. A multi-bit key sums X^{e_p}·ExtProd(GGSW_p, ACC) over the 2^g patterns of
    /// each group: every GGSW's key and FFT terms count once, and the rounding term once per
    /// group, for the one pattern whose GGSW encrypts 1.
    public var blindRotationVariance: Double {
        let p = parameters, g = p.bootstrapDecomposition
        let perGGSWKeyTerm = Double(p.glweDimension + 1) * Double(g.levelCount)
            * Double(p.polynomialSize) * p.glweNoise.variance(bitWidth: w) * Self.digitSecondMoment(baseLog: g.baseLog)
        let roundingPerSelected = (1 + Double(p.bigLWEDimension) * 0.5) * decompositionRoundingVariance(g)
        return groupFactor * Double(ggswCount) * perGGSWKeyTerm + groupFactor * selectedGGSWs * roundingPerSelected
            + fourierRoundingVariance
    }

    /// GGSWs in the bootstrapping key.
    private var ggswCount: Int { parameters.blindRotation.ggswCount(lweDimension: parameters.lweDimension) }

    /// 2 for block binary keys, whose every product is multiplied by X^e - 1; 1 otherwise.
    private var groupFactor: Double {
        if case .blockBinary = parameters.blindRotation { return 2 }
        return 1
    }

    /// The GGSWs that encrypt 1, whose products carry the gadget's rounding.
    private var selectedGGSWs: Double {
        switch parameters.blindRotation {
        case .classic, .blockBinary: lweKeyWeight
        case .multiBit(let g): Double(parameters.lweDimension / g)
        }
    }

    /// This engine's constant c of the floating-point error below. Measured: the bootstrap
    /// output variance of the three N = 2048, PBS 23/1 sets (1,000 bootstraps each, fresh
    /// inputs) exceeded the two terms above by c = 7.4e-34, 7.4e-34 and 9.8e-34 (each about
    /// ±15%); TFHE-rs's fit for its own FFT is 2.07e-33.
    static let fourierRoundingConstant = 8.0e-34

    /// The error of the external products' double-precision FFT, whose inputs are digits up to
    /// B/2 and the key's words (about q/2): per CMux c · (k+1) · l · N² · B², the form of
    /// TFHE-rs's formula (core_crypto/commons/noise_formulas/lwe_programmable_bootstrap.rs,
    /// its first term) with this engine's c (`fourierRoundingConstant`). On a 32-bit torus
    /// the key's words are 2^32 times smaller against the same 53-bit mantissa. Per GGSW of a
    /// grouped key: twice that for a block binary key (the product times X^e - 1), and
    /// `multiBitFourierFactor` times it for a multi-bit key.
    public var fourierRoundingVariance: Double {
        let p = parameters, g = p.bootstrapDecomposition
        let b = pow(2.0, Double(g.baseLog)), n = Double(p.polynomialSize)
        let perGGSW: Double
        if case .multiBit = p.blindRotation { perGGSW = Self.multiBitFourierFactor } else { perGGSW = groupFactor }
        return Self.fourierRoundingConstant * pow(2.0, 2.0 * Double(w - 64)) * perGGSW * Double(ggswCount)
            * Double(p.glweDimension + 1) * Double(g.levelCount) * n * n * b * b
    }

    /// How much larger a multi-bit key's FFT error is per GGSW than a classic CMux's, measured:
    /// a multi-bit step takes the whole accumulator through the transforms (ACC ← Σ_p X^{e_p}·
    /// ExtProd(GGSW_p, ACC)), where a CMux only adds a transformed difference to the exact
    /// torus words. With the GLWE noise at 0 and a 3-level gadget (B = 2^11, so that the FFT
    /// error dominates), 1,500 bootstraps each at n = 240, N = 2048 gave 11.3 ± 2.6 (g = 2),
    /// 9.4 ± 2.0 (g = 3) and 8.9 ± 1.7 (g = 4), where the classic rotation gave 0.9 ± 1.3 and
    /// the block binary one 1.6 ± 0.7 against its factor 2; on the two TFHE-rs multi-bit sets
    /// (1,000 bootstraps each at noise level 5, SecureParameterTests) the output variance gives
    /// 8.2 (g = 3) and 7.5 (g = 4), within about ±1.5. 8.5 fits them all. TFHE-rs likewise fits
    /// its multi-bit FFT noise apart from its classic one. SecureParameterTests holds the sets'
    /// measured output variance to the model, both ways.
    static let multiBitFourierFactor = 8.5

    /// Noise of the switch from Z_q to Z_2N (from 2^32 on a KS32 set, where the steps q/2N are
    /// still 2^20 words wide, so the continuous form below holds): each of the n + 1 coefficients is rounded with an
    /// error uniform on an interval of one step q/2N (variance 1/(12·4N²)); the body is floored,
    /// so its error has a mean of -1/2 step, which the table's layout expects
    /// (`BlindRotation.switchModulus`). The mask errors count with weight s_i² (the key's
    /// weight h in all), or (s_i - 1/2)² = 1/4 each with the centred-mean switch. The multi-bit
    /// switch rounds one sum per group, and the blind rotation reads the rounding of the
    /// group's pattern: one error per group whose bits are not all 0, n/g·(1 - 2^-g) expected.
    public var modulusSwitchVariance: Double {
        let p = parameters
        let twoN = 2.0 * Double(p.polynomialSize)
        let unit = 1 / (12 * twoN * twoN)
        let maskWeight: Double
        if case .multiBit(let g) = p.blindRotation {
            maskWeight = Double(p.lweDimension / g) * (1 - pow(2.0, -Double(g)))
        } else {
            maskWeight = p.modulusSwitch == .centeredMean ? Double(p.lweDimension) / 4 : lweKeyWeight
        }
        return unit * (1 + maskWeight)
    }

    /// Variance of a fresh encryption under the key ciphertexts live under.
    public var freshVariance: Double {
        let p = parameters
        return p.order == .keySwitchThenBootstrap ? p.glweNoise.variance(bitWidth: w)
            : p.lweNoise.variance(bitWidth: p.postKeySwitchModulusBits)
    }

    /// Variance of an encryption with the compact public key (Joye, eprint 2023/603), whose
    /// error is (E·R)[0] + e'' - Σ_j (E'_j·S_j)[0] with E, E'_j, e'' of the GLWE noise and R,
    /// S_j binary (E[r²] = E[s²] = 1/2): σ²·(N/2 + k·N/2 + 1).
    /// This is the second moment averaged over keys, the figure that decides failure rates.
    public var publicKeyEncryptionVariance: Double {
        let p = parameters
        let terms = Double(p.glweDimension + 1) * Double(p.polynomialSize) / 2 + 1
        return p.glweNoise.variance(bitWidth: w) * terms
    }

    /// The same error seen under one public key: R has mean 1/2 per coefficient, so
    /// (E·R)[0] carries a fixed offset (E·J)[0]/2 (J the all-ones polynomial) of variance
    /// σ²·N/4 over keys, and varies about it with variance ‖E‖²/4 ≈ σ²·N/4. The spread of the
    /// encryptions of one key about their mean is thus σ²·(N/4 + k·N/2 + 1).
    public var publicKeyEncryptionSpreadGivenKey: Double {
        let p = parameters
        let terms = Double(p.polynomialSize) / 4 + Double(p.glweDimension * p.polynomialSize) / 2 + 1
        return p.glweNoise.variance(bitWidth: w) * terms
    }

    /// Variance of a bootstrap's output, under the ciphertext key.
    public var bootstrapOutputVariance: Double {
        parameters.order == .keySwitchThenBootstrap ? blindRotationVariance : blindRotationVariance + keySwitchAddedVariance
    }

    /// Variance of the phase that blind rotation reads, for an input fresh from a bootstrap.
    public var varianceBeforeBlindRotation: Double { varianceBeforeBlindRotation(inputVarianceFactor: 1) }

    /// Variance of the phase that blind rotation reads when the input is a linear combination
    /// Σ w_j c_j of independent bootstrap outputs with Σ w_j² = `inputVarianceFactor`: the
    /// combination's noise, then (ks_pbs) the key switch's, then the modulus switch's.
    public func varianceBeforeBlindRotation(inputVarianceFactor f: Double) -> Double {
        let p = parameters
        let input = p.order == .keySwitchThenBootstrap
            ? f * blindRotationVariance + keySwitchAddedVariance
            : f * bootstrapOutputVariance
        return input + modulusSwitchVariance
    }

    /// The largest Σ w_j² of an input whose noise level is at most `noiseLevel`. The level
    /// adds under addition and multiplies under scalar multiplication (ShortintServerKey, as
    /// TFHE-rs's `NoiseLevel`), so it bounds Σ |w_j|, and Σ w_j² ≤ (Σ |w_j|)²: a sum of ν
    /// bootstrap outputs has factor ν, one output times ν has ν². TFHE-rs states its p-fail
    /// for the worst case ("2-norm = 5" beside MAX_NOISE_LEVEL 5 in its parameter files), so
    /// the model does too.
    public static func worstCaseVarianceFactor(noiseLevel: Int) -> Double {
        Double(noiseLevel) * Double(noiseLevel)
    }

    /// Where the value sits in its decoding window after the modulus switch, in torus units:
    /// 0, because the switch floors the body (`BlindRotation.switchModulus`). Rounding it, as
    /// this engine did before and TFHE-rs's plain switch does, leaves the window off centre by
    /// half a step of the switch, 1/(4N).
    public var decodingWindowOffset: Double { 0 }

    /// log2 of the probability that one bootstrap of a bootstrapped input decodes wrongly: the
    /// noise must stay within half a box, 1/(4p) of the torus with p = 2^(message + carry).
    public var failureProbabilityLog2: Double {
        failureProbabilityLog2(inputVarianceFactor: 1, windowOffset: decodingWindowOffset)
    }

    /// The same for an input at the set's maximum noise level, in the worst case
    /// (`worstCaseVarianceFactor`): the figure to hold against the set's stated p-fail.
    public var failureProbabilityAtMaxNoiseLog2: Double {
        failureProbabilityLog2(inputVarianceFactor: Self.worstCaseVarianceFactor(noiseLevel: parameters.maxNoiseLevel),
                               windowOffset: decodingWindowOffset)
    }

    /// log2 of the probability that the phase read by blind rotation leaves its window, for an
    /// input with `inputVarianceFactor` (see `varianceBeforeBlindRotation`) and a window whose
    /// centre is `windowOffset` (torus units) from the value: the noise, centred Gaussian of
    /// variance σ², must stay within [-h + δ, h + δ), h = 1/(4p), so
    /// p = ½ erfc((h - δ)/(σ√2)) + ½ erfc((h + δ)/(σ√2)).
    public func failureProbabilityLog2(inputVarianceFactor: Double, windowOffset delta: Double = 0) -> Double {
        let p = parameters
        let halfBox = 1 / (4 * pow(2.0, Double(p.messageBits + p.carryBits)))
        let scale = (varianceBeforeBlindRotation(inputVarianceFactor: inputVarianceFactor) * 2).squareRoot()
        let low = Self.log2HalfErfc((halfBox - abs(delta)) / scale)
        let high = Self.log2HalfErfc((halfBox + abs(delta)) / scale)
        // log2(2^low + 2^high), low ≥ high.
        return low + log2(1 + pow(2.0, high - low))
    }

    /// log2(erfc(x)/2), through the asymptotic series where erfc underflows.
    static func log2HalfErfc(_ x: Double) -> Double {
        let value = erfc(x)
        if value > 0x1p-1000 { return log2(value / 2) }
        // erfc(x) = e^{-x²}/(x√π) · (1 - 1/(2x²) + 3/(4x⁴) - ...) for large x.
        let series = 1 - 1 / (2 * x * x) + 3 / (4 * x * x * x * x)
        return (-x * x - log(x * Double.pi.squareRoot()) + log(series)) / log(2.0) - 1
    }
}
