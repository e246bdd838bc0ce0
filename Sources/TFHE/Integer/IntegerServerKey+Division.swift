/// Division with remainder by restoring long division, one quotient bit per step from the
/// most significant (the method TFHE-rs's integer division is built on): shift the partial
/// remainder left by one bit and bring down the next bit of the numerator, subtract the
/// divisor (one parallel-prefix subtraction, whose carry out says "no borrow"), keep the
/// difference where there was no borrow. The partial remainder has one block more than the
/// operands, so that 2r + 1 < 2d never overflows it.
///
/// Division by zero follows TFHE-rs (docs.zama.ai/tfhe-rs, "Arithmetic operations":
/// "Division by zero: returns modulus - 1"; the remainder "returns the first input
/// unchanged"), which is what the algorithm gives by itself: no step ever borrows from 0.
extension IntegerServerKey {
    private func divRem(_ a: RadixCiphertext<T>, divisor: Operand) throws -> (RadixCiphertext<T>, RadixCiphertext<T>) {
        let n = a.blockCount, b = bitsPerBlock, msg = messageModulus
        let width = n * b
        let x = try clean(a, maxNoise: 1)
        // The complement of the divisor's n + 1 digits, as column terms.
        let complement: [Block]
        switch divisor {
        case .encrypted(let d):
            complement = (d + [trivialBlock(0)]).map { shortint.uncheckedSubtract(from: msg - 1, $0) }
        case .clear(let digits):
            complement = (digits + [0]).map { trivialBlock(msg - 1 - $0) }
        }
        var remainder = [Block](repeating: trivialBlock(0), count: n + 1)
        var quotientBits = [Block](repeating: trivialBlock(0), count: width)
        for i in (0..<width).reversed() {
            // r = 2r + bit i of a.
            remainder = try shortint.cleaned(remainder, maxDegree: msg - 1, maxNoise: 1)
            var lookups: [Lookup] = []
            var targets: [Int] = []
            let position = UInt64(i % b)
            let top = UInt64(b - 1)
            for j in 0...n {
                if j == 0 {
                    lookups.append(shortint.bivariate(remainder[0], x[i / b]) { r, v in ((r << 1) % msg) | ((v >> position) & 1) })
                } else {
                    if remainder[j].degree == 0 && remainder[j - 1].degree == 0 { continue }
                    lookups.append(shortint.bivariate(remainder[j], remainder[j - 1]) { r, low in ((r << 1) % msg) | (low >> top) })
                }
                targets.append(j)
            }
            var shiftedRemainder = remainder
            for j in 1...n where !targets.contains(j) { shiftedRemainder[j] = trivialBlock(0) }
            for (j, block) in zip(targets, try shortint.bootstrap(lookups)) { shiftedRemainder[j] = block }
            // r - d and "no borrow".
            var columns = zip(shiftedRemainder, complement).map { [$0, $1] }
            columns[0].append(trivialBlock(1))
            let (difference, noBorrow) = try sumColumns(columns, carryOut: true)
            quotientBits[i] = noBorrow!
            remainder = try select(noBorrow!, RadixCiphertext(blocks: difference), RadixCiphertext(blocks: shiftedRemainder)).blocks
        }
        // Quotient digits: Σ bit · 2^p, linear (noise level 2^b - 1 at most).
        let quotient = (0..<n).map { k in
            (0..<b).dropFirst().reduce(quotientBits[k * b]) { sum, p in
                shortint.uncheckedAdd(sum, shortint.uncheckedScale(quotientBits[k * b + p], by: UInt64(1) << p))
            }
        }
        return (RadixCiphertext(blocks: quotient), RadixCiphertext(blocks: Array(remainder[..<n])))
    }

    /// (a / d, a % d); d = 0 gives (max, a).
    public func divRem(_ a: RadixCiphertext<T>, _ d: RadixCiphertext<T>) throws -> (RadixCiphertext<T>, RadixCiphertext<T>) {
        try check(a, d)
        return try divRem(a, divisor: .encrypted(try clean(d, maxNoise: 1)))
    }

    public func div(_ a: RadixCiphertext<T>, _ d: RadixCiphertext<T>) throws -> RadixCiphertext<T> { try divRem(a, d).0 }
    public func rem(_ a: RadixCiphertext<T>, _ d: RadixCiphertext<T>) throws -> RadixCiphertext<T> { try divRem(a, d).1 }

    /// Division by a clear divisor: 0 and powers of two need no division at all; other
    /// divisors run the long division with a clear (noiseless) divisor.
    public func scalarDivRem(_ a: RadixCiphertext<T>, _ d: UInt64) throws -> (RadixCiphertext<T>, RadixCiphertext<T>) {
        try check(a)
        let n = a.blockCount
        if d == 0 {
            return (trivial(UInt64.max, blockCount: n), RadixCiphertext(blocks: try propagated(a).blocks))
        }
        if reduced(d, blockCount: n) != d {  // larger than any value of a
            return (trivial(0, blockCount: n), RadixCiphertext(blocks: try propagated(a).blocks))
        }
        if d.nonzeroBitCount == 1 {
            return (try shiftRight(a, by: UInt64(d.trailingZeroBitCount)), try scalarBitAnd(a, d - 1))
        }
        return try divRem(a, divisor: .clear(digits(of: d, count: n)))
    }

    public func scalarDiv(_ a: RadixCiphertext<T>, _ d: UInt64) throws -> RadixCiphertext<T> { try scalarDivRem(a, d).0 }
    public func scalarRem(_ a: RadixCiphertext<T>, _ d: UInt64) throws -> RadixCiphertext<T> { try scalarDivRem(a, d).1 }
}
