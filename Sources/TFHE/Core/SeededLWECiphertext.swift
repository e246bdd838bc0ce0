/// A secret-key LWE encryption stored as its body and the seed of its mask (TFHE-rs's seeded
/// ciphertexts): the mask is the first `dimension` words of the mask stream of `maskSeed`, so
/// a ciphertext of n + 1 words is sent as one word and 16 bytes.
public struct SeededLWECiphertext<T: TorusScalar>: Sendable, Hashable {
    public let maskSeed: Seed
    public let body: T
    public let dimension: Int
    public let parameterFingerprint: UInt64

    public init(maskSeed: Seed, body: T, dimension: Int, parameterFingerprint: UInt64) {
        self.maskSeed = maskSeed
        self.body = body
        self.dimension = dimension
        self.parameterFingerprint = parameterFingerprint
    }

    /// The full ciphertext, mask redrawn from the seed.
    public func decompress() -> LWECiphertext<T> {
        var mask = AESCTRGenerator(seed: maskSeed)
        var data = (0..<dimension).map { _ in mask.uniformTorus(T.self) }
        data.append(body)
        return LWECiphertext(data: data, parameterFingerprint: parameterFingerprint)
    }
}
