/// The compact public key of Joye, "TFHE Public-Key Encryption Revisited" (CT-RSA 2024,
/// eprint 2023/603), the one TFHE-rs's `CompactPublicKey` implements: a single GLWE
/// encryption of zero, (A_1..A_k, B = Σ A_j·S_j + E), under the GLWE key whose flattened
/// coefficients are the key ciphertexts live under (the "big" key of a KS-then-PBS set).
///
/// To encrypt μ, draw a binary polynomial R and errors E'_j, e'' and form the GLWE
/// (C_j = A_j·R + E'_j, D = B·R + e'' + μ); the LWE ciphertext of its constant coefficient
/// (sample extraction) decrypts under the flat key to
///     μ + (E·R)[0] + e'' - Σ_j (E'_j·S_j)[0],
/// whose variance is σ²·((k+1)·N/2 + 1) for binary R and S (see
/// `NoiseModel.publicKeyEncryptionVariance`). On TFHE-rs's 2_2 sets (k = 1, N = 2048, the GLWE
/// noise TUniform(2^17)) that is about 2^-83.6, far under the variance of a bootstrapped
/// ciphertext (2^-30 and up), so a public-key encryption decrypts and bootstraps at least as
/// reliably as the set's own ciphertexts.
///
/// Security: the key is one more RLWE sample under the GLWE key, with the GLWE key's own
/// dimension and noise (the bootstrapping key already publishes n·(k+1)·l of them), and an
/// encryption is indistinguishable from uniform under RLWE with the binary secret R in the same
/// ring and noise. TFHE-rs publishes compact-PKE sets for its 2_2 parameters
/// (`PARAM_PKE_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128` and its versions) at the same
/// encryption dimension, 2048, with TUniform noise of bound 2^16 in the variant we read; here
/// the bound is the compute set's 2^17 (more noise at the same dimension, so no weaker). TFHE-rs
/// uses a dedicated secret key for it and a "casting" key switch to the compute key; we encrypt
/// under the compute set's big key directly (TFHE-rs's earlier "compact PK, big key" sets), so
/// no casting key is needed. Only KS-then-PBS sets qualify.
///
/// The classical LWE public key (Regev, STOC 2005, §5; Joye, eprint 2021/1402, Appendix A)
/// needs m ≥ (kN+1)·log2 q + 128 encryptions of zero for the leftover hash lemma to make a
/// subset sum of them uniform: 131,264 × 2,049 words, 2.1 GB, on the 2_2 set. This key is
/// (k+1)·N words, 32 KB (16 KB seeded).
public final class PublicKey<T: TorusScalar>: @unchecked Sendable {
    public let parameters: ParameterSet
    /// A_1..A_k then B, N words each.
    let polynomials: [T]
    let fft: NegacyclicFFT

    /// Makes the public key of a client key. `seed` fixes its randomness; the masks A_j are the
    /// first k·N words of the mask stream of `EncryptionRandomness(seed:)`.
    public convenience init(clientKey: ClientKey<T>, seed: Seed = .random()) throws {
        let p = clientKey.parameters
        try PublicKey<T>.checkSupported(p)
        var randomness = EncryptionRandomness(seed: seed)
        var polynomials = [T](repeating: 0, count: (p.glweDimension + 1) * p.polynomialSize)
        polynomials.withUnsafeMutableBufferPointer {
            GLWE.encrypt(nil, key: clientKey.glweKey, glweDimension: p.glweDimension,
                         products: BinaryProductEngine(fft: clientKey.fft), distribution: p.glweNoise,
                         into: $0.baseAddress!, randomness: &randomness)
        }
        self.init(parameters: p, polynomials: polynomials)
    }

    init(parameters: ParameterSet, polynomials: [T]) {
        precondition(polynomials.count == (parameters.glweDimension + 1) * parameters.polynomialSize, "checked by the caller")
        self.parameters = parameters
        self.polynomials = polynomials
        fft = NegacyclicFFT(polynomialSize: parameters.polynomialSize)
    }

    /// Public-key encryption yields ciphertexts under the flattened GLWE key, which is the
    /// ciphertext key only of KS-then-PBS sets.
    static func checkSupported(_ p: ParameterSet) throws {
        guard p.order == .keySwitchThenBootstrap else {
            throw TFHEError.unsupported("public-key encryption needs a ks_pbs parameter set (ciphertexts under the GLWE key); \(p.name) is pbs_ks")
        }
    }

