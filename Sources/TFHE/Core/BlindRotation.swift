import TFHEKernelABI

/// Scratch space for one bootstrap at a time: a worker owns one and reuses it, so the
/// bootstrap itself allocates nothing (tfhe-go's evaluator pattern).
public final class BootstrapScratch<T: TorusScalar>: @unchecked Sendable {
    /// The parameter set the buffers are sized for; keys check it before using them.
    public let parameterFingerprint: UInt64
    /// The accumulator GLWE, (k+1)·N words.
    let accumulator: AlignedBuffer<T>
    /// X^a·ACC - ACC for one polynomial.
    let difference: AlignedBuffer<T>
    /// The l digit polynomials of one column, as Doubles.
    let digits: AlignedBuffer<Double>
    /// The (k+1)·l digit polynomials in the Fourier domain (re M | im M each), in the order of
    /// the GGSW's rows.
    let digitFourier: AlignedBuffer<Double>
    /// One output column in the Fourier domain.
    let fourierAccumulator: AlignedBuffer<Double>
    /// Modulus-switched input (n + 1 values in Z_2N).
    let switched: AlignedBuffer<Int>
    /// The key-switched input, n + 1 words.
    let small: AlignedBuffer<T>
    /// The key switch's 32-bit sums, n + 1 words.
    let keySwitchSums: AlignedBuffer<UInt32>
    /// KS32 sets: the key-switched input on 2^32, n + 1 words (empty otherwise).
    let small32: AlignedBuffer<UInt32>
    /// X^{e_j} - 1 in the Fourier domain for the GGSWs of one grouped step (N Doubles each).
    let monomials: AlignedBuffer<Double>

    public init(parameters p: ParameterSet) {
        parameterFingerprint = p.fingerprint
        let n = p.polynomialSize, columns = p.glweDimension + 1, levels = p.bootstrapDecomposition.levelCount
        accumulator = AlignedBuffer(count: columns * n)
        difference = AlignedBuffer(count: n)
        digits = AlignedBuffer(count: levels * n)
        digitFourier = AlignedBuffer(count: columns * levels * n)
        fourierAccumulator = AlignedBuffer(count: n)
        switched = AlignedBuffer(count: p.blindRotation.switchedCount(lweDimension: p.lweDimension) + 1)
        small = AlignedBuffer(count: max(p.lweDimension, p.bigLWEDimension) + 1)
        keySwitchSums = AlignedBuffer(count: p.lweDimension + 1)
        small32 = AlignedBuffer(count: p.usesKeySwitch32 ? p.lweDimension + 1 : 0)
        monomials = AlignedBuffer(count: p.blindRotation == .classic ? 0 : p.blindRotation.ggswsPerStep * n)
    }

    /// The kernels' view of the buffers (valid while this scratch lives).
    var buffers: BootstrapBuffers {
        BootstrapBuffers(accumulator: UnsafeMutableRawPointer(accumulator.pointer), difference: UnsafeMutableRawPointer(difference.pointer),
                         digits: digits.pointer, digitFourier: digitFourier.pointer,
                         fourierAccumulator: fourierAccumulator.pointer, switched: switched.pointer,
                         monomials: monomials.pointer)
    }

    /// The bytes of this scratch that one CMux of the blind rotation touches: the accumulator,
    /// the rotated difference, the digits (with more than one level), their transforms and one
    /// output column. A batch's working set is this per ciphertext beside the key's GGSWs
    /// (`ServerKey.preferredBatchSize`).
    public static func cmuxWorkingSetBytes(parameters p: ParameterSet) -> Int {
        let n = p.polynomialSize, columns = p.glweDimension + 1, levels = p.bootstrapDecomposition.levelCount
        let torusWords = (columns + 1) * n
        let doubles = (levels > 1 ? levels * n : 0) + columns * levels * n + n
        return torusWords * MemoryLayout<T>.stride + doubles * MemoryLayout<Double>.stride
    }
}

extension BlindRotation {
    /// The modulus switch that the parameter set's blind rotation reads, into `output`
    /// (`BlindRotationMethod.switchedCount` values, then the body). `T` is the word of the
    /// input: the torus's, or UInt32 for a KS32 set's small LWE, switched from 2^32 to 2N.
    static func switchModulus<T: TorusScalar>(_ input: UnsafePointer<T>, parameters p: ParameterSet,
                                              into output: UnsafeMutablePointer<Int>) {
        let logTwoN = p.polynomialSize.trailingZeroBitCount + 1
        if case .multiBit(let g) = p.blindRotation {
            switchModulusMultiBit(input, dimension: p.lweDimension, groupingFactor: g, logTwoN: logTwoN, into: output)
        } else {
            switchModulus(input, dimension: p.lweDimension, logTwoN: logTwoN, mode: p.modulusSwitch, into: output)
        }
    }

