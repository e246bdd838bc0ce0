/// GLWE encryption (CGGI 2020 §2): a ciphertext (A_1..A_k, B) of k+1 polynomials with
/// B = Σ A_j·S_j + μ + E in Z_q[X]/(X^N + 1), stored as (k+1)·N words, masks first.
enum GLWE {
    /// Encrypts the polynomial `message` (N coefficients, nil for zero) into `output`.
    static func encrypt<T: TorusScalar>(_ message: UnsafePointer<T>?, key: BinarySecretKey<T>,
                                        glweDimension k: Int, products: BinaryProductEngine,
                                        distribution: NoiseDistribution, into output: UnsafeMutablePointer<T>,
                                        randomness: inout EncryptionRandomness) {
        let n = products.fft.polynomialSize
        let body = output + k * n
        for j in 0..<n {
            body[j] = (message?[j] ?? 0) &+ randomness.noise.noise(distribution, T.self)
        }
        key.withCoefficients { s in
            for p in 0..<k {
                let mask = output + p * n
                for j in 0..<n { mask[j] = randomness.mask.uniformTorus() }
                products.multiplyAdd(UnsafePointer(mask), binaryKey: s.baseAddress! + p * n, into: body)
            }
        }
    }

    /// The phase polynomial B - Σ A_j·S_j, written into `output` (N words).
    static func phase<T: TorusScalar>(_ ciphertext: UnsafePointer<T>, key: BinarySecretKey<T>, glweDimension k: Int,
                                      products: BinaryProductEngine, into output: UnsafeMutablePointer<T>) {
        let n = products.fft.polynomialSize
        var negatedMask = [T](repeating: 0, count: n)
        for j in 0..<n { output[j] = ciphertext[k * n + j] }
        for p in 0..<k {
            for j in 0..<n { negatedMask[j] = 0 &- ciphertext[p * n + j] }
            negatedMask.withUnsafeBufferPointer { mask in
                key.withCoefficients { products.multiplyAdd(mask.baseAddress!, binaryKey: $0.baseAddress! + p * n, into: output) }
            }
        }
    }

    /// Sample extraction (CGGI 2020 §4.2) at index h: the LWE ciphertext, under the flattened
    /// GLWE key, of coefficient h of the GLWE's plaintext (h = 0: the constant coefficient,
    /// an ordinary bootstrap's output; h > 0: a many-LUT table's other outputs). Coefficient h
    /// of A_p·S_p is Σ_{t≤h} A_p[h-t]·S_p[t] - Σ_{t>h} A_p[N+h-t]·S_p[t] (X^N = -1), which
    /// fixes the mask.
    @inline(__always)
    static func extractCoefficient<T: TorusScalar>(_ glwe: UnsafePointer<T>, index h: Int, glweDimension k: Int,
                                                   polynomialSize n: Int, into lwe: UnsafeMutablePointer<T>) {
        for p in 0..<k {
            let a = glwe + p * n, out = lwe + p * n
            for t in 0...h { out[t] = a[h - t] }
            for t in (h + 1)..<n { out[t] = 0 &- a[n + h - t] }
        }
        lwe[k * n] = glwe[k * n + h]
    }
}
