import TFHEKernelABI

enum BlindRotation {
    /// ACC ← X^{-b̃ + Σ ã_i s_i} · v, by one CMux per key coefficient (CGGI 2020 Algorithm 3):
    /// ACC ← ACC + ExtProd(BSK_i, X^{ã_i}·ACC - ACC). The product is taken in the Fourier domain
    /// and every column accumulates there before a single inverse FFT.
    static func blindRotate<T: TorusScalar>(switched: UnsafePointer<Int>, lookupTable: UnsafePointer<T>,
                                            key: FourierKeyLayout, fft: FourierTransform,
                                            scratch: ScratchView<T>) {
        initializeAccumulator(switchedBody: switched[key.switchedBodyIndex], lookupTable: lookupTable,
                              key: key, scratch: scratch)
        if key.method != .classic {
            // One accumulator: no arrays, so the bootstrap allocates nothing.
            forEachGroupedStep(key: key, fft: fft, ciphertexts: 1) { step, fft in
                groupedStep(step, switched: switched, key: key, fft: fft, scratch: scratch)
            }
            return
        }
        let ggswBytes = key.ggswStride * MemoryLayout<Double>.stride
        var stepsPerCMux = 0  // known once a CMux has run
        for i in 0..<key.inputDimension {
            // The next GGSW is streamed into L2 while this one is used, a few lines per step
            // of the transforms (`PrefetchStream`).
            let next = i + 1 < key.inputDimension ? UnsafeRawPointer(key.storage + (i + 1) * key.ggswStride) : nil
            // X^0·ACC - ACC = 0: a zero rotation leaves ACC unchanged, so it is skipped.
            if switched[i] != 0 {
                if let next {
                    var stream = PrefetchStream(next, byteCount: ggswBytes, expectedSteps: stepsPerCMux == 0 ? 256 : stepsPerCMux)
                    withUnsafeMutablePointer(to: &stream) { stream in
                        cmux(keyIndex: i, rotation: switched[i], key: key, fft: fft.streaming(stream), scratch: scratch)
                        stream.pointee.finish()
                    }
                    stepsPerCMux = stream.steps
                } else {
                    cmux(keyIndex: i, rotation: switched[i], key: key, fft: fft, scratch: scratch)
                }
            } else if let next {
                prefetchIntoL2(next, byteCount: ggswBytes)
            }
        }
    }

    /// ACC = trivial GLWE (0, ..., 0, X^{-b̃}·v).
    static func initializeAccumulator<T: TorusScalar>(switchedBody b: Int, lookupTable: UnsafePointer<T>,
                                                      key: FourierKeyLayout, scratch: ScratchView<T>) {
        let n = key.polynomialSize, k = key.glweDimension
        let acc = scratch.accumulator
        for j in 0..<(k * n) { acc[j] = 0 }
        Polynomial.multiplyByMonomial(lookupTable, power: (2 * n - b) % (2 * n), count: n, into: acc + k * n)
    }

