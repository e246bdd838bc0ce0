import TFHEKernelABI

/// LWE-to-LWE key switching (CGGI 2020 §2.2, Algorithm 1) over a key of 32-bit entries
/// (`KeySwitchingKey` explains the layout and why 32 bits): output = (0, ..., 0, b) -
/// Σ_j Σ_v d_{j,v} · K_{j,v}, where d_{j,v} are the digits of a_j. The sums run in 32-bit
/// arithmetic and are shifted back to the word's top bits, or, for KS32, are the output on 2^32.
enum KeySwitch {
    /// One ciphertext; `sum` holds n + 1 words of scratch.
    static func keySwitch<T: TorusScalar>(_ key: KeySwitchLayout, _ input: UnsafePointer<T>, into output: UnsafeMutablePointer<T>,
                                          sum: UnsafeMutablePointer<UInt32>) {
        accumulate(key, input, into: sum)
        let drop = T.bitWidth - 32
        for t in 0..<key.outputDimension { output[t] = T(sum[t]) &<< drop }
        output[key.outputDimension] = input[key.inputDimension] &+ (T(sum[key.outputDimension]) &<< drop)
    }

    /// KS32 (TFHE-rs 1.x's `keyswitch_lwe_ciphertext_with_scalar_change`, core_crypto/
    /// algorithms/lwe_keyswitch.rs): the key's entries are encryptions on 2^32, so the 32-bit
    /// sums are the output's mask as they stand, and the body is the input's rounded to its
    /// top 32 bits. The output lives on 2^32.
    static func keySwitch32(_ key: KeySwitchLayout, _ input: UnsafePointer<UInt64>, into output: UnsafeMutablePointer<UInt32>) {
        accumulate(key, input, into: output)
        output[key.outputDimension] = bodyTo32(input[key.inputDimension]) &+ output[key.outputDimension]
    }

    /// A 64-bit torus word rounded to its top 32 bits (the closest multiple of 2^32, carried
    /// modulo 2^64), as a word on 2^32.
    @inline(__always)
    static func bodyTo32(_ b: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: (b &+ (1 << 31)) &>> 32) }

    /// sum = -Σ_j Σ_v d_{j,v} · K_{j,v} over the 32-bit key (n + 1 words), the digits d_{j,v}
    /// of a_j taken from the word's top β·l bits.
    @inline(__always)
    static func accumulate<T: TorusScalar>(_ key: KeySwitchLayout, _ input: UnsafePointer<T>, into sum: UnsafeMutablePointer<UInt32>) {
        let width = key.outputDimension + 1
        let levels = key.levelCount
        let decomposition = GadgetDecomposition(baseLog: key.baseLog, levelCount: levels)
        for t in 0..<width { sum[t] = 0 }
        withUnsafeTemporaryAllocation(of: T.SignedScalar.self, capacity: levels) { digits in
            for j in 0..<key.inputDimension {
                decomposition.decompose(input[j], into: digits.baseAddress!)
                for v in 0..<levels {
                    let d = UInt32(truncatingIfNeeded: digits[v])
                    subtractRow(key.rows + (j * levels + v) * width, times: d, from: sum, count: width, prefetching: true)
                }
            }
        }
    }

    /// Several ciphertexts in one pass over the key: each row is applied to every ciphertext
    /// while it is in cache (the key is tens of MB, the rows 3 KB).
    static func keySwitchBatch<T: TorusScalar>(_ key: KeySwitchLayout, _ inputs: [UnsafePointer<T>],
                                               into outputs: [UnsafeMutablePointer<T>], sums: [UnsafeMutablePointer<UInt32>]) {
        accumulateBatch(key, inputs, into: sums)
        let drop = T.bitWidth - 32
        for b in 0..<inputs.count {
            for t in 0..<key.outputDimension { outputs[b][t] = T(sums[b][t]) &<< drop }
            outputs[b][key.outputDimension] = inputs[b][key.inputDimension] &+ (T(sums[b][key.outputDimension]) &<< drop)
        }
    }

    /// `keySwitch32` of several ciphertexts in one pass over the key.
    static func keySwitchBatch32(_ key: KeySwitchLayout, _ inputs: [UnsafePointer<UInt64>], into outputs: [UnsafeMutablePointer<UInt32>]) {
        accumulateBatch(key, inputs, into: outputs)
        for b in 0..<inputs.count {
            outputs[b][key.outputDimension] = bodyTo32(inputs[b][key.inputDimension]) &+ outputs[b][key.outputDimension]
        }
    }

    @inline(__always)
    static func accumulateBatch<T: TorusScalar>(_ key: KeySwitchLayout, _ inputs: [UnsafePointer<T>],
                                                into sums: [UnsafeMutablePointer<UInt32>]) {
        let width = key.outputDimension + 1
        let levels = key.levelCount
        let decomposition = GadgetDecomposition(baseLog: key.baseLog, levelCount: levels)
        let count = inputs.count
        for b in 0..<count { for t in 0..<width { sums[b][t] = 0 } }
        withUnsafeTemporaryAllocation(of: T.SignedScalar.self, capacity: levels * count) { digits in
            for j in 0..<key.inputDimension {
                for b in 0..<count { decomposition.decompose(inputs[b][j], into: digits.baseAddress! + b * levels) }
                for v in 0..<levels {
                    let row = key.rows + (j * levels + v) * width
                    for b in 0..<count {
                        let d = UInt32(truncatingIfNeeded: digits[b * levels + v])
                        // The first ciphertext asks for the key ahead; the others find the row in L1.
                        subtractRow(row, times: d, from: sums[b], count: width, prefetching: b == 0)
                    }
                }
            }
        }
    }

    /// sum -= d·row over `count` words, 16 at a time, asking for the key 4 KB ahead of the
    /// loads: a key switch streams its key from memory (tens of MB) and the hardware
    /// prefetcher alone keeps fewer lines in flight (12 against 15 GB/s on a Xeon core).
    @inline(__always)
    static func subtractRow(_ row: UnsafePointer<UInt32>, times d: UInt32, from sum: UnsafeMutablePointer<UInt32>, count: Int,
                            prefetching: Bool) {
        typealias Lanes = SIMD16<UInt32>
        let factor = Lanes(repeating: d)
        var t = 0
        while t &+ Lanes.scalarCount <= count {
            if prefetching { prefetchLineIntoL2(UnsafeRawPointer(row + t + 1024)) }
            let s = UnsafeRawPointer(sum + t).loadUnaligned(as: Lanes.self)
            let r = UnsafeRawPointer(row + t).loadUnaligned(as: Lanes.self)
            UnsafeMutableRawPointer(sum + t).storeBytes(of: s &- factor &* r, as: Lanes.self)
            t &+= Lanes.scalarCount
        }
        while t < count { sum[t] = sum[t] &- d &* row[t]; t &+= 1 }
    }
}
