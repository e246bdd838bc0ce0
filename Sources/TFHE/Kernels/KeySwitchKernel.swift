import TFHEKernelABI

/// LWE-to-LWE key switching (CGGI 2020 §2.2, Algorithm 1) over a key of 32-bit entries
/// (`KeySwitchingKey` explains the layout and why 32 bits): output = (0, ..., 0, b) -
/// Σ_j Σ_v d_{j,v} · K_{j,v}, where d_{j,v} are the digits of a_j. The sums run in 32-bit
/// arithmetic and are shifted back to the word's top bits.
enum KeySwitch {
    /// One ciphertext; `sum` holds n + 1 words of scratch.
    static func keySwitch<T: TorusScalar>(_ key: KeySwitchLayout, _ input: UnsafePointer<T>, into output: UnsafeMutablePointer<T>,
                                          sum: UnsafeMutablePointer<UInt32>) {
        let width = key.outputDimension + 1
        let levels = key.levelCount
        let decomposition = GadgetDecomposition(baseLog: key.baseLog, levelCount: levels)
        let drop = T.bitWidth - 32
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
        for t in 0..<key.outputDimension { output[t] = T(sum[t]) &<< drop }
        output[key.outputDimension] = input[key.inputDimension] &+ (T(sum[key.outputDimension]) &<< drop)
    }

    /// Several ciphertexts in one pass over the key: each row is applied to every ciphertext
    /// while it is in cache (the key is tens of MB, the rows 3 KB).
    static func keySwitchBatch<T: TorusScalar>(_ key: KeySwitchLayout, _ inputs: [UnsafePointer<T>],
                                               into outputs: [UnsafeMutablePointer<T>], sums: [UnsafeMutablePointer<UInt32>]) {
        let width = key.outputDimension + 1
        let levels = key.levelCount
        let decomposition = GadgetDecomposition(baseLog: key.baseLog, levelCount: levels)
        let drop = T.bitWidth - 32
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
        for b in 0..<count {
            for t in 0..<key.outputDimension { outputs[b][t] = T(sums[b][t]) &<< drop }
            outputs[b][key.outputDimension] = inputs[b][key.inputDimension] &+ (T(sums[b][key.outputDimension]) &<< drop)
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
