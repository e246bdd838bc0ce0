import TFHEKernelABI

/// A server key with its random masks replaced by the 128-bit seed they were drawn from (the
/// "seeded" keys of TFHE-rs): every GLWE row of the bootstrapping key and every LWE entry of
/// the key-switching key keeps only its body, and `decompress()` redraws the masks from the
/// seed, in the order key generation drew them, to rebuild exactly the key `ServerKey(clientKey:
/// seed:)` makes from the same seed.
///
/// Masks are public and uniform, so publishing the seed of the mask stream reveals nothing
/// more than the masks themselves; the noise comes from a separate stream whose seed stays
/// secret (`EncryptionRandomness`). On a k = 1 set this halves the bootstrapping key and
/// shrinks the key-switching key to kN·l words.
public struct CompressedServerKey<T: TorusScalar>: Sendable {
    public let parameters: ParameterSet
    /// Seed of the mask stream of the whole key (bootstrapping key first, then key switching).
    public let maskSeed: Seed
    /// The body polynomial of every GGSW row in key order (i, c, v): n·(k+1)·l polynomials of N words.
    let bootstrappingKeyBodies: [T]
    /// The body of every key-switching entry (j, level), rounded to 32 bits as the key stores it
    /// (KS32: the entry's body on 2^32).
    let keySwitchingKeyBodies: [UInt32]

    /// Generates the compressed server key of a client key; `decompress()` of it equals
    /// `ServerKey(clientKey: clientKey, seed: seed)`.
    public init(clientKey: ClientKey<T>, seed: Seed = .random()) {
        let p = clientKey.parameters
        parameters = p
        var randomness = EncryptionRandomness(seed: seed)
        maskSeed = randomness.maskSeed
        let n = p.polynomialSize, k = p.glweDimension, levels = p.bootstrapDecomposition.levelCount
        let products = BinaryProductEngine(fft: clientKey.fft)
        let row = AlignedBuffer<T>(count: (k + 1) * n)
        var bodies = [T](repeating: 0, count: Self.bootstrappingBodyCount(p))
        bodies.withUnsafeMutableBufferPointer { out in
            var index = 0
            for i in 0..<p.blindRotation.ggswCount(lweDimension: p.lweDimension) {
                let bit = FourierBootstrappingKey.ggswPlaintext(i, method: p.blindRotation, lweKey: clientKey.lweKey)
                for c in 0...k {
                    for v in 1...levels {
                        FourierBootstrappingKey.encryptRow(
                            row.pointer, bit: bit, column: c, level: v, glweKey: clientKey.glweKey,
                            glweDimension: k, products: products, decomposition: p.bootstrapDecomposition,
                            noise: p.glweNoise, randomness: &randomness)
                        (out.baseAddress! + index * n).update(from: row.pointer + k * n, count: n)
                        index += 1
                    }
                }
            }
        }
        row.zeroize()
        bootstrappingKeyBodies = bodies

        let ksLevels = p.keySwitchDecomposition.levelCount, width = p.lweDimension + 1
        let encryptor = KeySwitchingKey<T>.EntryEncryptor(outputKey: clientKey.lweKey, parameters: p)
        let entry = AlignedBuffer<UInt32>(count: width)
        var keySwitchBodies = [UInt32](repeating: 0, count: Self.keySwitchingBodyCount(p))
        for j in 0..<p.bigLWEDimension {
            for level in 1...ksLevels {
                encryptor.encrypt(entry.pointer, inputCoefficient: clientKey.glweKey[j], level: level, randomness: &randomness)
                keySwitchBodies[j * ksLevels + level - 1] = entry.pointer[p.lweDimension]
            }
        }
        encryptor.zeroize()
        keySwitchingKeyBodies = keySwitchBodies
    }

    /// A key read back from its parts (deserialization checks the counts).
    init(parameters: ParameterSet, maskSeed: Seed, bootstrappingKeyBodies: [T], keySwitchingKeyBodies: [UInt32]) {
        precondition(bootstrappingKeyBodies.count == Self.bootstrappingBodyCount(parameters)
                     && keySwitchingKeyBodies.count == Self.keySwitchingBodyCount(parameters), "checked by the reader")
        self.parameters = parameters
        self.maskSeed = maskSeed
        self.bootstrappingKeyBodies = bootstrappingKeyBodies
        self.keySwitchingKeyBodies = keySwitchingKeyBodies
    }

    static func bootstrappingBodyCount(_ p: ParameterSet) -> Int {
        p.blindRotation.ggswCount(lweDimension: p.lweDimension) * (p.glweDimension + 1) * p.bootstrapDecomposition.levelCount
            * p.polynomialSize
    }

    static func keySwitchingBodyCount(_ p: ParameterSet) -> Int { p.bigLWEDimension * p.keySwitchDecomposition.levelCount }

    /// Redraws the masks from the seed and rebuilds the Fourier-domain server key.
    public func decompress() -> ServerKey<T> {
        let p = parameters
        let n = p.polynomialSize, k = p.glweDimension, levels = p.bootstrapDecomposition.levelCount
        var mask = AESCTRGenerator(seed: maskSeed)
        let fft = NegacyclicFFT(polynomialSize: n)
        let bootstrappingKey = bootstrappingKeyBodies.withUnsafeBufferPointer { bodies in
            FourierBootstrappingKey(inputDimension: p.lweDimension, method: p.blindRotation, glweDimension: k, fft: fft,
                                    decomposition: p.bootstrapDecomposition) { (row: UnsafeMutablePointer<T>, i: Int, c: Int, v: Int) in
                for j in 0..<(k * n) { row[j] = mask.uniformTorus() }
                let index = (i * (k + 1) + c) * levels + (v - 1)
                (row + k * n).update(from: bodies.baseAddress! + index * n, count: n)
            }
        }
        let ksLevels = p.keySwitchDecomposition.levelCount
        let keySwitchingKey = keySwitchingKeyBodies.withUnsafeBufferPointer { bodies in
            KeySwitchingKey<T>(inputDimension: p.bigLWEDimension, outputDimension: p.lweDimension,
                               decomposition: p.keySwitchDecomposition, outputModulusBits: p.postKeySwitchModulusBits) { row, j, level in
                for t in 0..<p.lweDimension { row[t] = KeySwitchingKey<T>.maskWord(&mask, keySwitch32: p.usesKeySwitch32) }
                row[p.lweDimension] = bodies[j * ksLevels + level - 1]
            }
        }
        return ServerKey(parameters: p, bootstrappingKey: bootstrappingKey, keySwitchingKey: keySwitchingKey, fft: fft)
    }
}
