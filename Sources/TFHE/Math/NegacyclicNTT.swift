/// Exact negacyclic products by a number-theoretic transform modulo the 62-bit prime
/// p = 2^62 - 2^19 + 1 (0x3fffffffffe80001, p ≡ 1 mod 2^17, so X^N + 1 splits for every
/// N ≤ 2^16), with Harvey's lazy butterflies ("Faster arithmetic for number-theoretic
/// transforms", J. Symb. Comp. 2014, Algorithms 4 and 5) and Shoup's precomputed quotients:
/// values stay in [0, 4p) between butterflies and are reduced once at the end, which needs
/// 4p < 2^64 (so a prime below 2^62 rather than 2^64 - 2^32 + 1).
///
/// `multiply` turns this into an exact product in Z_{2^w}[X]/(X^N + 1): both operands are cut
/// into 16-bit limbs, every limb convolution is smaller than N·2^32·4 < p/2 and so is exact
/// as a centred residue, and the limbs are recombined modulo 2^w. It cross-checks the FFT and
/// is the engine's exact backend.
public final class NegacyclicNTT: Sendable {
    public static let prime: UInt64 = 0x3fff_ffff_ffe8_0001
    static let generator: UInt64 = 3
    public let polynomialSize: Int
    private let psiPowers: [UInt64]          // ψ^bitrev(i)
    private let psiPowersShoup: [UInt64]
    private let inversePsiPowers: [UInt64]   // ψ^-bitrev(i)
    private let inversePsiPowersShoup: [UInt64]
    private let inverseN: UInt64
    private let inverseNShoup: UInt64

    public init(polynomialSize n: Int) {
        precondition(n >= 2 && n <= 1 << 16 && n.nonzeroBitCount == 1, "validated by ParameterSet")
        polynomialSize = n
        let p = Self.prime
        let psi = Self.power(Self.generator, (p - 1) / UInt64(2 * n))
        let psiInverse = Self.power(psi, p - 2)
        let logN = n.trailingZeroBitCount
        var forward = [UInt64](repeating: 0, count: n), inverse = forward
        var current: UInt64 = 1, currentInverse: UInt64 = 1
        for i in 0..<n {
            let r = Self.bitReverse(i, bits: logN)
            forward[r] = current
            inverse[r] = currentInverse
            current = Self.multiply(current, psi)
            currentInverse = Self.multiply(currentInverse, psiInverse)
        }
        psiPowers = forward
        inversePsiPowers = inverse
        psiPowersShoup = forward.map(Self.shoup)
        inversePsiPowersShoup = inverse.map(Self.shoup)
        inverseN = Self.power(UInt64(n), p - 2)
        inverseNShoup = Self.shoup(inverseN)
    }

    // MARK: Modular arithmetic

    static func multiply(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (high, low) = a.multipliedFullWidth(by: b)
        return prime.dividingFullWidth((high, low)).remainder
    }

    static func power(_ base: UInt64, _ exponent: UInt64) -> UInt64 {
        var result: UInt64 = 1, b = base % prime, e = exponent
        while e > 0 {
            if e & 1 == 1 { result = multiply(result, b) }
            b = multiply(b, b)
            e >>= 1
        }
        return result
    }

    /// w' = ⌊w · 2^64 / p⌋ (Shoup), for w < p.
    static func shoup(_ w: UInt64) -> UInt64 { prime.dividingFullWidth((w, 0)).quotient }

    static func bitReverse(_ value: Int, bits: Int) -> Int {
        var v = value, r = 0
        for _ in 0..<bits { r = (r << 1) | (v & 1); v >>= 1 }
        return r
    }

    /// x·w mod p in [0, 2p) for any 64-bit x (Shoup's multiplication).
    @inline(__always)
    static func multiplyLazy(_ x: UInt64, _ w: UInt64, _ wShoup: UInt64) -> UInt64 {
        let q = x.multipliedFullWidth(by: wShoup).high
        return x &* w &- q &* prime
    }

    // MARK: Transforms

