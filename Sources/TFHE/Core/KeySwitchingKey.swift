import TFHEKernelABI

/// An LWE-to-LWE key-switching key (CGGI 2020 §2.2, Algorithm 1): for every coefficient s_j
/// of the input key and every level v, an LWE encryption under the output key of
/// s_j · q/B^v. Laid out as [input coefficient][level][output dimension + 1], the order in
/// which `keySwitch` streams it.
///
/// The key switch is bound by streaming this key from memory (tens of MB per call), and its
/// output only feeds a switch to Z_2N, so each entry is kept to its top 32 bits (rounded):
/// half the memory traffic, for an added variance kN·l·E[d²]·(1 + n/2)·2^-64/12. This is a
/// deviation from TFHE-rs, whose key switch on the 64-bit sets keeps 64-bit entries: the
/// added variance is 2^-41.3 on the TUniform 2M128 set, 2^19.3 below the key switch's own
/// 2^-22.0 (2^-43.0, 2^21.4 below, on the Gaussian 2M128 set; 2^22.8 below on the 2M64 set),
/// so it moves their p-fail by far less than its last stated digit; `NoiseModel` counts it
/// (`keySwitchAddedVariance`). The sums then run in 32-bit arithmetic.
///
/// A level v holds s_j·q/B^v, which the 32 kept bits can carry only while β·v ≤ 32: a
/// decomposition reaching further would store its last levels as pure rounding noise, so it
/// is refused (`validate(decomposition:torusBits:)`, at parameter validation and key
/// generation).
public struct KeySwitchingKey<T: TorusScalar>: Sendable {
    /// Bits kept of each entry.
    public static var entryBits: Int { 32 }

    /// Refuses a decomposition whose levels reach past the bits the key keeps.
    public static func validate(decomposition g: GadgetDecomposition, torusBits: Int) throws {
        guard g.baseLog * g.levelCount <= min(torusBits, entryBits) else {
            throw ParameterError.invalidField(
                "ks.level", reason: "base_log x level = \(g.baseLog * g.levelCount) reaches past the \(entryBits) bits that "
                    + "this engine's key-switching key keeps of each entry (a level past them would hold only rounding noise)")
        }
    }

    public let inputDimension: Int
    public let outputDimension: Int
    public let decomposition: GadgetDecomposition
    let rows: AlignedBuffer<UInt32>

    init(from input: BinarySecretKey<T>, to output: BinarySecretKey<T>, decomposition: GadgetDecomposition,
         noise: NoiseDistribution, randomness: inout EncryptionRandomness) {
        let full = AlignedBuffer<T>(count: output.count + 1)
        self.init(inputDimension: input.count, outputDimension: output.count, decomposition: decomposition) { row, j, level in
            Self.encryptRow(row, inputCoefficient: input[j], level: level, outputKey: output,
                            decomposition: decomposition, noise: noise, scratch: full.pointer, randomness: &randomness)
        }
        full.zeroize()
    }

    /// Entry (j, level): an LWE encryption of s_j · q/B^level under the output key, each word
    /// rounded to 32 bits. Its mask is the next `outputKey.count` words of `randomness.mask`.
    static func encryptRow(_ row: UnsafeMutablePointer<UInt32>, inputCoefficient: T, level: Int,
                           outputKey: BinarySecretKey<T>, decomposition: GadgetDecomposition, noise: NoiseDistribution,
                           scratch full: UnsafeMutablePointer<T>, randomness: inout EncryptionRandomness) {
        let message = inputCoefficient &* decomposition.factor(level: level, as: T.self)
        outputKey.withCoefficients {
            LWE.encrypt(message, key: $0.baseAddress!, dimension: outputKey.count, distribution: noise,
                        into: full, randomness: &randomness)
        }
        for t in 0...outputKey.count { row[t] = roundedToKeyWord(full[t]) }
    }

    /// The top 32 bits of a torus word, rounded: how the key stores its entries.
    @inline(__always)
    static func roundedToKeyWord(_ x: T) -> UInt32 {
        let drop = T.bitWidth - 32
        return UInt32(truncatingIfNeeded: drop == 0 ? x : (x &+ (T(1) &<< (drop - 1))) &>> drop)
    }

    /// Builds the key entry by entry: `fillRow(row, j, level)` writes the n + 1 words of entry
    /// (j, level), asked for in key order (the order in which their masks were drawn).
    init(inputDimension: Int, outputDimension: Int, decomposition: GadgetDecomposition,
         fillRow: (UnsafeMutablePointer<UInt32>, Int, Int) -> Void) {
        self.inputDimension = inputDimension
        self.outputDimension = outputDimension
        self.decomposition = decomposition
        let width = outputDimension + 1
        rows = AlignedBuffer(count: inputDimension * decomposition.levelCount * width)
        for j in 0..<inputDimension {
            for level in 1...decomposition.levelCount {
                fillRow(rows.pointer + (j * decomposition.levelCount + level - 1) * width, j, level)
            }
        }
    }

    /// A key read back from its words (deserialization; shapes checked there).
    init(inputDimension: Int, outputDimension: Int, decomposition: GadgetDecomposition, rows: AlignedBuffer<UInt32>) {
        self.inputDimension = inputDimension
        self.outputDimension = outputDimension
        self.decomposition = decomposition
        self.rows = rows
    }

    /// Memory taken by the key, in bytes.
    public var byteCount: Int { rows.count * MemoryLayout<UInt32>.stride }

    /// The kernels' view of the key (valid while the key lives).
    var layout: KeySwitchLayout {
        KeySwitchLayout(rows: UnsafePointer(rows.pointer), inputDimension: inputDimension, outputDimension: outputDimension,
                        baseLog: decomposition.baseLog, levelCount: decomposition.levelCount)
    }

    /// output = (0, ..., 0, b) - Σ_j Σ_v d_{j,v} · K_{j,v}, where d_{j,v} are the digits of a_j:
    /// an encryption of the same phase under the output key (Kernels/KeySwitchKernel.swift).
    /// `sum` is scratch space for n + 1 words (a bootstrap's scratch has it).
    func keySwitch(_ input: UnsafePointer<T>, into output: UnsafeMutablePointer<T>, sum: UnsafeMutablePointer<UInt32>,
                   kernels: any EngineKernelSet) {
        withExtendedLifetime(rows) {
            kernels.keySwitch(T.width, key: layout, input: UnsafeRawPointer(input), output: UnsafeMutableRawPointer(output), sums: sum)
        }
    }

    /// The key switches of several ciphertexts in one pass over the key.
    func keySwitchBatch(_ inputs: [UnsafePointer<T>], into outputs: [UnsafeMutablePointer<T>],
                        sums: [UnsafeMutablePointer<UInt32>], kernels: any EngineKernelSet) {
        withExtendedLifetime(rows) {
            kernels.keySwitchBatch(T.width, key: layout, inputs: inputs.map { UnsafeRawPointer($0) },
                                   outputs: outputs.map { UnsafeMutableRawPointer($0) }, sums: sums)
        }
    }

    func keySwitch(_ input: UnsafePointer<T>, into output: UnsafeMutablePointer<T>, kernels: any EngineKernelSet) {
        let sum = AlignedBuffer<UInt32>(count: outputDimension + 1)
        // The buffer must outlive the call that uses its memory (Swift may release a local
        // right after its last use, which here is reading its pointer).
        withExtendedLifetime(sum) { keySwitch(input, into: output, sum: sum.pointer, kernels: kernels) }
    }
}
