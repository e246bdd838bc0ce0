/// An LWE ciphertext (a_1..a_n, b) with b = Σ a_i s_i + μ + e, stored as n + 1 words, mask
/// first (TFHE-rs's layout), and tagged with the fingerprint of its parameter set.
public struct LWECiphertext<T: TorusScalar>: Sendable, Hashable {
    public var data: [T]
    public let parameterFingerprint: UInt64

    public init(data: [T], parameterFingerprint: UInt64) {
        self.data = data
        self.parameterFingerprint = parameterFingerprint
    }

    /// The all-zero ciphertext of dimension n (mask and body 0): a trivial encryption of 0.
    public init(dimension: Int, parameterFingerprint: UInt64) {
        self.init(data: [T](repeating: 0, count: dimension + 1), parameterFingerprint: parameterFingerprint)
    }

    public var dimension: Int { data.count - 1 }
    public var body: T {
        get { data[data.count - 1] }
        set { data[data.count - 1] = newValue }
    }

    /// Homomorphic addition: the phases add. Internal: the public operations (gates, and the
    /// integer types to come) check parameter sets before combining ciphertexts.
    static func + (lhs: Self, rhs: Self) -> Self {
        var out = lhs
        out += rhs
        return out
    }

    static func += (lhs: inout Self, rhs: Self) {
        precondition(lhs.data.count == rhs.data.count, "checked by the caller's key")
        for i in 0..<lhs.data.count { lhs.data[i] = lhs.data[i] &+ rhs.data[i] }
    }

    static func - (lhs: Self, rhs: Self) -> Self {
        var out = lhs
        for i in 0..<out.data.count { out.data[i] = out.data[i] &- rhs.data[i] }
        return out
    }

    static prefix func - (value: Self) -> Self {
        var out = value
        for i in 0..<out.data.count { out.data[i] = 0 &- out.data[i] }
        return out
    }

    /// Multiplication by a clear integer.
    static func * (lhs: Self, rhs: T) -> Self {
        var out = lhs
        for i in 0..<out.data.count { out.data[i] = out.data[i] &* rhs }
        return out
    }

    /// Adds a clear torus constant to the phase.
    func adding(constant: T) -> Self {
        var out = self
        out.body = out.body &+ constant
        return out
    }
}

/// LWE encryption and phase, as free functions over buffers (the core_crypto layer).
enum LWE {
    /// b = Σ a_i s_i + μ + e with a uniform mask from `mask` and e from `noise`.
    static func encrypt<T: TorusScalar>(_ message: T, key: UnsafePointer<T>, dimension n: Int,
                                        distribution: NoiseDistribution, into output: UnsafeMutablePointer<T>,
                                        randomness: inout EncryptionRandomness) {
        var body = message &+ randomness.noise.noise(distribution, T.self)
        for i in 0..<n {
            let a: T = randomness.mask.uniformTorus()
            output[i] = a
            body = body &+ a &* key[i]
        }
        output[n] = body
    }

    /// The phase b - Σ a_i s_i = μ + e.
    static func phase<T: TorusScalar>(_ data: UnsafePointer<T>, key: UnsafePointer<T>, dimension n: Int) -> T {
        var sum: T = 0
        for i in 0..<n { sum = sum &+ data[i] &* key[i] }
        return data[n] &- sum
    }
}

/// The two random streams of an encryption: the public mask and the secret noise. They are
/// kept apart so that a mask can later be regenerated from its seed (compressed keys and
/// ciphertexts) without revealing anything about the noise.
public struct EncryptionRandomness {
    public var mask: AESCTRGenerator
    public var noise: AESCTRGenerator
    /// The seed of the mask stream: a compressed key or ciphertext stores it in place of its
    /// masks. It is an output of the root generator, so it reveals nothing of the noise
    /// stream's seed (AES as a pseudorandom function).
    public let maskSeed: Seed

    public init(seed: Seed) {
        var root = AESCTRGenerator(seed: seed)
        // The same two draws as `root.fork()`, kept so the mask seed can be published.
        maskSeed = Seed(high: root.next(), low: root.next())
        mask = AESCTRGenerator(seed: maskSeed)
        noise = root.fork()
    }

    /// Fresh randomness from the operating system.
    public init() { self.init(seed: .random()) }
}
