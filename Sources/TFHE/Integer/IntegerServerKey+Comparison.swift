/// Comparisons, min, max and select. An order comparison is one layer that compares block
/// pairs, then a reduction by groups of blocks (`order`); equality, one layer then sums of
/// booleans (`allTrue`). Both depths grow with the logarithm of the width.
/// Order of two digits, or of two ranges of digits: less, equal, greater.
enum Order {
    static let less: UInt64 = 0
    static let equal: UInt64 = 1
    static let greater: UInt64 = 2
    static func of(_ a: UInt64, _ b: UInt64) -> UInt64 { a < b ? less : (a == b ? equal : greater) }
}

extension IntegerServerKey {
    /// The clear operand of a comparison, as digits.
    enum Operand {
        case encrypted([Block])
        case clear([UInt64])
    }

    /// One layer: f(a_i, b_i) for every block, with a clear b_i as a univariate table.
    private func blockwise(_ x: [Block], _ y: Operand, _ f: @escaping (UInt64, UInt64) -> UInt64) throws -> [Block] {
        let msg = messageModulus
        switch y {
        case .encrypted(let y):
            return try shortint.bootstrap(zip(x, y).map { shortint.bivariate($0, $1, f) })
        case .clear(let digits):
            return try shortint.bootstrap(zip(x, digits).map { block, digit in Lookup(block) { f($0 % msg, digit) } })
        }
    }

    /// The order of a and b, through `outcome`. Each block pair's order s (less 0, equal 1,
    /// greater 2) is reduced in groups of m blocks, like carry lookahead: block j of a group
    /// holds s·2^j, so the group's sum V is 2^m - 1 when every pair is equal, at least 2^m when
    /// its most significant unequal pair is greater (2·2^j outweighs the blocks below it, which
    /// the equal ones above top up to 2^m), and at most 2^m - 2 when that pair is less. One
    /// bootstrap decodes a group straight into its state at its place in the next level's group;
    /// the last one applies `outcome`. With m = 3 (the 2_2 sets: V ≤ 14, noise level 3) that is
    /// n + ⌈n/3⌉ + ⌈n/9⌉ + ... + 1 bootstraps in 1 + ⌈log₃ n⌉ layers, where a tree of pairs
    /// takes 2n - 1 in 1 + ⌈log₂ n⌉ (TFHE-rs 1.7 reduces groups of 4
    /// and then resolves the groups one after another: 47 bootstraps for 32 blocks).
    private func order(_ a: RadixCiphertext<T>, _ b: Operand, outcome: @escaping (UInt64) -> UInt64) throws -> Block {
        try check(a)
        var operand = b
        let x: [Block]
        switch b {
        case .encrypted(let y):
            let (cx, cy) = try clean(a, RadixCiphertext(blocks: y), maxNoise: 1)
            x = cx
            operand = .encrypted(cy)
        case .clear:
            x = try clean(a, maxNoise: encoding.maxNoiseLevel)
        }
        if x.count == 1 { return try blockwise(x, operand) { outcome(Order.of($0, $1)) }[0] }
        let m = comparisonGroupSize
        if m < 2 { return try orderByPairs(x, operand, outcome: outcome) }
        let msg = messageModulus
        // Block i sits at place i mod m of its group (block 0 is the least significant).
        var states: [Block]
        switch operand {
        case .encrypted(let y):
            states = try shortint.bootstrap(x.indices.map { i in
                shortint.bivariate(x[i], y[i]) { Order.of($0, $1) << UInt64(i % m) }
            })
        case .clear(let digits):
            // A pair of blocks and its two clear digits compare as one number of twice the
            // bits, so one lookup orders both where the pair can be packed (TFHE-rs packs its
            // scalar comparisons the same way); a block left over compares alone.
            var units: [(blocks: [Block], digit: UInt64)] = []
            var i = 0
            while i < x.count {
                if i + 1 < x.count && shortint.canPack(x[i + 1], x[i]) {
                    units.append(([x[i + 1], x[i]], digits[i + 1] * msg + digits[i]))
                    i += 2
                } else {
                    units.append(([x[i]], digits[i]))
                    i += 1
                }
            }
            let final = units.count == 1
            states = try shortint.bootstrap(units.enumerated().map { u, unit in
                let place = UInt64(u % m), digit = unit.digit
                let state: (UInt64) -> UInt64 = { value in
                    let order = Order.of(value, digit)
                    return final ? outcome(order) : order << place
                }
                return unit.blocks.count == 2 ? shortint.bivariate(unit.blocks[0], unit.blocks[1]) { state($0 * msg + $1) }
                                              : Lookup(unit.blocks[0]) { state($0 % msg) }
            })
            if final { return states[0] }
        }
        while true {
            let groupCount = (states.count + m - 1) / m
            let last = groupCount == 1
            let lookups = (0..<groupCount).map { g in
                let members = states[(g * m)..<Swift.min(states.count, (g + 1) * m)]
                let sum = members.dropFirst().reduce(members.first!) { shortint.uncheckedAdd($0, $1) }
                let allEqual = (UInt64(1) << UInt64(members.count)) - 1
                let place = UInt64(g % m)
                return Lookup(sum) { v in
                    let order = v > allEqual ? Order.greater : (v == allEqual ? Order.equal : Order.less)
                    return last ? outcome(order) : order << place
                }
            }
            states = try shortint.bootstrap(lookups)
            if last { return states[0] }
        }
    }

