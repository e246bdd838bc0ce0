/// A binary secret key of `count` coefficients in {0, 1}.
/// It is used both as an LWE key (dimension n) and as a GLWE key (k polynomials of N
/// coefficients, which read flat is the "big" LWE key of dimension kN).
///
/// The coefficients live in a `SecretBuffer`, wiped when the key is released, and are only
/// lent out: to a closure (`withCoefficients`) or one at a time (the subscript). They are never
/// handed out as an array, whose copies nobody would wipe. Best effort (see `SecretMemory`).
public final class BinarySecretKey<T: TorusScalar>: @unchecked Sendable {
    private let storage: SecretBuffer<T>
    public var count: Int { storage.count }

    init(count: Int, generator: inout AESCTRGenerator, releaseObserver: ((UnsafeRawBufferPointer) -> Void)? = nil) {
        storage = SecretBuffer(count: count, releaseObserver: releaseObserver) { words in
            for i in 0..<count { words[i] = generator.uniformBit() }
        }
    }

    /// A block binary key (eprint 2023/958; `BlindRotationMethod.blockBinary`): `count`
    /// coefficients in blocks of `blockSize`, each block all zero or with a single 1, the
    /// blockSize + 1 choices equally likely (as tfhe-go samples them).
    init(count: Int, blockSize: Int, generator: inout AESCTRGenerator) {
        precondition(blockSize >= 2 && count % blockSize == 0, "validated by ParameterSet")
        storage = SecretBuffer(count: count, releaseObserver: nil) { words in
            for block in stride(from: 0, to: count, by: blockSize) {
                let one = generator.uniform(below: UInt64(blockSize + 1))
                for i in 0..<blockSize { words[block + i] = UInt64(i) == one ? 1 : 0 }
            }
        }
    }

    /// A key whose coefficients come one by one (deserialization), so no other copy is made.
    init(count: Int, coefficient: (Int) throws -> T) rethrows {
        storage = try SecretBuffer(count: count) { words in
            for i in 0..<count { words[i] = try coefficient(i) }
        }
    }

    /// Coefficient i.
    subscript(i: Int) -> T { storage[i] }

    /// The coefficients, lent to `body` for its duration (serialization inside the key boundary,
    /// encryption, key generation, tests). `body` must neither keep the pointer nor copy the
    /// coefficients into storage that outlives it.
    public func withCoefficients<R>(_ body: (UnsafeBufferPointer<T>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer(body)
    }

    /// Whether every block of `blockSize` coefficients holds at most one 1.
    func isBlockBinary(blockSize: Int) -> Bool {
        withCoefficients { words in
            stride(from: 0, to: words.count, by: blockSize).allSatisfy { block in
                (block..<min(block + blockSize, words.count)).reduce(0) { $0 + Int(words[$1]) } <= 1
            }
        }
    }

    /// Number of ones (the Hamming weight), which the noise formulas use.
    public var hammingWeight: Int {
        withCoefficients { words in
            var w = 0
            for word in words where word != 0 { w += 1 }
            return w
        }
    }
}
