/// A binary secret key of `count` coefficients in {0, 1}, zeroized when released.
/// It is used both as an LWE key (dimension n) and as a GLWE key (k polynomials of N
/// coefficients, which read flat is the "big" LWE key of dimension kN).
public final class BinarySecretKey<T: TorusScalar>: @unchecked Sendable {
    let storage: AlignedBuffer<T>
    public var count: Int { storage.count }
    var pointer: UnsafePointer<T> { UnsafePointer(storage.pointer) }

    init(count: Int, generator: inout AESCTRGenerator) {
        storage = AlignedBuffer(count: count)
        for i in 0..<count { storage.pointer[i] = generator.uniformBit() }
    }

    /// A key whose coefficients come one by one (deserialization), so no other copy is made.
    init(count: Int, coefficient: (Int) throws -> T) rethrows {
        storage = AlignedBuffer(count: count)
        for i in 0..<count { storage.pointer[i] = try coefficient(i) }
    }

    init(coefficients: [T]) {
        storage = AlignedBuffer(coefficients)
    }

    /// The coefficients, for serialization inside the key boundary and for tests.
    public var coefficients: [T] { storage.array }

    /// Number of ones (the Hamming weight), which the noise formulas use.
    public var hammingWeight: Int {
        var w = 0
        for i in 0..<count where storage.pointer[i] != 0 { w += 1 }
        return w
    }

    deinit { storage.zeroize() }
}