    /// Forward negacyclic NTT in place (Cooley–Tukey, ψ merged into the twiddles; output in
    /// bit-reversed order). Input in [0, 4p); output in [0, p).
    public func forward(_ a: UnsafeMutablePointer<UInt64>) {
        let n = polynomialSize, p = Self.prime, twoP = 2 * p
        var t = n, m = 1
        psiPowers.withUnsafeBufferPointer { w in
            psiPowersShoup.withUnsafeBufferPointer { ws in
                while m < n {
                    t >>= 1
                    for i in 0..<m {
                        let j1 = 2 * i * t
                        let s = w[m + i], sShoup = ws[m + i]
                        for j in j1..<(j1 + t) {
                            var x = a[j]
                            if x >= twoP { x -= twoP }
                            let y = Self.multiplyLazy(a[j + t], s, sShoup)
                            a[j] = x &+ y
                            a[j + t] = x &- y &+ twoP
                        }
                    }
                    m <<= 1
                }
            }
        }
        for j in 0..<n {
            var x = a[j]
            if x >= twoP { x -= twoP }
            if x >= p { x -= p }
            a[j] = x
        }
    }

    /// Inverse negacyclic NTT in place (Gentleman–Sande), including the factor 1/N.
    /// Input in [0, 2p) in bit-reversed order; output in [0, p) in natural order.
    public func inverse(_ a: UnsafeMutablePointer<UInt64>) {
        let n = polynomialSize, p = Self.prime, twoP = 2 * p
        var t = 1, m = n
        inversePsiPowers.withUnsafeBufferPointer { w in
            inversePsiPowersShoup.withUnsafeBufferPointer { ws in
                while m > 1 {
                    let h = m >> 1
                    var j1 = 0
                    for i in 0..<h {
                        let s = w[h + i], sShoup = ws[h + i]
                        for j in j1..<(j1 + t) {
                            let x = a[j], y = a[j + t]
                            var sum = x &+ y
                            if sum >= twoP { sum -= twoP }
                            a[j] = sum
                            a[j + t] = Self.multiplyLazy(x &- y &+ twoP, s, sShoup)
                        }
                        j1 += 2 * t
                    }
                    t <<= 1
                    m = h
                }
            }
        }
        for j in 0..<n {
            var x = Self.multiplyLazy(a[j], inverseN, inverseNShoup)
            if x >= p { x -= p }
            a[j] = x
        }
    }

    // MARK: Exact products on the torus

    /// The exact product of two polynomials of Z_{2^w}[X]/(X^N + 1), any coefficients.
    public func multiply<T: TorusScalar>(_ a: [T], _ b: [T]) -> [T] {
        let n = polynomialSize
        precondition(a.count == n && b.count == n, "operands must have N coefficients")
        let limbs = T.bitWidth / 16
        func limbTransforms(_ x: [T]) -> [[UInt64]] {
            (0..<limbs).map { limb in
                var values = x.map { (UInt64($0) >> (16 * limb)) & 0xffff }
                values.withUnsafeMutableBufferPointer { forward($0.baseAddress!) }
                return values
            }
        }
        let fa = limbTransforms(a), fb = limbTransforms(b)
        var result = [T](repeating: 0, count: n)
        // Limb pairs (i, j) with i + j = t land 16·t bits up; pairs with i + j ≥ limbs vanish mod 2^w.
        for t in 0..<limbs {
            var bucket = [UInt64](repeating: 0, count: n)
            for i in 0...t {
                let j = t - i
                for x in 0..<n {
                    bucket[x] = (bucket[x] &+ Self.multiply(fa[i][x], fb[j][x])) % Self.prime
                }
            }
            bucket.withUnsafeMutableBufferPointer { inverse($0.baseAddress!) }
            for x in 0..<n {
                // Centred residue: the true convolution value lies in (-p/2, p/2).
                let value = bucket[x] > Self.prime / 2 ? Int64(bitPattern: bucket[x] &- Self.prime) : Int64(bucket[x])
                result[x] = result[x] &+ (T(truncatingIfNeeded: UInt64(bitPattern: value)) << (16 * t))
            }
        }
        return result
    }
}
