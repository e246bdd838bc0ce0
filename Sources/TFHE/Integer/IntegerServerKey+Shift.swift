/// Shifts and rotations. By a clear amount: whole blocks move for free, and the remaining
/// r < bitsPerBlock bits cost one bivariate bootstrap per block (each output digit takes bits
/// from two neighbours). By an encrypted amount: a barrel shifter, one stage per bit of the
/// amount, log₂(width) stages, each one many-LUT bootstrap per block (`muxStage`). Amounts are taken modulo the bit width, as TFHE-rs
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
    /// shifts by 2^k where bit k is set (`muxStage`, one many-LUT bootstrap per block when the
    /// set has room, else a `select` between x and x shifted).
    private func shift(_ a: RadixCiphertext<T>, _ kind: ShiftKind, by amount: RadixCiphertext<T>) throws -> RadixCiphertext<T> {
        try check(a)
        try check(amount)
        let width = bitWidthOf(a)
        guard width.nonzeroBitCount == 1 else { throw TFHEError.unsupported("encrypted shifts need a power-of-two bit width, not \(width)") }
        let stages = width.trailingZeroBitCount
        let amountBlocks = try propagated(amount).blocks
        let b = bitsPerBlock
        // Bits of the amount (mod width); bits beyond the amount's own width are 0. A block's
        // bits come from one many-LUT bootstrap when the table has room for them.
        var bitLookups: [ShortintServerKey<T>.ManyLookup] = []
        var k = 0
        while k < stages && k / b < amountBlocks.count {
            let block = amountBlocks[k / b]
            let inBlock = Swift.min(b - k % b, stages - k)
            let together = block.degree < shortint.manyLookupBound(functionCount: inBlock) ? inBlock : 1
            bitLookups.append(.init(block, (0..<together).map { i in
                let position = UInt64(k % b + i)
                return { ($0 >> position) & 1 }
            }))
            k += together
        }
        let bits = try shortint.bootstrap(many: bitLookups).flatMap { $0 }
        var x = try clean(a, maxNoise: 1)
        for k in 0..<bits.count {
            if canMux(x, control: bits[k]) {
                x = try muxStage(x, kind, by: 1 << k, control: bits[k])
            } else {
                x = try shortint.cleaned(x, maxDegree: messageModulus - 1, maxNoise: 1)
                let moved = try shifted(x, kind, by: 1 << k)
                x = try select(bits[k], RadixCiphertext(blocks: moved), RadixCiphertext(blocks: x)).blocks
            }
        }
        return RadixCiphertext(blocks: x)
    }

    /// Whether every block can be packed as 2·x + c into a two-function table.
    private func canMux(_ x: [Block], control c: Block) -> Bool {
        let bound = shortint.manyLookupBound(functionCount: 2)
        return c.degree <= 1 && x.allSatisfy { 2 * $0.degree + 1 < bound && 2 * $0.noiseLevel + c.noiseLevel <= encoding.maxNoiseLevel }
            && x.allSatisfy { $0.degree < messageModulus }
    }

    /// One barrel stage, x shifted by `amount` bits if c = 1 and unchanged if c = 0, with one
    /// many-LUT bootstrap per block: on 2·x_i + c, "the part of x_i that stays" (x_i if c = 0,
    /// else its bits that remain in block i, or 0 when whole blocks move) and "the part that
    /// moves" (0 if c = 0, else its bits that land in block i ± q). Output block i sums the part
    /// that stays in it and the part that moves into it: their bits never overlap, so the sum
    /// is below messageModulus although the two degrees add up to more (the degree is set to
    /// messageModulus - 1), and its noise level is 2, so that the next stage's 2·x + c has at
    /// most 2·2 + 1 = 5 (the 2_2 sets' budget).
    private func muxStage(_ x: [Block], _ kind: ShiftKind, by amount: Int, control c: Block) throws -> [Block] {
        let n = x.count, b = bitsPerBlock, msg = messageModulus
        let q = amount / b, r = UInt64(amount % b)
        let leftward = kind == .left || kind == .rotateLeft
        let rotates = kind == .rotateLeft || kind == .rotateRight
        precondition(q == 0 || r == 0, "a stage moves whole blocks or bits within blocks (2^k bits, 2-bit blocks)")
        // Block i's parts: where each goes, and its function of m = 2·x_i + c.
        var lookups: [ShortintServerKey<T>.ManyLookup] = []
        var destinations: [[Int]] = []
        for i in 0..<n {
            let packed = shortint.uncheckedAdd(shortint.uncheckedScale(x[i], by: 2), c)
            if q == 0 {
                // Bits within blocks: the part that stays is shifted by r, the part that moves
                // goes to the neighbour (the more significant one for a left shift).
                let neighbour = leftward ? i + 1 : i - 1
                let stays: (UInt64) -> UInt64 = leftward
                    ? { m in m & 1 == 0 ? m >> 1 : ((m >> 1) << r) % msg }
                    : { m in m & 1 == 0 ? m >> 1 : (m >> 1) >> r }
                let moves: (UInt64) -> UInt64 = leftward
                    ? { m in m & 1 == 0 ? 0 : (m >> 1) >> (UInt64(b) - r) }
                    : { m in m & 1 == 0 ? 0 : ((m >> 1) << (UInt64(b) - r)) % msg }
                if neighbour >= 0 && neighbour < n || rotates {
                    lookups.append(.init(packed, [stays, moves]))
                    destinations.append([i, (neighbour + n) % n])
                } else {
                    lookups.append(.init(packed, [stays]))
                    destinations.append([i])
                }
            } else {
                let target = leftward ? i + q : i - q
                let stays: (UInt64) -> UInt64 = { m in m & 1 == 0 ? m >> 1 : 0 }
                let moves: (UInt64) -> UInt64 = { m in m & 1 == 0 ? 0 : m >> 1 }
                if target >= 0 && target < n || rotates {
                    lookups.append(.init(packed, [stays, moves]))
                    destinations.append([i, ((target % n) + n) % n])
                } else {
                    lookups.append(.init(packed, [stays]))
                    destinations.append([i])
                }
            }
        }
        var parts = [[Block]](repeating: [], count: n)
        for (blocks, targets) in zip(try shortint.bootstrap(many: lookups), destinations) {
            for (block, i) in zip(blocks, targets) { parts[i].append(block) }
        }
        return parts.map { blocks in
            guard let first = blocks.first else { return trivialBlock(0) }
            let sum = blocks.dropFirst().reduce(first) { shortint.uncheckedAdd($0, $1) }
            return ShortintCiphertext(lwe: sum.lwe, degree: Swift.min(sum.degree, msg - 1), noiseLevel: sum.noiseLevel)
        }
    }

    public func shiftLeft(_ a: RadixCiphertext<T>, by amount: RadixCiphertext<T>) throws -> RadixCiphertext<T> { try shift(a, .left, by: amount) }
    public func shiftRight(_ a: RadixCiphertext<T>, by amount: RadixCiphertext<T>) throws -> RadixCiphertext<T> { try shift(a, .right, by: amount) }
    public func rotateLeft(_ a: RadixCiphertext<T>, by amount: RadixCiphertext<T>) throws -> RadixCiphertext<T> { try shift(a, .rotateLeft, by: amount) }
    public func rotateRight(_ a: RadixCiphertext<T>, by amount: RadixCiphertext<T>) throws -> RadixCiphertext<T> { try shift(a, .rotateRight, by: amount) }
}