    /// Blind rotation of several accumulators at once, key coefficient by key coefficient: each
    /// GGSW of the bootstrapping key is read from memory once per batch instead of once per
    /// ciphertext, and stays in cache for the others. `switched[b]` and `scratches[b]` belong
    /// to ciphertext b, whose accumulator must already be initialised.
    static func blindRotateBatch<T: TorusScalar>(switched: [UnsafePointer<Int>], key: FourierKeyLayout,
                                                 fft: FourierTransform, scratches: [ScratchView<T>]) {
        if key.method != .classic {
            blindRotateGroupedBatch(switched: switched, key: key, fft: fft, scratches: scratches)
            return
        }
        let count = switched.count
        let ggswBytes = key.ggswStride * MemoryLayout<Double>.stride
        // The next GGSW streams into L2 while this one is used by the whole batch, a few
        // lines per step of the transforms (`PrefetchStream`; the hardware prefetchers do not
        // run that far ahead).
        var stepsPerKey = 0  // known once a key coefficient has been through the batch
        for i in 0..<key.inputDimension {
            let next = i + 1 < key.inputDimension ? UnsafeRawPointer(key.storage + (i + 1) * key.ggswStride) : nil
            var stream = PrefetchStream(next ?? UnsafeRawPointer(key.storage), byteCount: next == nil ? 0 : ggswBytes,
                                        expectedSteps: stepsPerKey == 0 ? 256 * count : stepsPerKey)
            withUnsafeMutablePointer(to: &stream) { stream in
                let fft = fft.streaming(stream)
                // Ciphertexts two by two, so that each key point is loaded once for both.
                var b = 0
                while b < count {
                    if b + 1 < count && switched[b][i] != 0 && switched[b + 1][i] != 0 {
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
                stream.pointee.finish()
            }
            stepsPerKey = stream.steps
        }
    }

    /// One step of the blind rotation: ACC ← ACC + ExtProd(BSK_i, X^a·ACC - ACC). All the
    /// digits are transformed first; then each output column is summed over the GGSW's rows
    /// in registers, point by point, and transformed back (one store per point, not one per
    /// row, and the sum goes through the inverse's first stages before it is stored).
    @inline(__always)
    static func cmux<T: TorusScalar>(keyIndex i: Int, rotation a: Int, key: FourierKeyLayout,
                                     fft: FourierTransform, scratch: ScratchView<T>) {
        let n = key.polynomialSize, m = n / 2, columns = key.glweDimension + 1
        let rows = columns * key.levelCount
        let acc = scratch.accumulator
        let digitFourier = scratch.digitFourier
        let fourierAcc = scratch.fourierAccumulator
        let ggsw = key.storage + i * key.ggswStride
        for c in 0..<columns {
            transformDigits(column: c, rotation: a, key: key, fft: fft, scratch: scratch)
        }
        // Row r of the GGSW holds its k+1 output polynomials consecutively.
        for out in 0..<columns {
            fft.inverseAddSumOfProducts(UnsafePointer(digitFourier), ggsw + out * n, rows: rows, keyRowStride: columns * n,
                                        re: fourierAcc, im: fourierAcc + m, into: acc + out * n)
        }
    }

    /// The CMux of two ciphertexts with the same GGSW (a batch's case): each key point is
    /// loaded once for both.
    @inline(__always)
    static func cmux<T: TorusScalar>(keyIndex i: Int, rotations: (Int, Int), key: FourierKeyLayout,
                                     fft: FourierTransform, scratches: (ScratchView<T>, ScratchView<T>)) {
        let n = key.polynomialSize, columns = key.glweDimension + 1
        let rows = columns * key.levelCount
        for c in 0..<columns {
            transformDigits(column: c, rotation: rotations.0, key: key, fft: fft, scratch: scratches.0)
            transformDigits(column: c, rotation: rotations.1, key: key, fft: fft, scratch: scratches.1)
        }
        let ggsw = key.storage + i * key.ggswStride
        for out in 0..<columns {
            fft.inverseAddSumOfProducts(
                pair: (UnsafePointer(scratches.0.digitFourier), UnsafePointer(scratches.1.digitFourier)),
                ggsw + out * n, rows: rows, keyRowStride: columns * n,
                scratch: (scratches.0.fourierAccumulator, scratches.1.fourierAccumulator),
                into: (scratches.0.accumulator + out * n, scratches.1.accumulator + out * n))
        }
    }

    /// The Fourier-domain gadget digits of X^a·ACC_c - ACC_c for column c of the accumulator,
    /// into the scratch's digit polynomials for the GGSW rows (c, 1...l).
    @inline(__always)
    static func transformDigits<T: TorusScalar>(column c: Int, rotation a: Int, key: FourierKeyLayout,
                                                fft: FourierTransform, scratch: ScratchView<T>) {
        let n = key.polynomialSize
        Polynomial.rotateMinus(UnsafePointer(scratch.accumulator + c * n), power: a, count: n, into: scratch.difference)
        transformDigits(of: UnsafePointer(scratch.difference), column: c, key: key, fft: fft, scratch: scratch)
    }

    /// The Fourier-domain gadget digits of a torus polynomial, into the scratch's digit
    /// polynomials for the GGSW rows (c, 1...l).
    @inline(__always)
    static func transformDigits<T: TorusScalar>(of source: UnsafePointer<T>, column c: Int, key: FourierKeyLayout,
                                                fft: FourierTransform, scratch: ScratchView<T>) {
        let n = key.polynomialSize, m = n / 2
        let levels = key.levelCount
        let digits = scratch.digits
        let digitFourier = scratch.digitFourier
        let decomposition = GadgetDecomposition(baseLog: key.baseLog, levelCount: key.levelCount)
        // With one level, the digit is the top baseLog bits, rounded: an arithmetic shift.
        let topDigitShift = levels == 1 ? T.bitWidth - decomposition.baseLog : 0
        if topDigitShift > 0 {
            // One level (every 64-bit set): digits, fold and twist in a single pass.
            let target = digitFourier + c * n
            fft.forwardTopDigits(source, offset: T(1) &<< (topDigitShift - 1), shift: topDigitShift,
                                 re: target, im: target + m)
        } else {
            decomposition.decompose(source, count: n, into: digits)
            for v in 0..<levels {
                let target = digitFourier + (c * levels + v) * n
                fft.forward(UnsafePointer(digits + v * n), re: target, im: target + m)
            }
        }
    }
}

// MARK: Grouped keys: block binary and multi-bit

extension BlindRotation {
    /// ACC ← X^{-b̃ + Σ ã_i s_i}·v for accumulators already holding X^{-b̃}·v, by the steps of
    /// a grouped key (`BlindRotationMethod`), ACC decomposed and transformed once per step and
    /// the k+1 inverse transforms taken once, after the sum over the step's GGSWs j:
    /// block binary, ACC += Σ_j (X^{e_j} - 1)·ExtProd(GGSW_j, ACC) (tfhe-go's blindRotateBlockTo);
    /// multi-bit, ACC ← Σ_j X^{e_j}·ExtProd(GGSW_j, ACC). Several accumulators go through each
    /// step in turn, so the step's GGSWs are read from memory once per batch.
    static func blindRotateGroupedBatch<T: TorusScalar>(switched: [UnsafePointer<Int>], key: FourierKeyLayout,
                                                        fft: FourierTransform, scratches: [ScratchView<T>]) {
        forEachGroupedStep(key: key, fft: fft, ciphertexts: switched.count) { step, fft in
            for b in 0..<switched.count {
                groupedStep(step, switched: switched[b], key: key, fft: fft, scratch: scratches[b])
            }
        }
    }

    /// Runs `body(step, fft)` for every step of a grouped key, with the next step's GGSWs
    /// streaming into L2 while `body` uses this step's (`PrefetchStream`), paced by the
    /// transform steps the previous key step took for `ciphertexts` accumulators.
    @inline(__always)
    static func forEachGroupedStep(key: FourierKeyLayout, fft: FourierTransform, ciphertexts: Int,
                                   _ body: (Int, FourierTransform) -> Void) {
        let method = key.method
        let steps = key.inputDimension / method.keyCoefficientsPerStep
        let stepWords = method.ggswsPerStep * key.ggswStride
        var transformStepsPerKeyStep = 0  // known once a step has run
        for step in 0..<steps {
            let next = step + 1 < steps ? UnsafeRawPointer(key.storage + (step + 1) * stepWords) : nil
            var stream = PrefetchStream(next ?? UnsafeRawPointer(key.storage),
                                        byteCount: next == nil ? 0 : stepWords * MemoryLayout<Double>.stride,
                                        expectedSteps: transformStepsPerKeyStep == 0 ? 256 * ciphertexts : transformStepsPerKeyStep)
            withUnsafeMutablePointer(to: &stream) { stream in
                body(step, fft.streaming(stream))
                stream.pointee.finish()
            }
            transformStepsPerKeyStep = stream.steps
        }
    }

    /// One step of a grouped blind rotation on one accumulator.
    @inline(__always)
    static func groupedStep<T: TorusScalar>(_ step: Int, switched: UnsafePointer<Int>, key: FourierKeyLayout,
                                            fft: FourierTransform, scratch: ScratchView<T>) {
        let n = key.polynomialSize, columns = key.glweDimension + 1
        let members = key.method.ggswsPerStep
        // Block binary keys add to ACC (X^e - 1 per GGSW); multi-bit keys replace it (X^e).
        let replaces = key.method.replacesAccumulator
        var rotates = false
        for j in 0..<members {
            let e = switched[step * members + j]
            rotates = rotates || e != 0
            monomial(power: e, minusOne: !replaces, tables: fft.tables, into: scratch.monomials + j * n)
        }
        // Every exponent 0: the step multiplies ACC by X^0 = 1 (only the pattern of the key's
        // bits counts in a multi-bit step, so there too).
        guard rotates else { return }
        let acc = scratch.accumulator
        for c in 0..<columns {
            transformDigits(of: UnsafePointer(acc + c * n), column: c, key: key, fft: fft, scratch: scratch)
        }
        if replaces {
            for j in 0..<(columns * n) { acc[j] = 0 }
        }
        let stepKey = key.storage + step * members * key.ggswStride
        for out in 0..<columns {
            fft.inverseAddSumOfMonomialProducts(UnsafePointer(scratch.digitFourier), stepKey + out * n, members: members,
                                                memberStride: key.ggswStride, monomials: UnsafePointer(scratch.monomials),
                                                rows: columns * key.levelCount, keyRowStride: columns * n,
                                                re: scratch.fourierAccumulator, im: scratch.fourierAccumulator + n / 2,
                                                into: acc + out * n)
        }
    }

    /// X^e, or X^e - 1, in the Fourier domain (re M | im M): slot s holds e^{iπ·e·t_s/N} (- 1),
    /// with t_s the slot's root power (`FourierTables.slotRootPowers`), read from the table of
    /// 2N-th roots, so the values are exact to the table's rounding whatever e is.
    @inline(__always)
    static func monomial(power e: Int, minusOne: Bool, tables: FourierTables, into output: UnsafeMutablePointer<Double>) {
        let n = tables.polynomialSize, m = n / 2, mask = 2 * n - 1
        let powers = tables.slotRootPowers, rootRe = tables.rootRe, rootIm = tables.rootIm
        let one = minusOne ? 1.0 : 0.0
        for s in 0..<m {
            let t = (e &* Int(powers[s])) & mask
            output[s] = rootRe[t] - one
            output[m + s] = rootIm[t]
        }
    }
}

/// A bootstrap's buffers (`BootstrapBuffers`) with the torus words typed.
struct ScratchView<T: TorusScalar> {
    let accumulator: UnsafeMutablePointer<T>
    let difference: UnsafeMutablePointer<T>
    let digits: UnsafeMutablePointer<Double>
    let digitFourier: UnsafeMutablePointer<Double>
    let fourierAccumulator: UnsafeMutablePointer<Double>
    let switched: UnsafeMutablePointer<Int>
    let monomials: UnsafeMutablePointer<Double>

    @inline(__always)
    init(_ buffers: BootstrapBuffers) {
        accumulator = buffers.accumulator.assumingMemoryBound(to: T.self)
        difference = buffers.difference.assumingMemoryBound(to: T.self)
        digits = buffers.digits
        digitFourier = buffers.digitFourier
        fourierAccumulator = buffers.fourierAccumulator
        switched = buffers.switched
        monomials = buffers.monomials
    }
}
