/// Division by a clear divisor. Zero, divisors wider than the operand and powers of two need
/// no division at all. Any other divisor d multiplies by a clear reciprocal (Granlund and
/// Montgomery, "Division by Invariant Integers using Multiplication", PLDI 1994, Theorem 4.2):
/// for N-bit x, if 2^(N+s) <= m·d <= 2^(N+s) + 2^s then ⌊x / d⌋ = ⌊x·m / 2^(N+s)⌋. With
/// s >= ⌈log2 d⌉ and m = ⌊2^(N+s) / d⌋ + 1, m·d lies in (2^(N+s), 2^(N+s) + d], so the condition
/// holds; s is rounded up to a whole number of blocks, so the quotient is a run of the
/// product's blocks and the shift costs nothing. The product is one carry-save sum
/// (`scalarProductColumns`): no long division, whose steps each need a subtraction.
extension IntegerServerKey {
    /// (a / d, a % d); d = 0 gives (max, a), as `divRem`.
    public func scalarDivRem(_ a: RadixCiphertext<T>, _ d: UInt64) throws -> (RadixCiphertext<T>, RadixCiphertext<T>) {
        try check(a)
        switch scalarDivisionCase(d, blockCount: a.blockCount) {
        case .byZero: return (trivial(UInt64.max, blockCount: a.blockCount), try propagated(a))
        case .largerThanAny: return (trivial(0, blockCount: a.blockCount), try propagated(a))
        case .powerOfTwo(let shift): return (try shiftRight(a, by: shift), try scalarBitAnd(a, d - 1))
        case .reciprocal:
            let x = try clean(a, maxNoise: 1)
            let q = try quotient(x, dividedBy: d)
            return (q, try remainder(x, quotient: q, divisor: d))
        }
    }

    public func scalarDiv(_ a: RadixCiphertext<T>, _ d: UInt64) throws -> RadixCiphertext<T> {
        try check(a)
        switch scalarDivisionCase(d, blockCount: a.blockCount) {
        case .byZero: return trivial(UInt64.max, blockCount: a.blockCount)
        case .largerThanAny: return trivial(0, blockCount: a.blockCount)
        case .powerOfTwo(let shift): return try shiftRight(a, by: shift)
        case .reciprocal: return try quotient(try clean(a, maxNoise: 1), dividedBy: d)
        }
    }

    public func scalarRem(_ a: RadixCiphertext<T>, _ d: UInt64) throws -> RadixCiphertext<T> {
        try check(a)
        switch scalarDivisionCase(d, blockCount: a.blockCount) {
        case .byZero, .largerThanAny: return try propagated(a)
        case .powerOfTwo: return try scalarBitAnd(a, d - 1)
        case .reciprocal:
            let x = try clean(a, maxNoise: 1)
            return try remainder(x, quotient: try quotient(x, dividedBy: d), divisor: d)
        }
    }

    private enum ScalarDivisionCase {
        case byZero, largerThanAny, powerOfTwo(shift: UInt64), reciprocal
    }

    private func scalarDivisionCase(_ d: UInt64, blockCount n: Int) -> ScalarDivisionCase {
        if d == 0 { return .byZero }
        if reduced(d, blockCount: n) != d { return .largerThanAny }
        if d.nonzeroBitCount == 1 { return .powerOfTwo(shift: UInt64(d.trailingZeroBitCount)) }
        return .reciprocal
    }

    /// ⌊x / d⌋ for clean blocks x and d >= 3, not a power of two, below 2^(bits of x).
    private func quotient(_ x: [Block], dividedBy d: UInt64) throws -> RadixCiphertext<T> {
        let n = x.count, b = bitsPerBlock
        let bits = n * b
        let log2d = UInt64.bitWidth - (d - 1).leadingZeroBitCount  // ⌈log2 d⌉
        let exponent = (bits + log2d + b - 1) / b * b               // N + s, s >= ⌈log2 d⌉, whole blocks
        let m = Self.reciprocalDigits(exponent: exponent, divisor: d, bitsPerDigit: b)
        let start = exponent / b
        // x·m < B^(n + m.count): blocks from there up are 0, and so is a quotient starting there.
        let productWidth = Swift.min(n + m.count, start + n)
        guard productWidth > start else { return trivial(0, blockCount: n) }
        // Only the quotient's blocks are kept: the ones below send their carries up, and their
        // own messages are never computed.
        let product = try sumColumns(scalarProductColumns(x, m, width: productWidth), from: start).blocks
        return RadixCiphertext(blocks: (start..<(start + n)).map { $0 < productWidth ? product[$0] : trivialBlock(0) })
    }

    /// x - q·d for the quotient q = ⌊x / d⌋. The remainder is below d, so only the k blocks d
    /// spans take part: r = (x - q·d) mod B^k, one carry-save sum of x's low blocks and q·(-d).
    private func remainder(_ x: [Block], quotient q: RadixCiphertext<T>, divisor d: UInt64) throws -> RadixCiphertext<T> {
        let n = x.count, b = bitsPerBlock
        let k = (UInt64.bitWidth - d.leadingZeroBitCount + b - 1) / b
        let low = try shortint.cleaned(Array(q.blocks.prefix(k)), maxDegree: messageModulus - 1, maxNoise: 1)
        var columns = scalarProductColumns(low, digits(of: 0 &- d, count: k), width: k)
        for i in 0..<k { columns[i].append(x[i]) }
        let r = try sumColumns(columns).blocks
        return RadixCiphertext(blocks: r + (k..<n).map { _ in trivialBlock(0) })
    }

    /// ⌊2^exponent / d⌋ + 1 in base-2^b digits, least significant first, by binary long
    /// division (the value may be wider than 64 bits).
    static func reciprocalDigits(exponent: Int, divisor d: UInt64, bitsPerDigit b: Int) -> [UInt64] {
        // Quotient bits, least significant first; the dividend is a 1 followed by `exponent` 0s.
        var bits = [UInt64](repeating: 0, count: exponent + 1)
        var r: UInt64 = 0
        for position in stride(from: exponent, through: 0, by: -1) {
            // r < d, so 2r + bit < 2d: one subtraction at most; the wrapped difference is exact.
            let (doubled, overflow) = r.multipliedReportingOverflow(by: 2)
            let next = doubled | (position == exponent ? 1 : 0)
            if overflow || next >= d {
                r = next &- d
                bits[position] = 1
            } else {
                r = next
            }
        }
        // + 1
        var i = 0
        while i < bits.count && bits[i] == 1 { bits[i] = 0; i += 1 }
        if i < bits.count { bits[i] = 1 } else { bits.append(1) }
        while bits.count > 1 && bits.last == 0 { bits.removeLast() }
        return stride(from: 0, to: bits.count, by: b).map { start in
            (0..<b).reduce(UInt64(0)) { digit, p in start + p < bits.count ? digit | (bits[start + p] << p) : digit }
        }
    }
}
