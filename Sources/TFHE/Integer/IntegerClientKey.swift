/// Encryption and decryption of radix integers and boolean blocks with the secret key.
extension ClientKey {
    /// `value` modulo messageModulus^blockCount, one fresh block per digit.
    public func encryptRadix(_ value: UInt64, blockCount: Int, randomness: inout EncryptionRandomness) throws -> RadixCiphertext<T> {
        guard blockCount > 0 else { throw TFHEError.unsupported("a radix ciphertext needs at least one block") }
        let msg = shortintEncoding.messageModulus
        let bits = msg.trailingZeroBitCount
        var v = value
        var blocks: [ShortintCiphertext<T>] = []
        for _ in 0..<blockCount {
            blocks.append(try encryptShortint(v % msg, randomness: &randomness))
            v = v >> bits
        }
        return RadixCiphertext(blocks: blocks)
    }

    public func encryptRadix(_ value: UInt64, blockCount: Int) throws -> RadixCiphertext<T> {
        var randomness = EncryptionRandomness()
        return try encryptRadix(value, blockCount: blockCount, randomness: &randomness)
    }

    /// Σ blockᵢ · messageModulus^i modulo 2^64 (blocks may still hold carries), reduced to the
    /// ciphertext's width.
    public func decryptRadix(_ x: RadixCiphertext<T>) throws -> UInt64 {
        let msg = shortintEncoding.messageModulus
        let bits = msg.trailingZeroBitCount
        var value: UInt64 = 0
        for (i, block) in x.blocks.enumerated() where i * bits < 64 {
            value = value &+ (try decryptMessageAndCarry(block) << UInt64(i * bits))
        }
        let width = x.blockCount * bits
        return width >= 64 ? value : value & ((UInt64(1) << width) - 1)
    }

    /// A boolean as a block holding 0 or 1 (TFHE-rs's `BooleanBlock`).
    public func encryptBooleanBlock(_ value: Bool, randomness: inout EncryptionRandomness) throws -> ShortintCiphertext<T> {
        var block = try encryptShortint(value ? 1 : 0, randomness: &randomness)
        block.degree = 1
        return block
    }

    public func decryptBooleanBlock(_ block: ShortintCiphertext<T>) throws -> Bool {
        try decryptMessageAndCarry(block) % shortintEncoding.messageModulus != 0
    }
}
