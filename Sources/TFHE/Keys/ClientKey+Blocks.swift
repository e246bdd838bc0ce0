/// Seeded and block-list encryption with the client key.
extension ClientKey {
    /// Encrypts into the seeded form: the mask comes from `seed`'s mask stream, the noise from
    /// its (secret) noise stream. `decompress()` gives the ciphertext `encrypt(_:randomness:)`
    /// makes with `EncryptionRandomness(seed: seed)`. A seed given here must never be used twice:
    /// the same seed gives the same noise.
    public func encryptSeeded(_ message: UInt64, seed: Seed = .random()) throws -> SeededLWECiphertext<T> {
        var randomness = EncryptionRandomness(seed: seed)
        let full = try encrypt(message, randomness: &randomness)
        return SeededLWECiphertext(maskSeed: randomness.maskSeed, body: full.body, dimension: full.dimension,
                                   parameterFingerprint: parameters.fingerprint)
    }

    /// Encrypts one message per block, with the given degrees (default: the plaintext modulus
    /// minus one, which says nothing about the messages).
    public func encrypt(blocks messages: [UInt64], degrees: [UInt64]? = nil) throws -> BlockCiphertextList<T> {
        var randomness = EncryptionRandomness()
        let blocks = try messages.map { try encrypt($0, randomness: &randomness) }
        return BlockCiphertextList(checkedBlocks: blocks, degrees: try checkedDegrees(degrees, count: messages.count))
    }

    public func encryptSeeded(blocks messages: [UInt64], degrees: [UInt64]? = nil,
                              seed: Seed = .random()) throws -> SeededBlockCiphertextList<T> {
        var randomness = EncryptionRandomness(seed: seed)
        let bodies = try messages.map { try encrypt($0, randomness: &randomness).body }
        return try SeededBlockCiphertextList(maskSeed: randomness.maskSeed, bodies: bodies,
                                         degrees: try checkedDegrees(degrees, count: messages.count),
                                         dimension: parameters.ciphertextDimension, parameterFingerprint: parameters.fingerprint)
    }

    public func decrypt(blocks list: BlockCiphertextList<T>) throws -> [UInt64] {
        try list.blocks.map { try decrypt($0) }
    }

    func checkedDegrees(_ degrees: [UInt64]?, count: Int) throws -> [UInt64] {
        guard let degrees else { return [UInt64](repeating: plaintextModulus - 1, count: count) }
        guard degrees.count == count else { throw TFHEError.unsupported("\(degrees.count) degrees for \(count) blocks") }
        for d in degrees where d >= plaintextModulus { throw TFHEError.messageOutOfRange(value: d, modulus: plaintextModulus) }
        return degrees
    }
}
