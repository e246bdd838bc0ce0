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
        self.lweKeyWeight = lweKeyWeight.map(Double.init) ?? Double(parameters.lweDimension) / 2
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
    public var keySwitchAddedVariance: Double {
        let g = parameters.keySwitchDecomposition
        let rows = Double(parameters.bigLWEDimension) * Double(g.levelCount)
        let digits = Self.digitSecondMoment(baseLog: g.baseLog)
        let entryRounding = w > 32 ? (0x1p-64 - pow(2.0, -2.0 * Double(w))) / 12 : 0
        return rows * parameters.lweNoise.variance(bitWidth: w) * digits
            + Double(parameters.bigLWEDimension) * 0.5 * decompositionRoundingVariance(g)
            + rows * digits * (1 + Double(parameters.lweDimension) / 2) * entryRounding
    }

    /// Noise of the output of a blind rotation and sample extraction, a sum of n CMuxes:
    /// n · (k+1) · l · N · σ_glwe² · E[d²]   (the key's noise, carried by every digit)
    /// + weight(s) · (1 + kN · E[S²]) · (B^{-2l} - q^{-2})/12   (the gadget's rounding, in the
    ///   CMuxes whose selector bit is 1).
    public var blindRotationVariance: Double {
        let p = parameters, g = p.bootstrapDecomposition
        let keyTerm = Double(p.lweDimension) * Double(p.glweDimension + 1) * Double(g.levelCount)
            * Double(p.polynomialSize) * p.glweNoise.variance(bitWidth: w) * Self.digitSecondMoment(baseLog: g.baseLog)
        let roundingTerm = lweKeyWeight * (1 + Double(p.bigLWEDimension) * 0.5) * decompositionRoundingVariance(g)
        return keyTerm + roundingTerm
    }

    /// Noise of the switch from Z_q to Z_2N: each of the n + 1 coefficients is rounded with an
    /// error uniform on an interval of one step q/2N (variance 1/(12·4N²)); the body is floored,
    /// so its error has a mean of -1/2 step, which the table's layout expects
    /// (`BlindRotation.switchModulus`). The mask errors count with weight s_i² (the key's
    /// weight h in all), or (s_i - 1/2)² = 1/4 each with the centred-mean switch.
    public var modulusSwitchVariance: Double {
        let p = parameters
        let twoN = 2.0 * Double(p.polynomialSize)
        let unit = 1 / (12 * twoN * twoN)
        let maskWeight = p.modulusSwitch == .centeredMean ? Double(p.lweDimension) / 4 : lweKeyWeight
        return unit * (1 + maskWeight)
    }

    /// Variance of a fresh encryption under the key ciphertexts live under.
    public var freshVariance: Double {
        let p = parameters
        return (p.order == .keySwitchThenBootstrap ? p.glweNoise : p.lweNoise).variance(bitWidth: w)
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
    public var varianceBeforeBlindRotation: Double {
        let p = parameters
        let input = p.order == .keySwitchThenBootstrap ? blindRotationVariance + keySwitchAddedVariance : bootstrapOutputVariance
        return input + modulusSwitchVariance
    }

    /// log2 of the probability that one bootstrap of a bootstrapped input decodes wrongly: the
    /// noise must stay within half a box, 1/(4p) of the torus with p = 2^(message + carry).
    public var failureProbabilityLog2: Double {
        let p = parameters
        let halfBox = 1 / (4 * pow(2.0, Double(p.messageBits + p.carryBits)))
        let x = halfBox / (varianceBeforeBlindRotation.squareRoot() * 2.0.squareRoot())
        let probability = erfc(x)
        if probability > 0 { return log2(probability) }
        // erfc(x) ~ e^{-x²} / (x √π) for large x.
        return (-x * x - log(x * Double.pi.squareRoot())) / log(2.0)
    }
}
