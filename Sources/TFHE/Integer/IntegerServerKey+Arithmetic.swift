/// Addition, subtraction, negation and multiplication, all wrapping modulo
/// messageModulus^blockCount (Swift's `&+`, `&-`, `&*`). On a key that defers propagation
/// their results leave the last carry propagation to whoever needs clean blocks
/// (`deferredSum`); the overflowing forms, which report the carry out, always propagate.
extension IntegerServerKey {
    public func add(_ a: RadixCiphertext<T>, _ b: RadixCiphertext<T>) throws -> RadixCiphertext<T> {
        try check(a, b)
        let (x, y) = try clean(a, b, maxNoise: 2)
        return try result(ofColumns: zip(x, y).map { [$0, $1] })
    }

    /// Σ operands modulo messageModulus^blockCount: all the operands' blocks go into the
    /// columns of one carry-save sum, so the depth grows with the logarithm of the operand
    /// count rather than with the count itself, and each layer compresses every column at
    /// once. Operands must share their block count; at least one is required, since the width
    /// comes from the operands.
    public func sum(_ operands: [RadixCiphertext<T>]) throws -> RadixCiphertext<T> {
        guard let first = operands.first else { throw TFHEError.unsupported("a sum needs at least one operand") }
        for x in operands { try check(first, x) }
        if operands.count == 1 { return defersPropagation ? first : try propagated(first) }
        let columns = (0..<first.blockCount).map { c in operands.map { $0.blocks[c] } }
        return try result(ofColumns: columns)
    }

    /// a + b and whether it wrapped (the carry out of the top block).
    public func overflowingAdd(_ a: RadixCiphertext<T>, _ b: RadixCiphertext<T>) throws -> (RadixCiphertext<T>, ShortintCiphertext<T>) {
        try check(a, b)
        let (x, y) = try clean(a, b, maxNoise: 2)
        let (blocks, carry) = try sumColumns(zip(x, y).map { [$0, $1] }, carryOut: true)
        return (RadixCiphertext(blocks: blocks), carry!)
    }

    /// Columns of a - b = a + ~b + 1: the complement of a clean block is (msg - 1) - b,
    /// linear, so subtraction costs what addition does.
    private func differenceColumns(_ x: [Block], _ y: [Block]) -> [[Block]] {
        var columns = zip(x, y).map { [$0, shortint.uncheckedSubtract(from: messageModulus - 1, $1)] }
        columns[0].append(trivialBlock(1))
        return columns
    }

    public func sub(_ a: RadixCiphertext<T>, _ b: RadixCiphertext<T>) throws -> RadixCiphertext<T> {
        try check(a, b)
        let (x, y) = try clean(a, b, maxNoise: 2)
        return try result(ofColumns: differenceColumns(x, y))
    }

    /// a - b and whether it wrapped (a < b): the carry out of a + ~b + 1 is 1 exactly when
    /// no borrow occurs.
    public func overflowingSub(_ a: RadixCiphertext<T>, _ b: RadixCiphertext<T>) throws -> (RadixCiphertext<T>, ShortintCiphertext<T>) {
        try check(a, b)
        let (x, y) = try clean(a, b, maxNoise: 2)
        let (blocks, carry) = try sumColumns(differenceColumns(x, y), carryOut: true)
        return (RadixCiphertext(blocks: blocks), shortint.uncheckedSubtract(from: 1, carry!))
    }

    public func neg(_ a: RadixCiphertext<T>) throws -> RadixCiphertext<T> {
        try scalarSub(0, a)
    }

    /// The clear value reduced to the width of `blockCount` blocks.
    func reduced(_ value: UInt64, blockCount: Int) -> UInt64 {
        let bits = blockCount * bitsPerBlock
        return bits >= 64 ? value : value & ((UInt64(1) << bits) - 1)
    }

    public func scalarAdd(_ a: RadixCiphertext<T>, _ value: UInt64) throws -> RadixCiphertext<T> {
        try check(a)
        let x = try clean(a, maxNoise: 4)
        let digits = digits(of: value, count: a.blockCount)
        if let sum = try pairedClearSumIfPlanned(x, digits: digits) { return sum }
        let columns = zip(x, digits).map { block, digit in digit == 0 ? [block] : [block, trivialBlock(digit)] }
        return try result(ofColumns: columns)
    }

    /// Under the prefix plan, on a key that propagates at once, a clean operand plus a clear
    /// one resolves its carries over pairs of blocks (`pairedClearSum`); nil otherwise.
    private func pairedClearSumIfPlanned(_ x: [Block], digits: [UInt64]) throws -> RadixCiphertext<T>? {
        guard carryPropagation == .parallelPrefix && !defersPropagation else { return nil }
        return try pairedClearSum(x, digits: digits).map { RadixCiphertext(blocks: $0) }
    }

    public func scalarSub(_ a: RadixCiphertext<T>, _ value: UInt64) throws -> RadixCiphertext<T> {
        try scalarAdd(a, reduced(0 &- value, blockCount: a.blockCount))
    }

    /// value - a, that is ~a + value + 1 (the complement of a clean block is linear).
    public func scalarSub(_ value: UInt64, _ a: RadixCiphertext<T>) throws -> RadixCiphertext<T> {
        try check(a)
        var operand = a
        if carryPropagation == .parallelPrefix && !defersPropagation {
            operand = RadixCiphertext(blocks: try clean(a, maxNoise: 2))
            let complement = operand.blocks.map { shortint.uncheckedSubtract(from: messageModulus - 1, $0) }
            let digits = digits(of: reduced(value &+ 1, blockCount: a.blockCount), count: a.blockCount)
            if let difference = try pairedClearSumIfPlanned(complement, digits: digits) { return difference }
        }
        return try sub(trivial(value, blockCount: a.blockCount), operand)
    }

    /// Schoolbook product (eprint 2022/704, §5.2): every pair of blocks i + j < n gives its
    /// low digit (a_i·b_j mod msg, column i+j) and high digit (a_i·b_j / msg, column i+j+1)
    /// by bivariate bootstraps, all n² of them in one layer; then the columns are summed
    /// by carry-save compression and one propagation (deferred on a key that defers it).
    public func mul(_ a: RadixCiphertext<T>, _ b: RadixCiphertext<T>) throws -> RadixCiphertext<T> {
        try check(a, b)
        let msg = messageModulus
        let n = a.blockCount
        let (x, y) = try clean(a, b, maxNoise: 1)
        var lookups: [Lookup] = []
        var destinations: [Int] = []
        for i in 0..<n {
            for j in 0..<(n - i) where x[i].degree > 0 && y[j].degree > 0 {
                lookups.append(shortint.bivariate(x[i], y[j]) { ($0 * $1) % msg })
                destinations.append(i + j)
                if i + j + 1 < n && x[i].degree * y[j].degree >= msg {
                    lookups.append(shortint.bivariate(x[i], y[j]) { ($0 * $1) / msg })
                    destinations.append(i + j + 1)
                }
            }
        }
        var columns = [[Block]](repeating: [], count: n)
        for (block, c) in zip(try shortint.bootstrap(lookups), destinations) { columns[c].append(block) }
        return try result(ofColumns: columns)
    }
}
