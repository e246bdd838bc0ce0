/// An LWE-to-LWE key-switching key (CGGI 2020 §2.2, Algorithm 1): for every coefficient s_j
/// of the input key and every level v, an LWE encryption under the output key of
/// s_j · q/B^v. Laid out as [input coefficient][level][output dimension + 1], the order in
/// which `keySwitch` streams it.
///
/// The key switch is bound by streaming this key from memory (tens of MB per call), and its
/// output only feeds a switch to Z_2N, so each entry is kept to its top 32 bits (rounded):
/// half the memory traffic, for an added variance kN·l·E[d²]·(1 + n/2)·2^-64/12 that is
/// about 2^-43 on the 64-bit sets, twenty orders of magnitude under the key switch's own
/// noise (see `NoiseModel.keySwitchAddedVariance`). The sums then run in 32-bit arithmetic.
public struct KeySwitchingKey<T: TorusScalar>: Sendable {
    public let inputDimension: Int
    public let outputDimension: Int
    public let decomposition: GadgetDecomposition
    let rows: AlignedBuffer<UInt32>

    init(from input: BinarySecretKey<T>, to output: BinarySecretKey<T>, decomposition: GadgetDecomposition,
         noise: NoiseDistribution, randomness: inout EncryptionRandomness) {
        inputDimension = input.count
        outputDimension = output.count
        self.decomposition = decomposition
        let width = output.count + 1
        rows = AlignedBuffer(count: input.count * decomposition.levelCount * width)
        let full = AlignedBuffer<T>(count: width)
        let drop = T.bitWidth - 32
        for j in 0..<input.count {
            for level in 1...decomposition.levelCount {
                let message = input.pointer[j] &* decomposition.factor(level: level, as: T.self)
                LWE.encrypt(message, key: output.pointer, dimension: output.count, distribution: noise,
                            into: full.pointer, randomness: &randomness)
                let row = rows.pointer + (j * decomposition.levelCount + level - 1) * width
                for t in 0..<width {
                    let rounded = drop == 0 ? full.pointer[t] : (full.pointer[t] &+ (T(1) &<< (drop - 1))) &>> drop
                    row[t] = UInt32(truncatingIfNeeded: rounded)
                }
            }
        }
        full.zeroize()
    }

    /// Memory taken by the key, in bytes.
    public var byteCount: Int { rows.count * MemoryLayout<UInt32>.stride }

    /// output = (0, ..., 0, b) - Σ_j Σ_v d_{j,v} · K_{j,v}, where d_{j,v} are the digits of a_j:
    /// an encryption of the same phase under the output key.
    /// `sum` is scratch space for n + 1 words (a bootstrap's scratch has it).
    func keySwitch(_ input: UnsafePointer<T>, into output: UnsafeMutablePointer<T>, sum: UnsafeMutablePointer<UInt32>) {
        let width = outputDimension + 1
        let levels = decomposition.levelCount
        let drop = T.bitWidth - 32
        do {
            for t in 0..<width { sum[t] = 0 }
            withUnsafeTemporaryAllocation(of: T.SignedScalar.self, capacity: levels) { digits in
                for j in 0..<inputDimension {
                    decomposition.decompose(input[j], into: digits.baseAddress!)
                    for v in 0..<levels {
                        let d = UInt32(truncatingIfNeeded: digits[v])
                        let row = UnsafePointer(rows.pointer + (j * levels + v) * width)
                        for t in 0..<width { sum[t] = sum[t] &- d &* row[t] }
                    }
                }
            }
            for t in 0..<outputDimension { output[t] = T(sum[t]) &<< drop }
            output[outputDimension] = input[inputDimension] &+ (T(sum[outputDimension]) &<< drop)
        }
    }

    /// The key switches of several ciphertexts in one pass over the key: each row is applied
    /// to every ciphertext while it is in cache (the key is tens of MB, the rows 3 KB).
    func keySwitchBatch(_ inputs: [UnsafePointer<T>], into outputs: [UnsafeMutablePointer<T>],
                        sums: [UnsafeMutablePointer<UInt32>]) {
        let width = outputDimension + 1
        let levels = decomposition.levelCount
        let drop = T.bitWidth - 32
        let count = inputs.count
        for b in 0..<count { for t in 0..<width { sums[b][t] = 0 } }
        withUnsafeTemporaryAllocation(of: T.SignedScalar.self, capacity: levels * count) { digits in
            for j in 0..<inputDimension {
                for b in 0..<count { decomposition.decompose(inputs[b][j], into: digits.baseAddress! + b * levels) }
                for v in 0..<levels {
                    let row = UnsafePointer(rows.pointer + (j * levels + v) * width)
                    for b in 0..<count {
                        let d = UInt32(truncatingIfNeeded: digits[b * levels + v])
                        let sum = sums[b]
                        for t in 0..<width { sum[t] = sum[t] &- d &* row[t] }
                    }
                }
            }
        }
        for b in 0..<count {
            for t in 0..<outputDimension { outputs[b][t] = T(sums[b][t]) &<< drop }
            outputs[b][outputDimension] = inputs[b][inputDimension] &+ (T(sums[b][outputDimension]) &<< drop)
        }
    }

    func keySwitch(_ input: UnsafePointer<T>, into output: UnsafeMutablePointer<T>) {
        let sum = AlignedBuffer<UInt32>(count: outputDimension + 1)
        // The buffer must outlive the call that uses its memory (Swift may release a local
        // right after its last use, which here is reading its pointer).
        withExtendedLifetime(sum) { keySwitch(input, into: output, sum: sum.pointer) }
    }
}
