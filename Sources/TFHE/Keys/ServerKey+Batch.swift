import TFHEKernelABI

/// Batched programmable bootstrapping: many independent bootstraps in one pass over the
/// bootstrapping key. A bootstrap streams the whole key from memory (60 to 105 MB on the
/// published sets), which bounds its speed as much as its FFTs do; a batch reads each GGSW
/// once and applies it to every ciphertext while it is in cache. Results are those of
/// `programmableBootstrap` one by one (the same arithmetic in another order).
extension ServerKey {
    /// The bootstraps per pass over the key whose blind rotation stays in this core's share of
    /// the last-level cache (`CacheSizes.lastLevelPerCore`): the GGSW in use and the next one,
    /// which is prefetched while it runs, beside each ciphertext's CMux working set
    /// (`BootstrapScratch.cmuxWorkingSetBytes`). Past that, every CMux would fetch the
    /// ciphertexts' buffers from memory as well as the key.
    ///
    /// Not L2: on the AMD EPYC of BENCHMARKS.md ("Batch size from the cache"), a batch of 5
    /// (what fits its 512 KB L2 on concrete's set) was 5% slower per bootstrap than one of 8,
    /// whose buffers spill to L3. The key comes from memory at 1/b of its size per bootstrap,
    /// and that saving outweighs the L3 traffic.
    ///
    /// At least 2, since a pair of CMuxes loads each key point once for both
    /// (`BlindRotation.cmux(keyIndex:rotations:)`), and at most `maximumBatchSize`.
    public func preferredBatchSize(cache: CacheSizes = .current) -> Int {
        Self.preferredBatchSize(parameters: parameters, cache: cache)
    }

    /// The same, for any key of the set `p`.
    public static func preferredBatchSize(parameters p: ParameterSet, cache: CacheSizes = .current) -> Int {
        let ggswBytes = FourierBootstrappingKey.ggswStride(glweDimension: p.glweDimension, levels: p.bootstrapDecomposition.levelCount,
                                                           polynomialSize: p.polynomialSize) * MemoryLayout<Double>.stride
        let perCiphertext = BootstrapScratch<T>.cmuxWorkingSetBytes(parameters: p)
        let fitting = (cache.lastLevelPerCore - 2 * ggswBytes) / perCiphertext
        return min(Self.maximumBatchSize, max(2, fitting))
    }

    /// A batch reads a GGSW once for all its ciphertexts, so the key's memory traffic per
    /// bootstrap is 1/b of the key: past 8 the saving is below the machine's noise, and a batch
    /// of 12 was up to 15% slower than 8 in one run of two (BENCHMARKS.md, "Batch size from the
    /// cache").
    public static var maximumBatchSize: Int { 8 }

    /// Scratch space for batches of up to `capacity` ciphertexts (one worker's, reusable).
    public func makeBatchScratch(capacity: Int) -> [BootstrapScratch<T>] {
        (0..<capacity).map { _ in makeScratch() }
    }

