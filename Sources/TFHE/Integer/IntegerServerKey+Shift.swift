/// Shifts and rotations. By a clear amount: whole blocks move for free, and the remaining
/// r < bitsPerBlock bits cost one bivariate bootstrap per block (each output digit takes bits
/// from two neighbours). By an encrypted amount: a barrel shifter (TFHE-rs's approach), one
/// stage per bit of the amount, each stage a `select` between the value and the value
/// shifted by 2^k; log₂(width) stages. Amounts are taken modulo the bit width, as TFHE-rs
/// does (and as Swift's masking shifts `&<<`, `&>>` do).
extension IntegerServerKey {
    enum ShiftKind { case left, right, rotateLeft, rotateRight }

    /// Shift of clean blocks (noise at most 1) by `amount` bits, amount < width.
    func shifted(_ x: [Block], _ kind: ShiftKind, by amount: Int) throws -> [Block] {
        let n = x.count, b = bitsPerBlock, msg = messageModulus
        let q = amount / b, r = amount % b
        let zero = trivialBlock(0)
        let rotates = kind == .rotateLeft || kind == .rotateRight
        let leftward = kind == .left || kind == .rotateLeft
        // Whole blocks.
        var y = [Block](repeating: zero, count: n)
        for i in 0..<n {
            let source = leftward ? i - q : i + q
            if source >= 0 && source < n { y[i] = x[source] } else if rotates { y[i] = x[(source + n) % n] }
        }
        if r == 0 { return y }
        // The remaining bits: out_i takes bits from y_i and from its neighbour toward the
        // less significant end (left) or the more significant end (right).
        var outputs = y
        var lookups: [Lookup] = []
        var targets: [Int] = []
        for i in 0..<n {
            let neighbourIndex = leftward ? i - 1 : i + 1
            let neighbour: Block
            if neighbourIndex >= 0 && neighbourIndex < n { neighbour = y[neighbourIndex] }
            else { neighbour = rotates ? y[(neighbourIndex + n) % n] : zero }
            if y[i].degree == 0 && neighbour.degree == 0 { outputs[i] = zero; continue }
            targets.append(i)
            if leftward {
                lookups.append(shortint.bivariate(y[i], neighbour) { v, low in ((v << UInt64(r)) % msg) | (low >> UInt64(b - r)) })
            } else {
                lookups.append(shortint.bivariate(y[i], neighbour) { v, high in (v >> UInt64(r)) | ((high << UInt64(b - r)) % msg) })
            }
        }
        for (i, block) in zip(targets, try shortint.bootstrap(lookups)) { outputs[i] = block }
        return outputs
    }

    func bitWidthOf(_ x: RadixCiphertext<T>) -> Int { x.blockCount * bitsPerBlock }

    private func shift(_ a: RadixCiphertext<T>, _ kind: ShiftKind, by amount: UInt64) throws -> RadixCiphertext<T> {
        try check(a)
        let width = bitWidthOf(a)
        let s = Int(amount % UInt64(width))
        let x = try clean(a, maxNoise: 1)
        return RadixCiphertext(blocks: try shifted(x, kind, by: s))
    }

    public func shiftLeft(_ a: RadixCiphertext<T>, by amount: UInt64) throws -> RadixCiphertext<T> { try shift(a, .left, by: amount) }
    public func shiftRight(_ a: RadixCiphertext<T>, by amount: UInt64) throws -> RadixCiphertext<T> { try shift(a, .right, by: amount) }
    public func rotateLeft(_ a: RadixCiphertext<T>, by amount: UInt64) throws -> RadixCiphertext<T> { try shift(a, .rotateLeft, by: amount) }
    public func rotateRight(_ a: RadixCiphertext<T>, by amount: UInt64) throws -> RadixCiphertext<T> { try shift(a, .rotateRight, by: amount) }

    /// Barrel shifter. The amount's bits below log₂(width) are extracted in one layer; stage k
    /// selects between x and x shifted by 2^k.
    private func shift(_ a: RadixCiphertext<T>, _ kind: ShiftKind, by amount: RadixCiphertext<T>) throws -> RadixCiphertext<T> {
        try check(a)
        try check(amount)
        let width = bitWidthOf(a)
        guard width.nonzeroBitCount == 1 else { throw TFHEError.unsupported("encrypted shifts need a power-of-two bit width, not \(width)") }
        let stages = width.trailingZeroBitCount
        let amountBlocks = try propagated(amount).blocks
        let b = bitsPerBlock
        // Bits of the amount (mod width); bits beyond the amount's own width are 0.
        var bitLookups: [Lookup] = []
        for k in 0..<stages where k / b < amountBlocks.count {
            let position = UInt64(k % b)
            bitLookups.append(Lookup(amountBlocks[k / b], outputDegree: 1) { ($0 >> position) & 1 })
        }
        let bits = try shortint.bootstrap(bitLookups)
        var x = try clean(a, maxNoise: 1)
        for k in 0..<bits.count {
            x = try shortint.cleaned(x, maxDegree: messageModulus - 1, maxNoise: 1)
            let moved = try shifted(x, kind, by: 1 << k)
            x = try select(bits[k], RadixCiphertext(blocks: moved), RadixCiphertext(blocks: x)).blocks
        }
        return RadixCiphertext(blocks: x)
    }

    public func shiftLeft(_ a: RadixCiphertext<T>, by amount: RadixCiphertext<T>) throws -> RadixCiphertext<T> { try shift(a, .left, by: amount) }
    public func shiftRight(_ a: RadixCiphertext<T>, by amount: RadixCiphertext<T>) throws -> RadixCiphertext<T> { try shift(a, .right, by: amount) }
    public func rotateLeft(_ a: RadixCiphertext<T>, by amount: RadixCiphertext<T>) throws -> RadixCiphertext<T> { try shift(a, .rotateLeft, by: amount) }
    public func rotateRight(_ a: RadixCiphertext<T>, by amount: RadixCiphertext<T>) throws -> RadixCiphertext<T> { try shift(a, .rotateRight, by: amount) }
}
