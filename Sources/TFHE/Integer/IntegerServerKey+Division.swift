/// Division with remainder by restoring long division, one quotient bit per step from the
/// most significant (the method TFHE-rs's integer division is built on): shift the partial
/// remainder left by one bit and bring down the next bit of the numerator, subtract the
/// divisor (one parallel-prefix subtraction, whose carry out says "no borrow"), keep the
/// difference where there was no borrow.
///
/// After t numerator bits the partial remainder r' is below 2^t, so it fits in k = ⌈t / b⌉
/// blocks and only those take part in the step: r' >= d exactly when the subtraction of d's
/// low k digits does not borrow and d has no nonzero digit at index k or above. Those "d has
/// a high digit" flags are computed once, by a prefix OR over d's digits from the top (the
/// Sklansky prefix of bivariate ORs), and the steps cost on average half of a full-width step.
/// (A clear divisor takes another way: IntegerServerKey+ScalarDivision.swift.)
///
/// Division by zero follows TFHE-rs (docs.zama.ai/tfhe-rs, "Arithmetic operations":
/// "Division by zero: returns modulus - 1"; the remainder "returns the first input
/// unchanged"), which is what the algorithm gives by itself: no step ever borrows from 0.
extension IntegerServerKey {
    /// For k in 0..<n: whether some digit of index >= k is nonzero (k = 0 unused).
    private func highDigitFlags(_ d: [Block]) throws -> [Block] {
        let n = d.count
        if n == 1 { return [trivialBlock(0)] }
        // nonzero[j] for j in 1..<n, listed from the top: e[0] = d[n-1].
        let nonzero = try shortint.bootstrap((1..<n).reversed().map { Lookup(d[$0], outputDegree: 1) { $0 != 0 ? 1 : 0 } })
        var prefix = nonzero
        var span = 1
        while span < prefix.count {
            var lookups: [Lookup] = []
            var targets: [Int] = []
            for i in 0..<prefix.count where i & span != 0 {
                let j = (i / span) * span - 1
                targets.append(i)
                lookups.append(shortint.bivariate(prefix[i], prefix[j]) { $0 | $1 })
            }
            for (i, block) in zip(targets, try shortint.bootstrap(lookups)) { prefix[i] = block }
            span *= 2
        }
        // prefix[i] covers digits n-1 down to n-1-i, that is index >= n-1-i.
        var flags = [Block](repeating: trivialBlock(0), count: n)
        for i in 0..<prefix.count { flags[n - 1 - i] = prefix[i] }
        return flags
    }

    private func divRem(_ a: RadixCiphertext<T>, divisor d: [Block]) throws -> (RadixCiphertext<T>, RadixCiphertext<T>) {
        let n = a.blockCount, b = bitsPerBlock, msg = messageModulus
        let width = n * b
        let x = try clean(a, maxNoise: 1)
        // The complement of the divisor's digits (column terms), and the high-digit flags.
        let complement = d.map { shortint.uncheckedSubtract(from: msg - 1, $0) }
        let flags = try highDigitFlags(d)
        var remainder: [Block] = []
        var quotientBits = [Block](repeating: trivialBlock(0), count: width)
        for i in (0..<width).reversed() {
            let k = (width - i + b - 1) / b
            // r' = 2r + bit i of a, on k blocks.
            remainder = try shortint.cleaned(remainder, maxDegree: msg - 1, maxNoise: 1)
            while remainder.count < k { remainder.append(trivialBlock(0)) }
            var lookups: [Lookup] = []
            var targets: [Int] = []
            let position = UInt64(i % b)
            let top = UInt64(b - 1)
            for j in 0..<k {
                if j == 0 {
                    lookups.append(shortint.bivariate(remainder[0], x[i / b]) { r, v in ((r << 1) % msg) | ((v >> position) & 1) })
                } else {
                    if remainder[j].degree == 0 && remainder[j - 1].degree == 0 { continue }
                    lookups.append(shortint.bivariate(remainder[j], remainder[j - 1]) { r, low in ((r << 1) % msg) | (low >> top) })
                }
                targets.append(j)
            }
            var shifted = remainder
            for j in 1..<Swift.max(1, k) where !targets.contains(j) { shifted[j] = trivialBlock(0) }
            for (j, block) in zip(targets, try shortint.bootstrap(lookups)) { shifted[j] = block }
            // r' - d on k blocks, and "no borrow".
            var columns = (0..<k).map { [shifted[$0], complement[$0]] }
            columns[0].append(trivialBlock(1))
            let (difference, carry) = try sumColumns(columns, carryOut: true)
            var noBorrow = carry!
            if k < n {
                noBorrow = try shortint.bootstrap([shortint.bivariate(noBorrow, flags[k]) { c, h in c == 1 && h == 0 ? 1 : 0 }])[0]
            }
            quotientBits[i] = noBorrow
            remainder = try select(noBorrow, RadixCiphertext(blocks: difference), RadixCiphertext(blocks: shifted)).blocks
        }
        // Quotient digits: Σ bit · 2^p, linear (noise level 2^b - 1 at most).
        let quotient = (0..<n).map { k in
            (0..<b).dropFirst().reduce(quotientBits[k * b]) { sum, p in
                shortint.uncheckedAdd(sum, shortint.uncheckedScale(quotientBits[k * b + p], by: UInt64(1) << p))
            }
        }
        while remainder.count < n { remainder.append(trivialBlock(0)) }
        return (RadixCiphertext(blocks: quotient), RadixCiphertext(blocks: remainder))
    }

    /// (a / d, a % d); d = 0 gives (max, a).
    public func divRem(_ a: RadixCiphertext<T>, _ d: RadixCiphertext<T>) throws -> (RadixCiphertext<T>, RadixCiphertext<T>) {
        try check(a, d)
        return try divRem(a, divisor: try clean(d, maxNoise: 1))
    }

    public func div(_ a: RadixCiphertext<T>, _ d: RadixCiphertext<T>) throws -> RadixCiphertext<T> { try divRem(a, d).0 }
    public func rem(_ a: RadixCiphertext<T>, _ d: RadixCiphertext<T>) throws -> RadixCiphertext<T> { try divRem(a, d).1 }
}