    /// Blocks per group of `order`'s reduction: m states sum to at most 2^(m+1) - 2, which the
    /// plaintext space must hold, at noise level m.
    private var comparisonGroupSize: Int {
        var m = 1
        while UInt64(m + 1) <= encoding.maxNoiseLevel && (UInt64(1) << UInt64(m + 2)) - 2 <= encoding.maxDegree { m += 1 }
        return m
    }

    /// `order` where no two states fit one group (a plaintext space of 2 bits): a tree of pairs,
    /// the more significant order winning unless it is `equal`.
    private func orderByPairs(_ x: [Block], _ operand: Operand, outcome: @escaping (UInt64) -> UInt64) throws -> Block {
        var orders = try blockwise(x, operand, Order.of)
        while orders.count > 1 {
            let last = orders.count == 2
            var lookups: [Lookup] = []
            for pair in stride(from: 0, to: orders.count - 1, by: 2) {
                lookups.append(shortint.bivariate(orders[pair + 1], orders[pair]) { high, low in
                    let combined = high == Order.equal ? low : high
                    return last ? outcome(combined) : combined
                })
            }
            var next = try shortint.bootstrap(lookups)
            if orders.count % 2 == 1 { next.append(orders[orders.count - 1]) }
            orders = next
        }
        return orders[0]
    }

    /// All of a list of booleans true: sums of up to maxNoiseLevel of them (each a bootstrap
    /// output of noise 1) checked against their count, repeated: log₅ n layers.
    private func allTrue(_ bits: [Block], negate: Bool) throws -> Block {
        var level = bits
        let group = Int(encoding.maxNoiseLevel)
        while true {
            let last = level.count <= group
            var lookups: [Lookup] = []
            for start in stride(from: 0, to: level.count, by: group) {
                let members = level[start..<Swift.min(level.count, start + group)]
                let sum = members.dropFirst().reduce(members.first!) { shortint.uncheckedAdd($0, $1) }
                let count = UInt64(members.count)
                lookups.append(Lookup(sum, outputDegree: 1) { v in ((v == count) != (last && negate)) ? 1 : 0 })
            }
            level = try shortint.bootstrap(lookups)
            if last { return level[0] }
        }
    }

    private func equality(_ a: RadixCiphertext<T>, _ b: Operand, negate: Bool) throws -> Block {
        try check(a)
        let bits: [Block]
        switch b {
        case .encrypted(let y):
            let (x, cy) = try clean(a, RadixCiphertext(blocks: y), maxNoise: 1)
            if x.count == 1 { return try blockwise(x, .encrypted(cy)) { ($0 == $1) != negate ? 1 : 0 }[0] }
            bits = try blockwise(x, .encrypted(cy)) { $0 == $1 ? 1 : 0 }
        case .clear(let digits):
            let x = try clean(a, maxNoise: encoding.maxNoiseLevel)
            if x.count == 1 { return try blockwise(x, .clear(digits)) { ($0 == $1) != negate ? 1 : 0 }[0] }
            bits = try blockwise(x, .clear(digits)) { $0 == $1 ? 1 : 0 }
        }
        return try allTrue(bits, negate: negate)
    }

    private func encrypted(_ a: RadixCiphertext<T>, _ b: RadixCiphertext<T>) throws -> Operand {
        try check(a, b)
        return .encrypted(b.blocks)
    }

    private func clear(_ a: RadixCiphertext<T>, _ value: UInt64) -> Operand {
        .clear(digits(of: value, count: a.blockCount))
    }

    /// A clear operand wider than the ciphertext compares as a larger number.
    private func fitsWidth(_ a: RadixCiphertext<T>, _ value: UInt64) -> Bool {
        reduced(value, blockCount: a.blockCount) == value
    }