    /// Encrypts a torus value (the encoding is the caller's). R, E' and e'' are secret and come
    /// from the noise stream.
    public func encrypt(torus value: T, randomness: inout EncryptionRandomness) -> LWECiphertext<T> {
        let n = parameters.polynomialSize, k = parameters.glweDimension
        let products = BinaryProductEngine(fft: fft)
        let r = BinarySecretKey<T>(count: n, generator: &randomness.noise)
        var data = [T](repeating: 0, count: k * n + 1)
        let c = AlignedBuffer<T>(count: n)
        r.withCoefficients { secret in
            let r = secret.baseAddress!
            polynomials.withUnsafeBufferPointer { pk in
                data.withUnsafeMutableBufferPointer { out in
                    for j in 0..<k {
                        // C_j = A_j·R + E'_j, then its constant coefficient's extraction.
                        for t in 0..<n { c.pointer[t] = randomness.noise.noise(parameters.glweNoise, T.self) }
                        products.multiplyAdd(pk.baseAddress! + j * n, binaryKey: r, into: c.pointer)
                        out[j * n] = c.pointer[0]
                        for t in 1..<n { out[j * n + t] = 0 &- c.pointer[n - t] }
                    }
                    // (B·R)[0] = B[0]·R[0] - Σ_{t≥1} B[N-t]·R[t].
                    let b = pk.baseAddress! + k * n
                    var body = b[0] &* r[0]
                    for t in 1..<n { body = body &- b[n - t] &* r[t] }
                    out[k * n] = body &+ randomness.noise.noise(parameters.glweNoise, T.self) &+ value
                }
            }
        }
        c.zeroize()
        return LWECiphertext(data: data, parameterFingerprint: parameters.fingerprint)
    }

    /// Encrypts a message of the shortint encoding (message and carry bits under a padding
    /// bit, Δ = q/2p), exactly as `ClientKey.encrypt(_:)` encodes it.
    public func encrypt(_ message: UInt64, randomness: inout EncryptionRandomness) throws -> LWECiphertext<T> {
        let modulus = UInt64(1) << (parameters.messageBits + parameters.carryBits)
        guard message < modulus else { throw TFHEError.messageOutOfRange(value: message, modulus: modulus) }
        let delta = T(1) << (T.bitWidth - 1 - parameters.messageBits - parameters.carryBits)
        return encrypt(torus: T(truncatingIfNeeded: message) &* delta, randomness: &randomness)
    }

    public func encrypt(_ message: UInt64) throws -> LWECiphertext<T> {
        var randomness = EncryptionRandomness()
        return try encrypt(message, randomness: &randomness)
    }
}

extension PublicKey {
    /// Encrypts one message per block (public-key encryptions cannot be seeded: their masks
    /// are A·R, not a stream's output).
    public func encrypt(blocks messages: [UInt64], degrees: [UInt64]? = nil) throws -> BlockCiphertextList<T> {
        let modulus = UInt64(1) << (parameters.messageBits + parameters.carryBits)
        var randomness = EncryptionRandomness()
        let blocks = try messages.map { try encrypt($0, randomness: &randomness) }
        let degrees = degrees ?? [UInt64](repeating: modulus - 1, count: messages.count)
        guard degrees.count == messages.count else { throw TFHEError.unsupported("\(degrees.count) degrees for \(messages.count) blocks") }
        for d in degrees where d >= modulus { throw TFHEError.messageOutOfRange(value: d, modulus: modulus) }
        return BlockCiphertextList(checkedBlocks: blocks, degrees: degrees)
    }
}

/// The public key with its masks A_j replaced by their seed: N body words and 16 bytes.
public struct CompressedPublicKey<T: TorusScalar>: Sendable {
    public let parameters: ParameterSet
    public let maskSeed: Seed
    let body: [T]

    public init(clientKey: ClientKey<T>, seed: Seed = .random()) throws {
        let key = try PublicKey(clientKey: clientKey, seed: seed)
        let p = clientKey.parameters
        parameters = p
        maskSeed = EncryptionRandomness(seed: seed).maskSeed
        body = Array(key.polynomials[(p.glweDimension * p.polynomialSize)...])
    }

    init(parameters: ParameterSet, maskSeed: Seed, body: [T]) {
        precondition(body.count == parameters.polynomialSize, "checked by the reader")
        self.parameters = parameters
        self.maskSeed = maskSeed
        self.body = body
    }

    /// Redraws the masks; equals `PublicKey(clientKey:seed:)` of the same seed.
    public func decompress() -> PublicKey<T> {
        var mask = AESCTRGenerator(seed: maskSeed)
        let maskCount = parameters.glweDimension * parameters.polynomialSize
        var polynomials = (0..<maskCount).map { _ in mask.uniformTorus(T.self) }
        polynomials += body
        return PublicKey(parameters: parameters, polynomials: polynomials)
    }
}
