/// An LWE-to-LWE key-switching key (CGGI 2020 §2.2, Algorithm 1): for every coefficient s_j
/// of the input key and every level v, an LWE encryption under the output key of
/// s_j · q/B^v. Laid out as [input coefficient][level][output dimension + 1], the order in
/// which `keySwitch` streams it.
public struct KeySwitchingKey<T: TorusScalar>: Sendable {
    public let inputDimension: Int
    public let outputDimension: Int
    public let decomposition: GadgetDecomposition
    let rows: AlignedBuffer<T>

    init(from input: BinarySecretKey<T>, to output: BinarySecretKey<T>, decomposition: GadgetDecomposition,
         noise: NoiseDistribution, randomness: inout EncryptionRandomness) {
        inputDimension = input.count
        outputDimension = output.count
        self.decomposition = decomposition
        let width = output.count + 1
        rows = AlignedBuffer(count: input.count * decomposition.levelCount * width)
        for j in 0..<input.count {
            for level in 1...decomposition.levelCount {
                let message = input.pointer[j] &* decomposition.factor(level: level, as: T.self)
                let row = rows.pointer + (j * decomposition.levelCount + level - 1) * width
                LWE.encrypt(message, key: output.pointer, dimension: output.count, distribution: noise,
                            into: row, randomness: &randomness)
            }
        }
    }

    /// Memory taken by the key, in bytes.
    public var byteCount: Int { rows.count * MemoryLayout<T>.stride }

    /// output = (0, ..., 0, b) - Σ_j Σ_v d_{j,v} · K_{j,v}, where d_{j,v} are the digits of a_j:
    /// an encryption of the same phase under the output key.
    func keySwitch(_ input: UnsafePointer<T>, into output: UnsafeMutablePointer<T>) {
        let width = outputDimension + 1
        let levels = decomposition.levelCount
        for t in 0..<outputDimension { output[t] = 0 }
        output[outputDimension] = input[inputDimension]
        withUnsafeTemporaryAllocation(of: T.SignedScalar.self, capacity: levels) { digits in
            for j in 0..<inputDimension {
                decomposition.decompose(input[j], into: digits.baseAddress!)
                for v in 0..<levels {
                    let d = T(truncatingIfNeeded: digits[v])
                    if d == 0 { continue }
                    let row = UnsafePointer(rows.pointer + (j * levels + v) * width)
                    for t in 0..<width { output[t] = output[t] &- d &* row[t] }
                }
            }
        }
    }
}
