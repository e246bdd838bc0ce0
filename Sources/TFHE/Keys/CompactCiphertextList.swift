/// Up to N messages encrypted with the public key at once (the "compact" encryption of
/// Joye, eprint 2023/603; TFHE-rs's `CompactCiphertextList`): one binary R and one GLWE
/// (C_j = A_j·R + E'_j, D = B·R + E'' + Σ_i Δ·m_i·X^i), of which only the first `count`
/// coefficients of D are kept. Block i is the sample extraction of coefficient i, so a list of
/// `count` blocks takes k·N + count words instead of count·(k·N + 1).
///
/// Each block's error is (E·R)[i] + E''[i] - Σ_j (E'_j·S_j)[i], with the variance of a single
/// public-key encryption (`NoiseModel.publicKeyEncryptionVariance`).
public struct CompactCiphertextList<T: TorusScalar>: Sendable, Hashable {
    public let parameterFingerprint: UInt64
    public let glweDimension: Int
    public let polynomialSize: Int
    /// C_1..C_k, N words each.
    let masks: [T]
    /// D[0..<count].
    let bodies: [T]
    public let degrees: [UInt64]

    public var count: Int { bodies.count }

    init(parameterFingerprint: UInt64, glweDimension: Int, polynomialSize: Int, masks: [T], bodies: [T], degrees: [UInt64]) {
        precondition(masks.count == glweDimension * polynomialSize && bodies.count == degrees.count
                     && bodies.count <= polynomialSize, "checked by the caller")
        self.parameterFingerprint = parameterFingerprint
        self.glweDimension = glweDimension
        self.polynomialSize = polynomialSize
        self.masks = masks
        self.bodies = bodies
        self.degrees = degrees
    }

    /// The LWE blocks, under the flattened GLWE key: block i's mask is the extraction of
    /// coefficient i (C_p[i - t] for t ≤ i, -C_p[N + i - t] for t > i, since X^N = -1).
    public func expand() -> BlockCiphertextList<T> {
        let n = polynomialSize, k = glweDimension
        let blocks = (0..<count).map { i in
            var data = [T](repeating: 0, count: k * n + 1)
            for p in 0..<k {
                let c = p * n
                for t in 0...i { data[c + t] = masks[c + i - t] }
                for t in (i + 1)..<max(i + 1, n) { data[c + t] = 0 &- masks[c + n + i - t] }
            }
            data[k * n] = bodies[i]
            return LWECiphertext(data: data, parameterFingerprint: parameterFingerprint)
        }
        return BlockCiphertextList(checkedBlocks: blocks, degrees: degrees)
    }
}

extension PublicKey {
    /// Encrypts up to N messages (shortint encoding) into one compact list.
    public func encryptCompact(_ messages: [UInt64], degrees: [UInt64]? = nil,
                               randomness: inout EncryptionRandomness) throws -> CompactCiphertextList<T> {
        let n = parameters.polynomialSize, k = parameters.glweDimension
        let modulus = UInt64(1) << (parameters.messageBits + parameters.carryBits)
        guard messages.count <= n else { throw TFHEError.unsupported("a compact list holds at most N = \(n) messages, not \(messages.count)") }
        for m in messages where m >= modulus { throw TFHEError.messageOutOfRange(value: m, modulus: modulus) }
        let degrees = degrees ?? [UInt64](repeating: modulus - 1, count: messages.count)
        guard degrees.count == messages.count else { throw TFHEError.unsupported("\(degrees.count) degrees for \(messages.count) blocks") }
        for d in degrees where d >= modulus { throw TFHEError.messageOutOfRange(value: d, modulus: modulus) }
        let delta = T(1) << (T.bitWidth - 1 - parameters.messageBits - parameters.carryBits)

        let products = BinaryProductEngine(fft: fft)
        let r = BinarySecretKey<T>(count: n, generator: &randomness.noise)
        var masks = [T](repeating: 0, count: k * n)
        let product = AlignedBuffer<T>(count: n)
        var bodies = [T](repeating: 0, count: messages.count)
        r.withCoefficients { secret in
            let r = secret.baseAddress!
            polynomials.withUnsafeBufferPointer { pk in
                masks.withUnsafeMutableBufferPointer { c in
                    for j in 0..<k {
                        for t in 0..<n { c[j * n + t] = randomness.noise.noise(parameters.glweNoise, T.self) }
                        products.multiplyAdd(pk.baseAddress! + j * n, binaryKey: r, into: c.baseAddress! + j * n)
                    }
                }
                products.multiplyAdd(pk.baseAddress! + k * n, binaryKey: r, into: product.pointer)
            }
        }
        for i in 0..<messages.count {
            bodies[i] = product.pointer[i] &+ randomness.noise.noise(parameters.glweNoise, T.self)
                &+ T(truncatingIfNeeded: messages[i]) &* delta
        }
        product.zeroize()
        return CompactCiphertextList(parameterFingerprint: parameters.fingerprint, glweDimension: k, polynomialSize: n,
                                     masks: masks, bodies: bodies, degrees: degrees)
    }

    public func encryptCompact(_ messages: [UInt64], degrees: [UInt64]? = nil) throws -> CompactCiphertextList<T> {
        var randomness = EncryptionRandomness()
        return try encryptCompact(messages, degrees: degrees, randomness: &randomness)
    }
}