    /// The multi-bit switch: for every group of g mask coefficients and every pattern p of g
    /// bits, the exponent of GGSW (group, p), Σ_{i in p} a_i summed on the torus and then
    /// rounded to Z_2N, so each group adds one rounding error, not one per coefficient (TFHE-rs's
    /// `modulus_switch_multi_bit`); pattern 0 gets exponent 0. The body is floored, as in
    /// `switchModulus(_:dimension:logTwoN:mode:into:)`, to centre the decoding window.
    static func switchModulusMultiBit<T: TorusScalar>(_ input: UnsafePointer<T>, dimension n: Int, groupingFactor g: Int,
                                                      logTwoN: Int, into output: UnsafeMutablePointer<Int>) {
        let shift = T.bitWidth - logTwoN
        let mask = (1 << logTwoN) - 1
        let half = T(1) << (shift - 1)
        let patterns = 1 << g
        for group in 0..<(n / g) {
            let a = input + g * group
            let exponents = output + group * patterns
            exponents[0] = 0
            for pattern in 1..<patterns {
                var sum: T = 0
                for i in 0..<g where pattern >> i & 1 == 1 { sum = sum &+ a[i] }
                exponents[pattern] = Int(truncatingIfNeeded: (sum &+ half) &>> shift) & mask
            }
        }
        output[n / g * patterns] = Int(truncatingIfNeeded: input[n] &>> shift) & mask
    }

    /// Modulus switch of an LWE ciphertext from Z_q to Z_2N (CGGI 2020 §4.3), with the
    /// centred-mean correction of the body when the parameter set asks for it.
    ///
    /// The body is floored, not rounded: that is what centres a value in its decoding window.
    /// A value m·Δ lands at switched phase c = m·N/p, and the table gives it the 2·h switched
    /// phases c - h ... c + h - 1 (box i of `LookupTable(boxValues:)` is rotated by half a box,
    /// h = N/2p; the sign table gives [0, N) to [0, 1/2)), an even count of integers centred on
    /// c - 1/2, not on c. Rounding y = b·2N/q (+ ½ Σ e_i) puts the noise's centre on c, half a
    /// step off; flooring it, round(y - 1/2), puts it on c - 1/2 and both tails h steps away.
    /// TFHE-rs subtracts the same half step before rounding in its centred switch (`half_case`
    /// in `centered_binary_ms_body_correction_to_add`, core_crypto/algorithms/modulus_switch.rs).
    /// Off centre, the p-fail of the 2_2 2M128 sets at their maximum noise level is about one
    /// bit worse (`NoiseModel.failureProbabilityLog2(inputVarianceFactor:windowOffset:)`).
    /// Both modes floor the body; TFHE-rs's plain switch (`lwe_ciphertext_modulus_switch`)
    /// rounds it and keeps the half-step offset. The mask is still rounded, so its errors e_i
    /// are zero-mean, and the floor costs no variance (its error is uniform on (-1, 0], the
    /// rounding's on (-1/2, 1/2]).
    @inline(__always)
    static func switchModulus<T: TorusScalar>(_ input: UnsafePointer<T>, dimension n: Int, logTwoN: Int,
                                              mode: ModulusSwitch, into output: UnsafeMutablePointer<Int>) {
        let shift = T.bitWidth - logTwoN
        let mask = (1 << logTwoN) - 1
        let half = T(1) << (shift - 1)
        var errorSum = 0.0
        for i in 0..<n {
            let a = input[i]
            let rounded = (a &+ half) &>> shift
            output[i] = Int(truncatingIfNeeded: rounded) & mask
            if mode == .centeredMean {
                // Rounding error of this coefficient, in units of q/2N: rounded - a·2N/q.
                let low = a & ((T(1) << shift) &- 1)
                let fraction = Double(UInt64(low)) / Double(UInt64(1) << shift)
                errorSum += low >= half ? 1 - fraction : -fraction
            }
        }
        let b = input[n]
        if mode == .centeredMean {
            // b̃ = ⌊b·2N/q + ½ Σ e_i⌋: the mask errors' mean contribution, Σ e_i/2, moves into
            // the body, leaving Σ e_i (s_i - 1/2); the floor centres the window (above).
            let scaled = Double(UInt64(b)) / Double(UInt64(1) << shift) + errorSum / 2
            output[n] = Int(scaled.rounded(.down)) & mask
        } else {
            output[n] = Int(truncatingIfNeeded: b &>> shift) & mask
        }
    }
}