    /// outputs[b] = bootstrap of inputs[b] through tables[b] (or tables[0] for all). With
    /// many-LUT tables (`lookupTable(functions:)`) each input has one output per function, in
    /// order: `outputs` holds Σ_b tables[b].outputCount ciphertexts, input 0's first.
    public func programmableBootstrap(batch inputs: [LWECiphertext<T>], tables: [LookupTable<T>],
                                      scratches: [BootstrapScratch<T>], into outputs: inout [LWECiphertext<T>]) throws {
        let count = inputs.count
        guard tables.count == count || tables.count == 1 else { throw TFHEError.lookupTableSize(expected: count, found: tables.count) }
        @inline(__always) func table(_ b: Int) -> LookupTable<T> { tables.count == 1 ? tables[0] : tables[b] }
        let outputStart = LookupTable.outputStarts((0..<count).map(table))
        guard scratches.count >= count else {
            throw TFHEError.unsupported("batch of \(count) ciphertexts needs as many scratch buffers, got \(scratches.count)")
        }
        guard outputs.count == outputStart[count] else {
            throw TFHEError.unsupported("batch of \(count) inputs needs \(outputStart[count]) outputs, got \(outputs.count)")
        }
        for input in inputs { try check(input) }
        for scratch in scratches.prefix(count) { try check(scratch) }
        // Each ciphertext needs its own scratch: a shared one would mix two accumulators.
        guard Set(scratches.prefix(count).map(ObjectIdentifier.init)).count == count else {
            throw TFHEError.unsupported("a batch needs a distinct scratch buffer per ciphertext")
        }
        for output in outputs where output.dimension != parameters.ciphertextDimension {
            throw TFHEError.dimensionMismatch(expected: parameters.ciphertextDimension, found: output.dimension)
        }
        for table in tables where table.coefficients.count != parameters.polynomialSize {
            throw TFHEError.lookupTableSize(expected: parameters.polynomialSize, found: table.coefficients.count)
        }
        let p = parameters
        let logTwoN = p.polynomialSize.trailingZeroBitCount + 1
        // 1. Key switch (KS then PBS, one pass over the key-switching key) and modulus switch,
        //    into each ciphertext's scratch.
        let used = Array(scratches.prefix(count))
        // The inputs, gathered into one buffer that lives for the whole call.
        let width = parameters.ciphertextDimension + 1
        let gathered = AlignedBuffer<T>(count: count * width)
        for b in 0..<count {
            inputs[b].data.withUnsafeBufferPointer { (gathered.pointer + b * width).update(from: $0.baseAddress!, count: width) }
        }
        // `gathered` must outlive every use of these pointers.
        withExtendedLifetime(gathered) {
            let inputPointers = (0..<count).map { UnsafePointer(gathered.pointer + $0 * width) }
            if p.usesKeySwitch32 {
                // KS32: the small LWEs on 2^32, switched from there to 2N.
                keySwitchingKey.keySwitchBatch32(inputPointers, into: used.map { $0.small32.pointer }, kernels: kernels)
                for scratch in used {
                    BlindRotation.switchModulus(UnsafePointer(scratch.small32.pointer), parameters: p, into: scratch.switched.pointer)
                }
            } else {
                if p.order == .keySwitchThenBootstrap {
                    keySwitchingKey.keySwitchBatch(inputPointers, into: used.map { $0.small.pointer },
                                                   sums: used.map { $0.keySwitchSums.pointer }, kernels: kernels)
                }
                for b in 0..<count {
                    let scratch = scratches[b]
                    let small = p.order == .keySwitchThenBootstrap ? UnsafePointer(scratch.small.pointer) : inputPointers[b]
                    BlindRotation.switchModulus(small, parameters: p, into: scratch.switched.pointer)
                }
            }
            // 2. Each accumulator set to its table (an O(N) copy, in place from the table's own
            //    storage), then one pass over the bootstrapping key for the whole batch.
            let key = bootstrappingKey.layout
            for b in 0..<count {
                let scratch = ScratchView<T>(scratches[b].buffers)
                table(b).coefficients.withUnsafeBufferPointer {
                    BlindRotation.initializeAccumulator(switchedBody: scratch.switched[key.switchedBodyIndex], lookupTable: $0.baseAddress!,
                                                        key: key, scratch: scratch)
                }
            }
            withExtendedLifetime((bootstrappingKey.storage, fft, used)) {
                kernels.blindRotateBatch(T.width, key: key, tables: fft.tables, buffers: used.map(\.buffers))
            }
            // 3. Sample extraction, output j of every input in round j; for PBS then KS, round
            //    j's outputs are extracted into their scratches and key-switched in one pass over
            //    the key-switching key, through `gathered` (large enough for `count` of them).
            let rounds = (0..<count).map { table($0).outputCount }.max() ?? 0
            for j in 0..<rounds {
                let round = (0..<count).filter { table($0).outputCount > j }
                for b in round {
                    let index = j * table(b).outputSpacing
                    let accumulator = UnsafePointer(scratches[b].accumulator.pointer)
                    switch p.order {
                    case .keySwitchThenBootstrap:
                        outputs[outputStart[b] + j].data.withUnsafeMutableBufferPointer { out in
                            GLWE.extractCoefficient(accumulator, index: index, glweDimension: p.glweDimension,
                                                    polynomialSize: p.polynomialSize, into: out.baseAddress!)
                        }
                    case .bootstrapThenKeySwitch:
                        GLWE.extractCoefficient(accumulator, index: index, glweDimension: p.glweDimension,
                                                polynomialSize: p.polynomialSize, into: scratches[b].small.pointer)
                    }
                }
                if p.order == .bootstrapThenKeySwitch {
                    let outputWidth = p.lweDimension + 1
                    keySwitchingKey.keySwitchBatch(round.map { UnsafePointer(scratches[$0].small.pointer) },
                                                   into: round.indices.map { gathered.pointer + $0 * outputWidth },
                                                   sums: round.map { scratches[$0].keySwitchSums.pointer }, kernels: kernels)
                    for (r, b) in round.enumerated() {
                        outputs[outputStart[b] + j].data.withUnsafeMutableBufferPointer {
                            $0.baseAddress!.update(from: gathered.pointer + r * outputWidth, count: outputWidth)
                        }
                    }
                }
            }
        }
    }
}