    public func eq(_ a: RadixCiphertext<T>, _ b: RadixCiphertext<T>) throws -> ShortintCiphertext<T> { try equality(a, encrypted(a, b), negate: false) }
    public func ne(_ a: RadixCiphertext<T>, _ b: RadixCiphertext<T>) throws -> ShortintCiphertext<T> { try equality(a, encrypted(a, b), negate: true) }
    public func lt(_ a: RadixCiphertext<T>, _ b: RadixCiphertext<T>) throws -> ShortintCiphertext<T> { try order(a, encrypted(a, b)) { $0 == Order.less ? 1 : 0 } }
    public func le(_ a: RadixCiphertext<T>, _ b: RadixCiphertext<T>) throws -> ShortintCiphertext<T> { try order(a, encrypted(a, b)) { $0 != Order.greater ? 1 : 0 } }
    public func gt(_ a: RadixCiphertext<T>, _ b: RadixCiphertext<T>) throws -> ShortintCiphertext<T> { try order(a, encrypted(a, b)) { $0 == Order.greater ? 1 : 0 } }
    public func ge(_ a: RadixCiphertext<T>, _ b: RadixCiphertext<T>) throws -> ShortintCiphertext<T> { try order(a, encrypted(a, b)) { $0 != Order.less ? 1 : 0 } }

    public func scalarEq(_ a: RadixCiphertext<T>, _ v: UInt64) throws -> ShortintCiphertext<T> {
        fitsWidth(a, v) ? try equality(a, clear(a, v), negate: false) : trivialBlock(0)
    }
    public func scalarNe(_ a: RadixCiphertext<T>, _ v: UInt64) throws -> ShortintCiphertext<T> {
        fitsWidth(a, v) ? try equality(a, clear(a, v), negate: true) : trivialBlock(1)
    }
    public func scalarLt(_ a: RadixCiphertext<T>, _ v: UInt64) throws -> ShortintCiphertext<T> {
        fitsWidth(a, v) ? try order(a, clear(a, v)) { $0 == Order.less ? 1 : 0 } : trivialBlock(1)
    }
    public func scalarLe(_ a: RadixCiphertext<T>, _ v: UInt64) throws -> ShortintCiphertext<T> {
        fitsWidth(a, v) ? try order(a, clear(a, v)) { $0 != Order.greater ? 1 : 0 } : trivialBlock(1)
    }
    public func scalarGt(_ a: RadixCiphertext<T>, _ v: UInt64) throws -> ShortintCiphertext<T> {
        fitsWidth(a, v) ? try order(a, clear(a, v)) { $0 == Order.greater ? 1 : 0 } : trivialBlock(0)
    }
    public func scalarGe(_ a: RadixCiphertext<T>, _ v: UInt64) throws -> ShortintCiphertext<T> {
        fitsWidth(a, v) ? try order(a, clear(a, v)) { $0 != Order.less ? 1 : 0 } : trivialBlock(0)
    }

    /// condition ? a : b. Each block is (c ? a_i : 0) + (c ? 0 : b_i), two bivariate
    /// bootstraps in one layer (TFHE-rs's `if_then_else`); the sum holds one of the two.
    public func select(_ condition: ShortintCiphertext<T>, _ a: RadixCiphertext<T>, _ b: RadixCiphertext<T>) throws -> RadixCiphertext<T> {
        try checkBoolean(condition)
        try check(a, b)
        let n = a.blockCount
        let cleanedCondition = try shortint.cleaned([condition], maxDegree: 1, maxNoise: 1)[0]
        let (x, y) = try clean(a, b, maxNoise: 1)
        var lookups: [Lookup] = []
        for i in 0..<n {
            lookups.append(shortint.bivariate(cleanedCondition, x[i]) { c, v in c == 1 ? v : 0 })
            lookups.append(shortint.bivariate(cleanedCondition, y[i]) { c, v in c == 1 ? 0 : v })
        }
        let parts = try shortint.bootstrap(lookups)
        return RadixCiphertext(blocks: (0..<n).map { i in
            var sum = shortint.uncheckedAdd(parts[2 * i], parts[2 * i + 1])
            sum.degree = Swift.max(parts[2 * i].degree, parts[2 * i + 1].degree)  // one of the two is 0
            return sum
        })
    }

    public func max(_ a: RadixCiphertext<T>, _ b: RadixCiphertext<T>) throws -> RadixCiphertext<T> {
        try select(gt(a, b), a, b)
    }

    public func min(_ a: RadixCiphertext<T>, _ b: RadixCiphertext<T>) throws -> RadixCiphertext<T> {
        try select(gt(a, b), b, a)
    }
}
