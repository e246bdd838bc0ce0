/// Encryption and decryption of shortint blocks with the secret key.
extension ClientKey {
    public var shortintEncoding: ShortintEncoding { ShortintEncoding(parameters: parameters) }

    /// A fresh block of a message in 0..<messageModulus: degree = message bound, noise level 1
    /// (a fresh encryption's noise is below a bootstrap's output noise on TFHE-rs's sets).
    public func encryptShortint(_ message: UInt64, randomness: inout EncryptionRandomness) throws -> ShortintCiphertext<T> {
        let encoding = shortintEncoding
        guard message < encoding.messageModulus else {
            throw TFHEError.messageOutOfRange(value: message, modulus: encoding.messageModulus)
        }
        let lwe = try encrypt(message, randomness: &randomness)
        return ShortintCiphertext(lwe: lwe, degree: encoding.messageModulus - 1, noiseLevel: 1)
    }

    public func encryptShortint(_ message: UInt64) throws -> ShortintCiphertext<T> {
        var randomness = EncryptionRandomness()
        return try encryptShortint(message, randomness: &randomness)
    }

    /// Message and carry together, 0..<plaintextModulus.
    public func decryptMessageAndCarry(_ block: ShortintCiphertext<T>) throws -> UInt64 {
        try decrypt(block.lwe)
    }

    /// The block's value modulo the message modulus (its carries belong to the next block).
    public func decryptShortint(_ block: ShortintCiphertext<T>) throws -> UInt64 {
        try decryptMessageAndCarry(block) % shortintEncoding.messageModulus
    }
}
