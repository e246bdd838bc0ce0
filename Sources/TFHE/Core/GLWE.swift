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

    /// Sample extraction (CGGI 2020 §4.2): the LWE ciphertext, under the flattened GLWE key,
    /// of the constant coefficient of the GLWE's plaintext. Coefficient 0 of A_p·S_p is
    /// A_p[0]·S_p[0] - Σ_{t≥1} A_p[N-t]·S_p[t], which fixes the mask.
    @inline(__always)
    /// The LWE ciphertext of coefficient h of the GLWE's message, under the GLWE key read as
    /// an LWE key of dimension kN (CGGI 2020 §4.2's sample extraction at index h): coefficient
    /// h of A·S is Σ_t s_t·A[h - t] for t ≤ h and -s_t·A[N + h - t] for t > h (X^N = -1).
    static func extractCoefficient<T: TorusScalar>(_ glwe: UnsafePointer<T>, index h: Int, glweDimension k: Int,
                                                   polynomialSize n: Int, into lwe: UnsafeMutablePointer<T>) {
        if h == 0 { return extractConstant(glwe, glweDimension: k, polynomialSize: n, into: lwe) }
        for p in 0..<k {
            let a = glwe + p * n, out = lwe + p * n
            for t in 0...h { out[t] = a[h - t] }
            for t in (h + 1)..<n { out[t] = 0 &- a[n + h - t] }
        }
        lwe[k * n] = glwe[k * n + h]
    }

    static func extractConstant<T: TorusScalar>(_ glwe: UnsafePointer<T>, glweDimension k: Int, polynomialSize n: Int,
                                                into lwe: UnsafeMutablePointer<T>) {
        for p in 0..<k {
            let a = glwe + p * n, out = lwe + p * n
            out[0] = a[0]
            for t in 1..<n { out[t] = 0 &- a[n - t] }
        }
        lwe[k * n] = glwe[k * n]
    }
}
