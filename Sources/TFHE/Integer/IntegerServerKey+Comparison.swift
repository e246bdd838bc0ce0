/// Comparisons, min, max and select. An order comparison is one layer that compares block
/// pairs, then carry groups and state groups over their states (`order`); equality, one layer
/// then sums of booleans (`allTrue`). Both depths grow with the logarithm of the width.
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

    /// A node of an order comparison's reduction: a leaf (one unit of the first layer: a block
    /// pair, or two blocks packed against their clear digits) or a group of consecutive nodes,
    /// least significant first.
    private struct OrderNode {
        var members: [Int] = []
        /// A carry group folds a running result (member 0, a boolean) with the states above it;
        /// a state group folds states into one state.
        var isCarry = false
        var parent: Int? = nil
        var layer = 0
    }

    /// The plan of `order`'s reduction over `units` leaves (see `order`): a list of nodes whose
    /// last one is the root, and the number of layers after the first.
    private func orderPlan(units: Int, carryGroup mB: Int, stateGroup mT: Int) -> [OrderNode] {
        var nodes = [OrderNode](repeating: OrderNode(), count: units)
        var current = Array(0..<units)
        // capacity[d]: the most elements that d more layers reduce to one.
        var capacity = [1, mB + 1]
        while capacity[capacity.count - 1] < units { capacity.append((mB + 1) + Swift.max(mT, 1) * (capacity[capacity.count - 1] - 1)) }
        var layer = 0
        func group(_ members: [Int], carry: Bool) -> Int {
            nodes.append(OrderNode(members: members, isCarry: carry, parent: nil, layer: layer))
            for m in members { nodes[m].parent = nodes.count - 1 }
            return nodes.count - 1
        }
        while current.count > 1 {
            layer += 1
            if current.count <= mB + 1 { _ = group(current, carry: true); break }
            let remaining = capacity.firstIndex { $0 >= current.count }!
            let target = capacity[remaining - 1]
            var next = [group(Array(current[0...mB]), carry: true)]
            var rest = Array(current[(mB + 1)...])
            // Fold only as many states as the remaining layers need: each state group of k
            // members saves k - 1 elements, and every bootstrap saved here is one fewer in all.
            var excess = 1 + rest.count - target
            while !rest.isEmpty {
                if excess > 0 && mT >= 2 && rest.count >= 2 {
                    let k = Swift.min(mT, rest.count, excess + 1)
                    next.append(group(Array(rest[0..<k]), carry: false))
                    rest.removeFirst(k)
                    excess -= k - 1
                } else {
                    next.append(rest.removeFirst())
                }
            }
            current = next
        }
        return nodes
    }

    /// Whether a and b are in the order `favoured` (Order.greater for gt and ge, Order.less for
    /// lt and le), or equal when `orEqual`.
    ///
    /// One layer orders every unit: a block pair, or, against a clear operand, two blocks
    /// packed against their two clear digits. Each unit's order becomes a state relative to
    /// `favoured`: decided for (2), equal so far (1), decided against (0), the carry states
    /// generate, propagate and kill of an addition; the least significant unit gives the
    /// result itself (a boolean, as a carry into the units above). Then groups of consecutive
    /// nodes, each one bootstrap of their sum with member j at place j (state·2^j):
    ///
    /// - a carry group folds a result r (weight 1) with the k states above it: the states beat
    ///   the result from below exactly as carries do, r + Σ s_j·2^j > 2^k - 1 (the sum of
    ///   k propagates) when the result is still true; k ≤ 3 on the 2_2 sets (sum ≤ 15, noise 4);
    /// - a state group folds k states into one: greater than 2^k - 1 when its most significant
    ///   unequal state is for, equal when all are equal; k ≤ 3 (sum ≤ 14, noise 3).
    ///
    /// One carry group per layer, and only as many state groups as the layers left need
    /// (`orderPlan`): 5, 11, 22 and 46 bootstraps for 4, 8, 16 and 32 blocks in 2, 3, 4 and 4
    /// layers, and against a clear operand 3, 5, 11 and 22 (TFHE-rs 1.7 takes 5, 11, 23 and
    /// 47 in up to 5 layers: block states, groups of four, then the groups' borrows one after
    /// another; and 3, 5, 11, 23).
    private func order(_ a: RadixCiphertext<T>, _ b: Operand, toward favoured: UInt64, orEqual: Bool) throws -> Block {
        try check(a)
        let outcome: (UInt64) -> UInt64 = { ($0 == favoured || (orEqual && $0 == Order.equal)) ? 1 : 0 }
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
        let (mB, mT) = orderGroupSizes
        if mB < 1 { return try orderByPairs(x, operand, outcome: outcome) }
        let msg = messageModulus
        // Units, least significant first: each compares one number against another.
        var units: [(@escaping (UInt64) -> UInt64) -> Lookup] = []
        switch operand {
        case .encrypted(let y):
            for i in x.indices {
                units.append { f in self.shortint.bivariate(x[i], y[i]) { f(Order.of($0, $1)) } }
            }
        case .clear(let digits):
            // A pair of blocks and its two clear digits compare as one number of twice the
            // bits, so one lookup orders both where the pair can be packed (TFHE-rs packs its
            // scalar comparisons the same way); a block left over compares alone.
            var i = 0
            while i < x.count {
                if i + 1 < x.count && shortint.canPack(x[i + 1], x[i]) {
                    let high = x[i + 1], low = x[i], digit = digits[i + 1] * msg + digits[i]
                    units.append { f in self.shortint.bivariate(high, low) { f(Order.of($0 * msg + $1, digit)) } }
                    i += 2
                } else {
                    let block = x[i], digit = digits[i]
                    units.append { f in Lookup(block) { f(Order.of($0 % msg, digit)) } }
                    i += 1
                }
            }
        }
        if units.count == 1 { return try shortint.bootstrap([units[0](outcome)])[0] }
        let nodes = orderPlan(units: units.count, carryGroup: mB, stateGroup: mT)
        let state: (UInt64) -> UInt64 = { $0 == favoured ? 2 : ($0 == Order.equal ? 1 : 0) }
        // What node i's bootstrap outputs, given its order (leaves) or its state (groups): a
        // result where its parent takes it as member 0 of a carry group, else its state at
        // its place in its parent; the root outputs the result.
        func encode(_ i: Int, _ value: UInt64) -> UInt64 {
            guard let p = nodes[i].parent else { return value }
            let index = nodes[p].members.firstIndex(of: i)!
            if nodes[p].isCarry && index == 0 { return value }
            return value << UInt64(nodes[p].isCarry ? index - 1 : index)
        }
        var values = [Block?](repeating: nil, count: nodes.count)
        let leaves = try shortint.bootstrap(units.indices.map { u in
            units[u]({ order in encode(u, u == 0 ? outcome(order) : state(order)) })
        })
        for (u, block) in leaves.enumerated() { values[u] = block }
        let lastLayer = nodes.map(\.layer).max()!
        for layer in 1...lastLayer {
            let ids = nodes.indices.filter { nodes[$0].layer == layer && !nodes[$0].members.isEmpty }
            let lookups = ids.map { i in
                let members = nodes[i].members.map { values[$0]! }
                let sum = members.dropFirst().reduce(members[0]) { shortint.uncheckedAdd($0, $1) }
                let states = nodes[i].isCarry ? members.count - 1 : members.count
                let allEqual = (UInt64(1) << UInt64(states)) - 1
                if nodes[i].isCarry {
                    return Lookup(sum) { v in encode(i, v > allEqual ? 1 : 0) }
                }
                return Lookup(sum) { v in encode(i, v > allEqual ? 2 : (v == allEqual ? 1 : 0)) }
            }
            for (i, block) in zip(ids, try shortint.bootstrap(lookups)) { values[i] = block }
        }
        return values[nodes.count - 1]!
    }

    /// Members of `order`'s groups: a carry group takes a result and mB states, whose sum
    /// reaches 2^(mB+1) - 1 at noise level mB + 1; a state group mT states, 2^(mT+1) - 2 at
    /// noise level mT. Both within the plaintext space and the noise budget.
    var orderGroupSizes: (carry: Int, state: Int) {
        var mB = 0
        while UInt64(mB + 2) <= encoding.maxNoiseLevel && (UInt64(1) << UInt64(mB + 2)) - 1 <= encoding.maxDegree { mB += 1 }
        return (mB, comparisonGroupSize)
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
    public func lt(_ a: RadixCiphertext<T>, _ b: RadixCiphertext<T>) throws -> ShortintCiphertext<T> { try order(a, encrypted(a, b), toward: Order.less, orEqual: false) }
    public func le(_ a: RadixCiphertext<T>, _ b: RadixCiphertext<T>) throws -> ShortintCiphertext<T> { try order(a, encrypted(a, b), toward: Order.less, orEqual: true) }
    public func gt(_ a: RadixCiphertext<T>, _ b: RadixCiphertext<T>) throws -> ShortintCiphertext<T> { try order(a, encrypted(a, b), toward: Order.greater, orEqual: false) }
    public func ge(_ a: RadixCiphertext<T>, _ b: RadixCiphertext<T>) throws -> ShortintCiphertext<T> { try order(a, encrypted(a, b), toward: Order.greater, orEqual: true) }

    public func scalarEq(_ a: RadixCiphertext<T>, _ v: UInt64) throws -> ShortintCiphertext<T> {
        fitsWidth(a, v) ? try equality(a, clear(a, v), negate: false) : trivialBlock(0)
    }
    public func scalarNe(_ a: RadixCiphertext<T>, _ v: UInt64) throws -> ShortintCiphertext<T> {
        fitsWidth(a, v) ? try equality(a, clear(a, v), negate: true) : trivialBlock(1)
    }
    // A constant at either end of the range decides some orders alone (as TFHE-rs's do):
    // nothing is below 0 and nothing above the largest value of the width.
    public func scalarLt(_ a: RadixCiphertext<T>, _ v: UInt64) throws -> ShortintCiphertext<T> {
        fitsWidth(a, v) && v != 0 ? try order(a, clear(a, v), toward: Order.less, orEqual: false) : trivialBlock(v == 0 ? 0 : 1)
    }
    public func scalarLe(_ a: RadixCiphertext<T>, _ v: UInt64) throws -> ShortintCiphertext<T> {
        fitsWidth(a, v) && v != largest(a) ? try order(a, clear(a, v), toward: Order.less, orEqual: true) : trivialBlock(1)
    }
    public func scalarGt(_ a: RadixCiphertext<T>, _ v: UInt64) throws -> ShortintCiphertext<T> {
        fitsWidth(a, v) && v != largest(a) ? try order(a, clear(a, v), toward: Order.greater, orEqual: false) : trivialBlock(0)
    }
    public func scalarGe(_ a: RadixCiphertext<T>, _ v: UInt64) throws -> ShortintCiphertext<T> {
        fitsWidth(a, v) && v != 0 ? try order(a, clear(a, v), toward: Order.greater, orEqual: true) : trivialBlock(v == 0 ? 1 : 0)
    }

    /// The largest value of a's width.
    private func largest(_ a: RadixCiphertext<T>) -> UInt64 { reduced(UInt64.max, blockCount: a.blockCount) }

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
