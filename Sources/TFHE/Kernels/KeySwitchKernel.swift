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
                    let row = key.rows + (j * levels + v) * width
                    for t in 0..<width { sum[t] = sum[t] &- d &* row[t] }
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
                        let sum = sums[b]
                        for t in 0..<width { sum[t] = sum[t] &- d &* row[t] }
                    }
                }
            }
        }
        for b in 0..<count {
            for t in 0..<key.outputDimension { outputs[b][t] = T(sums[b][t]) &<< drop }
            outputs[b][key.outputDimension] = inputs[b][key.inputDimension] &+ (T(sums[b][key.outputDimension]) &<< drop)
        }
    }
}
