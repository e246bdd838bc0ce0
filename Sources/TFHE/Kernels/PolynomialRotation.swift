/// Negacyclic polynomial helpers on raw torus buffers of N coefficients (R_q = Z_q[X]/(X^N+1)).
enum Polynomial {
    /// out = X^power · input in Z_q[X]/(X^N + 1), for power in [0, 2N): a rotation that
    /// negates the coefficients that wrap around (X^N = -1).
    @inline(__always)
    static func multiplyByMonomial<T: TorusScalar>(_ input: UnsafePointer<T>, power: Int, count n: Int,
                                                   into output: UnsafeMutablePointer<T>) {
        let shift = power % n
        let wrapsNegated = power >= n  // X^power = -X^(power - N)
        for j in 0..<n {
            let source = j - shift
            let value = source >= 0 ? input[source] : (0 &- input[source + n])
            output[j] = wrapsNegated ? (0 &- value) : value
        }
    }

    /// out = X^power · input - input, the CMux's difference, without a branch per coefficient
    /// (two straight segments, so the loops vectorise).
    @inline(__always)
    static func rotateMinus<T: TorusScalar>(_ input: UnsafePointer<T>, power: Int, count n: Int,
                                           into output: UnsafeMutablePointer<T>) {
        let shift = power % n
        // X^power = ±X^shift (minus when power ≥ N); conditional negation as (v ^ mask) - mask,
        // and unchecked pointer offsets, so that both loops vectorise.
        let mask: T = power >= n ? ~0 : 0
        let wrapped = ~mask  // the coefficients that wrap around pick up one more sign
        let tail = n &- shift
        let straightSource = input, straightInput = input + shift, straightOutput = output + shift
        for j in 0..<tail {
            straightOutput[j] = ((straightSource[j] ^ mask) &- mask) &- straightInput[j]
        }
        let wrapSource = input + tail
        for j in 0..<shift {
            output[j] = ((wrapSource[j] ^ wrapped) &- wrapped) &- input[j]
        }
    }
}
