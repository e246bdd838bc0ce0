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

    public init(parameters p: ParameterSet) {
        parameterFingerprint = p.fingerprint
        let n = p.polynomialSize, columns = p.glweDimension + 1, levels = p.bootstrapDecomposition.levelCount
        accumulator = AlignedBuffer(count: columns * n)
        difference = AlignedBuffer(count: n)
        digits = AlignedBuffer(count: levels * n)
        digitFourier = AlignedBuffer(count: columns * levels * n)
        fourierAccumulator = AlignedBuffer(count: n)
        switched = AlignedBuffer(count: p.lweDimension + 1)
        small = AlignedBuffer(count: max(p.lweDimension, p.bigLWEDimension) + 1)
        keySwitchSums = AlignedBuffer(count: p.lweDimension + 1)
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

enum BlindRotation {
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

    /// ACC ← X^{-b̃ + Σ ã_i s_i} · v, by one CMux per key coefficient (CGGI 2020 Algorithm 3):
    /// ACC ← ACC + ExtProd(BSK_i, X^{ã_i}·ACC - ACC). The product is taken in the Fourier domain
    /// and every column accumulates there before a single inverse FFT.
    static func blindRotate<T: TorusScalar>(switched: UnsafePointer<Int>, lookupTable: UnsafePointer<T>,
                                            key: FourierBootstrappingKey, fft: NegacyclicFFT,
                                            scratch: BootstrapScratch<T>) {
        initializeAccumulator(switchedBody: switched[key.inputDimension], lookupTable: lookupTable,
                              key: key, scratch: scratch)
        let ggswBytes = key.ggswStride * MemoryLayout<Double>.stride
        for i in 0..<key.inputDimension {
            // The next GGSW is streamed into L2 while this one is used (as in the batch), a
            // share at each of the CMux's steps rather than all at once.
            let next = i + 1 < key.inputDimension ? UnsafeRawPointer(key.storage.pointer + (i + 1) * key.ggswStride) : nil
            // X^0·ACC - ACC = 0: a zero rotation leaves ACC unchanged, so it is skipped.
            if switched[i] != 0 {
                cmux(keyIndex: i, rotation: switched[i], key: key, fft: fft, scratch: scratch, prefetching: next, byteCount: ggswBytes)
            } else if let next {
                prefetchIntoL2(next, byteCount: ggswBytes)
            }
        }
    }

    /// ACC = trivial GLWE (0, ..., 0, X^{-b̃}·v).
    static func initializeAccumulator<T: TorusScalar>(switchedBody b: Int, lookupTable: UnsafePointer<T>,
                                                      key: FourierBootstrappingKey, scratch: BootstrapScratch<T>) {
        let n = key.polynomialSize, k = key.glweDimension
        let acc = scratch.accumulator.pointer
        for j in 0..<(k * n) { acc[j] = 0 }
        Polynomial.multiplyByMonomial(lookupTable, power: (2 * n - b) % (2 * n), count: n, into: acc + k * n)
    }

    /// Blind rotation of several accumulators at once, key coefficient by key coefficient: each
    /// GGSW of the bootstrapping key is read from memory once per batch instead of once per
    /// ciphertext, and stays in cache for the others. `switched[b]` and `scratches[b]` belong
    /// to ciphertext b, whose accumulator must already be initialised.
    static func blindRotateBatch<T: TorusScalar>(switched: [UnsafePointer<Int>], key: FourierBootstrappingKey,
                                                 fft: NegacyclicFFT, scratches: [BootstrapScratch<T>]) {
        let count = switched.count
        let ggswBytes = key.ggswStride * MemoryLayout<Double>.stride
        // Each ciphertext's CMux with GGSW i first asks for its share of GGSW i+1, so that the
        // next key reaches L2 from memory while this one is in use (the hardware prefetchers do
        // not run that far ahead).
        let share = (ggswBytes / count + 63) & ~63
        for i in 0..<key.inputDimension {
            let next = i + 1 < key.inputDimension ? UnsafeRawPointer(key.storage.pointer + (i + 1) * key.ggswStride) : nil
            @inline(__always) func prefetchShare(_ b: Int) {
                if let next, b * share < ggswBytes { prefetchIntoL2(next + b * share, byteCount: min(share, ggswBytes - b * share)) }
            }
            // Ciphertexts two by two, so that each key point is loaded once for both.
            var b = 0
            while b < count {
                prefetchShare(b)
                if b + 1 < count && switched[b][i] != 0 && switched[b + 1][i] != 0 {
                    prefetchShare(b + 1)
                    cmux(keyIndex: i, rotations: (switched[b][i], switched[b + 1][i]), key: key, fft: fft,
                         scratches: (scratches[b], scratches[b + 1]))
                    b += 2
                } else {
                    if switched[b][i] != 0 {
                        cmux(keyIndex: i, rotation: switched[b][i], key: key, fft: fft, scratch: scratches[b])
                    }
                    b += 1
                }
            }
        }
    }

    /// One step of the blind rotation: ACC ← ACC + ExtProd(BSK_i, X^a·ACC - ACC). All the
    /// digits are transformed first; then each output column is summed over the GGSW's rows
    /// in registers, point by point, and transformed back (one store per point, not one per
    /// row, and the sum goes through the inverse's first stages before it is stored).
    @inline(__always)
    static func cmux<T: TorusScalar>(keyIndex i: Int, rotation a: Int, key: FourierBootstrappingKey,
                                     fft: NegacyclicFFT, scratch: BootstrapScratch<T>,
                                     prefetching next: UnsafeRawPointer? = nil, byteCount: Int = 0) {
        let n = key.polynomialSize, m = n / 2, columns = key.glweDimension + 1
        let rows = columns * key.decomposition.levelCount
        let acc = scratch.accumulator.pointer
        let digitFourier = scratch.digitFourier.pointer
        let fourierAcc = scratch.fourierAccumulator.pointer
        let ggsw = UnsafePointer(key.storage.pointer) + i * key.ggswStride
        // `next` (if any) is asked for in 2(k+1) shares, one before each transform step.
        let share = (byteCount / (2 * columns) + 63) & ~63
        @inline(__always) func prefetchShare(_ step: Int) {
            if let next, step * share < byteCount { prefetchIntoL2(next + step * share, byteCount: min(share, byteCount - step * share)) }
        }

        for c in 0..<columns {
            prefetchShare(c)
            transformDigits(column: c, rotation: a, key: key, fft: fft, scratch: scratch)
        }
        // Row r of the GGSW holds its k+1 output polynomials consecutively.
        for out in 0..<columns {
            prefetchShare(columns + out)
            fft.inverseAddSumOfProducts(UnsafePointer(digitFourier), ggsw + out * n, rows: rows, keyRowStride: columns * n,
                                        re: fourierAcc, im: fourierAcc + m, into: acc + out * n)
        }
    }

    /// The CMux of two ciphertexts with the same GGSW (a batch's case): each key point is
    /// loaded once for both.
    @inline(__always)
    static func cmux<T: TorusScalar>(keyIndex i: Int, rotations: (Int, Int), key: FourierBootstrappingKey,
                                     fft: NegacyclicFFT, scratches: (BootstrapScratch<T>, BootstrapScratch<T>)) {
        let n = key.polynomialSize, columns = key.glweDimension + 1
        let rows = columns * key.decomposition.levelCount
        for c in 0..<columns {
            transformDigits(column: c, rotation: rotations.0, key: key, fft: fft, scratch: scratches.0)
            transformDigits(column: c, rotation: rotations.1, key: key, fft: fft, scratch: scratches.1)
        }
        let ggsw = UnsafePointer(key.storage.pointer) + i * key.ggswStride
        for out in 0..<columns {
            fft.inverseAddSumOfProducts(
                pair: (UnsafePointer(scratches.0.digitFourier.pointer), UnsafePointer(scratches.1.digitFourier.pointer)),
                ggsw + out * n, rows: rows, keyRowStride: columns * n,
                scratch: (scratches.0.fourierAccumulator.pointer, scratches.1.fourierAccumulator.pointer),
                into: (scratches.0.accumulator.pointer + out * n, scratches.1.accumulator.pointer + out * n))
        }
    }

    /// The Fourier-domain gadget digits of X^a·ACC_c - ACC_c for column c of the accumulator,
    /// into the scratch's digit polynomials for the GGSW rows (c, 1...l).
    @inline(__always)
    static func transformDigits<T: TorusScalar>(column c: Int, rotation a: Int, key: FourierBootstrappingKey,
                                                fft: NegacyclicFFT, scratch: BootstrapScratch<T>) {
        let n = key.polynomialSize, m = n / 2
        let levels = key.decomposition.levelCount
        let difference = scratch.difference.pointer
        let digits = scratch.digits.pointer
        let digitFourier = scratch.digitFourier.pointer
        let decomposition = key.decomposition
        // With one level, the digit is the top baseLog bits, rounded: an arithmetic shift.
        let topDigitShift = levels == 1 ? T.bitWidth - decomposition.baseLog : 0
        let column = UnsafePointer(scratch.accumulator.pointer + c * n)
        Polynomial.rotateMinus(column, power: a, count: n, into: difference)
        if topDigitShift > 0 {
            // One level (every 64-bit set): digits, fold and twist in a single pass.
            let target = digitFourier + c * n
            fft.forwardTopDigits(UnsafePointer(difference), offset: T(1) &<< (topDigitShift - 1), shift: topDigitShift,
                                 re: target, im: target + m)
        } else {
            decomposition.decompose(UnsafePointer(difference), count: n, into: digits)
            for v in 0..<levels {
                let target = digitFourier + (c * levels + v) * n
                fft.forward(UnsafePointer(digits + v * n), re: target, im: target + m)
            }
        }
    }
}
