/// A sequence of LWE blocks with the degree of each (the largest value its plaintext may
/// hold): the shape of a radix integer (block 0 the least significant) and of any list of
/// shortint ciphertexts. Degrees are public metadata, never the message itself.
public struct BlockCiphertextList<T: TorusScalar>: Sendable, Hashable {
    public var blocks: [LWECiphertext<T>]
    public var degrees: [UInt64]

    /// Blocks of one parameter set and dimension, one degree each.
    public init(blocks: [LWECiphertext<T>], degrees: [UInt64]) throws {
        guard blocks.count == degrees.count else { throw TFHEError.unsupported("\(degrees.count) degrees for \(blocks.count) blocks") }
        if let first = blocks.first {
            for block in blocks where block.parameterFingerprint != first.parameterFingerprint || block.dimension != first.dimension {
                throw TFHEError.unsupported("blocks of one list must share their parameter set and dimension")
            }
        }
        self.blocks = blocks
        self.degrees = degrees
    }

    /// Blocks whose counts and shapes the engine itself guarantees (decryption and decompression).
    init(checkedBlocks blocks: [LWECiphertext<T>], degrees: [UInt64]) {
        self.blocks = blocks
        self.degrees = degrees
    }
}

/// A block list whose masks are drawn one after another from the mask stream of one seed:
/// each block is stored as its body and degree.
public struct SeededBlockCiphertextList<T: TorusScalar>: Sendable, Hashable {
    public let maskSeed: Seed
    public let bodies: [T]
    public let degrees: [UInt64]
    public let dimension: Int
    public let parameterFingerprint: UInt64

    public init(maskSeed: Seed, bodies: [T], degrees: [UInt64], dimension: Int, parameterFingerprint: UInt64) throws {
        guard bodies.count == degrees.count else { throw TFHEError.unsupported("\(degrees.count) degrees for \(bodies.count) blocks") }
        self.maskSeed = maskSeed
        self.bodies = bodies
        self.degrees = degrees
        self.dimension = dimension
        self.parameterFingerprint = parameterFingerprint
    }

    public func decompress() -> BlockCiphertextList<T> {
        var mask = AESCTRGenerator(seed: maskSeed)
        let blocks = bodies.map { body in
            var data = (0..<dimension).map { _ in mask.uniformTorus(T.self) }
            data.append(body)
            return LWECiphertext(data: data, parameterFingerprint: parameterFingerprint)
        }
        return BlockCiphertextList(checkedBlocks: blocks, degrees: degrees)
    }
}
