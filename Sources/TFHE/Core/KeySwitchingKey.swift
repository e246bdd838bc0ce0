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
///
/// KS32 sets (`ParameterSet.usesKeySwitch32`, TFHE-rs's KeySwitch32 atomic pattern) use the
/// same layout and kernel with other entries: each is an encryption on 2^32 itself (of
/// s_j·2^32/B^v, noise `lwe_noise` on 2^32), not a 64-bit one rounded, and the output is the
/// small LWE on 2^32 (`keySwitch32`), whose body is the input's rounded to 32 bits
/// (TFHE-rs 1.7, core_crypto/algorithms/lwe_keyswitch.rs, `keyswitch_lwe_ciphertext_with_scalar_change`).
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
    /// log2 of the modulus the output lives on: the input's word, or 32 for KS32
    /// (`ParameterSet.postKeySwitchModulusBits`).
    public let outputModulusBits: Int
    let rows: AlignedBuffer<UInt32>

    /// True when the entries are encryptions on 2^32 and the output is a 32-bit LWE.
    public var isKeySwitch32: Bool { outputModulusBits < T.bitWidth }

    init(from input: BinarySecretKey<T>, to output: BinarySecretKey<T>, parameters p: ParameterSet,
         randomness: inout EncryptionRandomness) {
        let encryptor = EntryEncryptor(outputKey: output, parameters: p)
        self.init(inputDimension: input.count, outputDimension: output.count, decomposition: p.keySwitchDecomposition,
                  outputModulusBits: p.postKeySwitchModulusBits) { row, j, level in
            encryptor.encrypt(row, inputCoefficient: input[j], level: level, randomness: &randomness)
        }
        encryptor.zeroize()
    }

    /// Encrypts the key's entries one by one, for the full key and the compressed one alike.
    /// Entry (j, level) is an LWE encryption of s_j · q/B^level under the output key: on the
    /// input's torus with each word rounded to 32 bits, or (KS32) on 2^32 directly. Its mask is
    /// the next `outputKey.count` words of `randomness.mask` (one 64-bit draw each).
    struct EntryEncryptor {
        let outputKey: BinarySecretKey<T>
        /// KS32: the output key's coefficients as words on 2^32 (a wiped secret buffer).
        let outputKey32: BinarySecretKey<UInt32>?
        let decomposition: GadgetDecomposition
        let noise: NoiseDistribution
        /// One entry on the input's torus, before its words are rounded.
        let full: AlignedBuffer<T>

        init(outputKey: BinarySecretKey<T>, parameters p: ParameterSet) {
            self.outputKey = outputKey
            outputKey32 = p.usesKeySwitch32 ? BinarySecretKey<UInt32>(count: outputKey.count) { UInt32(truncatingIfNeeded: outputKey[$0]) } : nil
            decomposition = p.keySwitchDecomposition
            noise = p.lweNoise
            full = AlignedBuffer<T>(count: p.usesKeySwitch32 ? 0 : outputKey.count + 1)
        }

        func encrypt(_ row: UnsafeMutablePointer<UInt32>, inputCoefficient: T, level: Int, randomness: inout EncryptionRandomness) {
            let n = outputKey.count
            if let key32 = outputKey32 {
                let message = UInt32(truncatingIfNeeded: inputCoefficient) &* decomposition.factor(level: level, as: UInt32.self)
                key32.withCoefficients {
                    LWE.encrypt(message, key: $0.baseAddress!, dimension: n, distribution: noise, into: row, randomness: &randomness)
                }
                return
            }
            let message = inputCoefficient &* decomposition.factor(level: level, as: T.self)
            outputKey.withCoefficients {
                LWE.encrypt(message, key: $0.baseAddress!, dimension: n, distribution: noise, into: full.pointer, randomness: &randomness)
            }
            for t in 0...n { row[t] = roundedToKeyWord(full.pointer[t]) }
        }

        func zeroize() { full.zeroize() }
    }

    /// A mask word of an entry, from one draw of the mask stream, as the key stores it: the
    /// top 32 bits rounded, or (KS32) a uniform word on 2^32 (what `LWE.encrypt` draws there).
    static func maskWord(_ generator: inout AESCTRGenerator, keySwitch32: Bool) -> UInt32 {
        keySwitch32 ? generator.uniformTorus(UInt32.self) : roundedToKeyWord(generator.uniformTorus(T.self))
    }

    /// The top 32 bits of a torus word, rounded: how the key stores its entries.
    @inline(__always)
    static func roundedToKeyWord(_ x: T) -> UInt32 {
        let drop = T.bitWidth - 32
        return UInt32(truncatingIfNeeded: drop == 0 ? x : (x &+ (T(1) &<< (drop - 1))) &>> drop)
    }

    /// Builds the key entry by entry: `fillRow(row, j, level)` writes the n + 1 words of entry
    /// (j, level), asked for in key order (the order in which their masks were drawn).
    init(inputDimension: Int, outputDimension: Int, decomposition: GadgetDecomposition, outputModulusBits: Int,
         fillRow: (UnsafeMutablePointer<UInt32>, Int, Int) -> Void) {
        self.inputDimension = inputDimension
        self.outputDimension = outputDimension
        self.decomposition = decomposition
        self.outputModulusBits = outputModulusBits
        let width = outputDimension + 1
        rows = AlignedBuffer(count: inputDimension * decomposition.levelCount * width)
        for j in 0..<inputDimension {
            for level in 1...decomposition.levelCount {
                fillRow(rows.pointer + (j * decomposition.levelCount + level - 1) * width, j, level)
            }
        }
    }

    /// A key read back from its words (deserialization; shapes checked there).
    init(inputDimension: Int, outputDimension: Int, decomposition: GadgetDecomposition, outputModulusBits: Int,
         rows: AlignedBuffer<UInt32>) {
        self.inputDimension = inputDimension
        self.outputDimension = outputDimension
        self.decomposition = decomposition
        self.outputModulusBits = outputModulusBits
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
        assert(!isKeySwitch32, "a KS32 key outputs 32-bit words: keySwitch32")
        withExtendedLifetime(rows) {
            kernels.keySwitch(T.width, key: layout, input: UnsafeRawPointer(input), output: UnsafeMutableRawPointer(output), sums: sum)
        }
    }

    /// The key switches of several ciphertexts in one pass over the key.
    func keySwitchBatch(_ inputs: [UnsafePointer<T>], into outputs: [UnsafeMutablePointer<T>],
                        sums: [UnsafeMutablePointer<UInt32>], kernels: any EngineKernelSet) {
        assert(!isKeySwitch32, "a KS32 key outputs 32-bit words: keySwitchBatch32")
        withExtendedLifetime(rows) {
            kernels.keySwitchBatch(T.width, key: layout, inputs: inputs.map { UnsafeRawPointer($0) },
                                   outputs: outputs.map { UnsafeMutableRawPointer($0) }, sums: sums)
        }
    }

    /// KS32: the input (64-bit, dimension kN) to the small LWE on 2^32, n + 1 words.
    func keySwitch32(_ input: UnsafePointer<T>, into output: UnsafeMutablePointer<UInt32>, kernels: any EngineKernelSet) {
        precondition(isKeySwitch32 && T.bitWidth == 64, "a KS32 key switch needs a KS32 key on a 64-bit torus (ParameterSet)")
        withExtendedLifetime(rows) {
            kernels.keySwitch32(key: layout, input: UnsafeRawPointer(input).assumingMemoryBound(to: UInt64.self), output: output)
        }
    }

    /// The KS32 key switches of several ciphertexts in one pass over the key.
    func keySwitchBatch32(_ inputs: [UnsafePointer<T>], into outputs: [UnsafeMutablePointer<UInt32>], kernels: any EngineKernelSet) {
        precondition(isKeySwitch32 && T.bitWidth == 64, "a KS32 key switch needs a KS32 key on a 64-bit torus (ParameterSet)")
        withExtendedLifetime(rows) {
            kernels.keySwitchBatch32(key: layout, inputs: inputs.map { UnsafeRawPointer($0).assumingMemoryBound(to: UInt64.self) },
                                     outputs: outputs)
        }
    }

    func keySwitch(_ input: UnsafePointer<T>, into output: UnsafeMutablePointer<T>, kernels: any EngineKernelSet) {
        let sum = AlignedBuffer<UInt32>(count: outputDimension + 1)
        // The buffer must outlive the call that uses its memory (Swift may release a local
        // right after its last use, which here is reading its pointer).
        withExtendedLifetime(sum) { keySwitch(input, into: output, sum: sum.pointer, kernels: kernels) }
    }
}
