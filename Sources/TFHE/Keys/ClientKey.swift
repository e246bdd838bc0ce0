import TFHEKernelABI

/// The secret side: the small LWE key (dimension n) and the GLWE key (k·N coefficients, whose
/// flat reading is the big LWE key). It encrypts and decrypts; it never leaves its owner.
public final class ClientKey<T: TorusScalar>: @unchecked Sendable {
    public let parameters: ParameterSet
    let lweKey: BinarySecretKey<T>
    let glweKey: BinarySecretKey<T>
    let fft: NegacyclicFFT

    /// Generates a key pair's secret side. The same seed gives the same key.
    public init(parameters: ParameterSet, seed: Seed = .random()) throws {
        guard parameters.torusBits == T.bitWidth else {
            throw TFHEError.unsupported("parameter set \(parameters.name) uses a \(parameters.torusBits)-bit torus, not \(T.bitWidth)")
        }
        // Parsing refused such a set already; key generation checks again, as keys outlive files.
        try KeySwitchingKey<T>.validate(decomposition: parameters.keySwitchDecomposition, torusBits: parameters.torusBits)
        self.parameters = parameters
        var generator = AESCTRGenerator(seed: seed)
        if case .blockBinary(let blockSize) = parameters.blindRotation {
            lweKey = BinarySecretKey(count: parameters.lweDimension, blockSize: blockSize, generator: &generator)
        } else {
            lweKey = BinarySecretKey(count: parameters.lweDimension, generator: &generator)
        }
        glweKey = BinarySecretKey(count: parameters.bigLWEDimension, generator: &generator)
        fft = NegacyclicFFT(polynomialSize: parameters.polynomialSize)
    }

    /// A key from its coefficients (deserialization, which checks their count and values).
    init(parameters: ParameterSet, lweKey: BinarySecretKey<T>, glweKey: BinarySecretKey<T>) {
        self.parameters = parameters
        self.lweKey = lweKey
        self.glweKey = glweKey
        fft = NegacyclicFFT(polynomialSize: parameters.polynomialSize)
    }

    /// Key under which ciphertexts between operations are encrypted, and its noise.
    var ciphertextKey: BinarySecretKey<T> { parameters.order == .keySwitchThenBootstrap ? glweKey : lweKey }
    var ciphertextNoise: NoiseDistribution {
        parameters.order == .keySwitchThenBootstrap ? parameters.glweNoise : parameters.lweNoise
    }

    public var lweSecretKeyWeight: Int { lweKey.hammingWeight }

    // MARK: Torus values

    /// Encrypts a torus value (the encoding is the caller's).
    public func encrypt(torus value: T, randomness: inout EncryptionRandomness) -> LWECiphertext<T> {
        let key = ciphertextKey
        var data = [T](repeating: 0, count: key.count + 1)
        data.withUnsafeMutableBufferPointer { out in
            key.withCoefficients {
                LWE.encrypt(value, key: $0.baseAddress!, dimension: key.count, distribution: ciphertextNoise,
                            into: out.baseAddress!, randomness: &randomness)
            }
        }
        return LWECiphertext(data: data, parameterFingerprint: parameters.fingerprint)
    }

    /// The phase μ + e of a ciphertext.
    public func phase(_ ciphertext: LWECiphertext<T>) throws -> T {
        try check(ciphertext)
        let key = ciphertextKey
        return ciphertext.data.withUnsafeBufferPointer { data in
            key.withCoefficients { LWE.phase(data.baseAddress!, key: $0.baseAddress!, dimension: key.count) }
        }
    }

    func check(_ ciphertext: LWECiphertext<T>) throws {
        guard ciphertext.parameterFingerprint == parameters.fingerprint else {
            throw TFHEError.parameterMismatch(expected: parameters.name, found: String(ciphertext.parameterFingerprint, radix: 16))
        }
        guard ciphertext.dimension == parameters.ciphertextDimension else {
            throw TFHEError.dimensionMismatch(expected: parameters.ciphertextDimension, found: ciphertext.dimension)
        }
    }

    // MARK: Integer messages (message and carry bits, one bit of padding)

    /// Number of distinct plaintexts, 2^(message + carry bits).
    public var plaintextModulus: UInt64 { UInt64(1) << (parameters.messageBits + parameters.carryBits) }

    /// Δ = q / (2p): the padding bit sits above the plaintext.
    public var delta: T { T(1) << (T.bitWidth - 1 - parameters.messageBits - parameters.carryBits) }

    public func encrypt(_ message: UInt64, randomness: inout EncryptionRandomness) throws -> LWECiphertext<T> {
        guard message < plaintextModulus else { throw TFHEError.messageOutOfRange(value: message, modulus: plaintextModulus) }
        return encrypt(torus: T(truncatingIfNeeded: message) &* delta, randomness: &randomness)
    }

    public func encrypt(_ message: UInt64) throws -> LWECiphertext<T> {
        var randomness = EncryptionRandomness()
        return try encrypt(message, randomness: &randomness)
    }

    /// Decrypts to round(phase / Δ) mod 2p, dropping the padding bit.
    public func decrypt(_ ciphertext: LWECiphertext<T>) throws -> UInt64 {
        let phase = try self.phase(ciphertext)
        let shift = T.bitWidth - 1 - parameters.messageBits - parameters.carryBits
        let rounded = (phase &+ (T(1) << (shift - 1))) >> shift
        return UInt64(rounded) % plaintextModulus
    }
}

/// A client key never shows its coefficients when printed, logged or dumped.
extension ClientKey: CustomStringConvertible, CustomReflectable {
    public var description: String { "ClientKey(parameters: \(parameters.name), fingerprint: \(String(parameters.fingerprint, radix: 16)))" }
    public var customMirror: Mirror { Mirror(self, children: ["parameters": parameters.name]) }
}
