import Synchronization

/// Sums of blocks column by column, and carry propagation by a parallel prefix.
///
/// Every addition-like operation (add, sub, neg, scalar add, the partial products of a
/// multiplication) is a list of columns of blocks whose weighted sum Σ_c messageModulus^c ·
/// Σ column[c] is the result. `sumColumns` first compresses columns that are too large
/// (carry-save: a group of blocks is summed and split into its message, kept, and its carry,
/// sent to the next column, all groups of a layer at once, as `ColumnCompression` plans
/// them), then adds each column into one block whose value is at most 2·messageModulus - 2
/// (so its carry out is 0 or 1), then resolves all carries at once. Under the prefix plan a
/// clean operand plus a clear one (neg, scalar add and sub) resolves its carries over pairs
/// of blocks instead (`pairedClearSum`).
///
/// Carries by grouped lookahead (the generate/propagate formulation of Brent and Kung 1982,
/// with the group sums of carry-lookahead adders): block c *generates* a carry when its sum is
/// at least messageModulus, *propagates* an incoming one when it is exactly messageModulus - 1,
/// and *kills* it otherwise. One layer gives each block's state (block 0's carry itself, with
/// its message, from one many-LUT bootstrap), encoded at its place j in a group of g = 3
/// (kill 0, propagate 2^j, generate 2^(j+1)). Summed without any bootstrap, a carry in and the
/// g states above it give the carry out as one bootstrap of the sum (it exceeds Σ 2^j exactly
/// when the carry comes out, the sum of an adder's two operands and its carry in), and g states
/// the group's own state; groups of groups repeat this one level up (`CarryLookahead`). Then
/// each block's message, (sum + carry in) mod messageModulus: one bootstrap per block, the last
/// one a many-LUT that gives the carry out too where asked.
/// For n blocks that is 3n - 4 bootstraps plus one per group state (8, 20, 47 and 100 for an
/// addition of 4, 8, 16 and 32 blocks, in 3, 4, 5 and 7 layers; TFHE-rs 1.7's parallel
/// addition takes 11, 23, 49 and 101).
/// How the carries of column sums are resolved.
///
/// - `parallelPrefix`: the grouped lookahead above, about 3m bootstraps for m blocks in about
///   2 + 2·⌈log₃ m⌉ layers (fewer than m/9 + 3 up to 32 blocks); the fastest plan when many
///   cores share each layer.
/// - `ripple`: block by block, the message and the carry of each block's sum from one many-LUT
///   bootstrap (`ShortintServerKey.bootstrap(many:)`): m bootstraps in m layers of one. Fewest
///   bootstraps, and the fastest plan on few cores. It needs a sum plus a carry below half the
///   plaintext space (2_2 sets: at most 7 of 16); sums that do not fit go by the prefix.
/// - `fastest(workers:singleToBatchedCost:)`: whichever of the two `CarryCostModel` expects to
///   finish first on `workers` threads, given how much dearer one bootstrap alone is than one
///   in a batch. The choice depends only on these numbers and the blocks' metadata, so a
///   metadata-only key given the same plan quotes exactly what the evaluating key performs.
public enum CarryPropagation: Sendable, Hashable {
    case parallelPrefix
    case ripple
    case fastest(workers: Int, singleToBatchedCost: Double)
}

/// Expected latency of a plan, in units of one batched bootstrap: a layer of L bootstraps on
/// W workers takes ⌈L/W⌉ batched bootstraps, or one bootstrap alone (`singleToBatchedCost`
/// units) when every worker has at most one.
public struct CarryCostModel: Sendable, Hashable {
    public let workers: Int
    public let singleToBatchedCost: Double

    public init(workers: Int, singleToBatchedCost: Double) {
        self.workers = max(1, workers)
        self.singleToBatchedCost = singleToBatchedCost
    }

    public func latency(layers: [Int]) -> Double {
        layers.filter { $0 > 0 }.reduce(0) { total, size in
            let perWorker = (size + workers - 1) / workers
            return total + (perWorker == 1 ? singleToBatchedCost : Double(perWorker))
        }
    }
}

/// Carry states of the prefix: none, generate, propagate. A composition over a range that
/// starts at block 0 is never `propagate` (nothing comes into block 0), so it is the carry.
enum CarryState {
    static let none: UInt64 = 0
    static let generate: UInt64 = 1
    static let propagate: UInt64 = 2
}

extension IntegerServerKey {
    /// The blocks of Σ_c messageModulus^c · Σ columns[c] modulo messageModulus^columns.count,
    /// and, if asked, the carry out of the top block (valid only when no compression is
    /// needed, that is when every column already fits: the callers that ask for it add two
    /// clean operands). Blocks below `lowest` are only summed for the carries they send up:
    /// under the prefix plan their messages are not computed, and they come back unreduced
    /// (for callers that drop them, as the low half of a multiply-high).
    func sumColumns(_ input: [[Block]], carryOut wantCarry: Bool = false, from lowest: Int = 0) throws -> (blocks: [Block], carry: Block?) {
        try propagateCarries(try compressedColumnSums(input, carryOut: wantCarry), carryOut: wantCarry, from: lowest)
    }

    /// The integer Σ columns as an operation's result: propagated (`sumColumns`), or, on a key
    /// that defers propagation, `deferredSum`.
    func result(ofColumns columns: [[Block]]) throws -> RadixCiphertext<T> {
        defersPropagation ? try deferredSum(columns) : RadixCiphertext(blocks: try sumColumns(columns).blocks)
    }

    /// Deferred propagation: the integer Σ columns as one block per column that may still hold
    /// a carry (the columns compressed as `sumColumns` does, and no propagation). The
    /// propagation is paid by the next operation that needs clean blocks (`propagated`, which
    /// runs the same propagation on these sums, at the cost this one would have paid) and not
    /// at all by a result that is only decrypted, which reads message and carry
    /// (`IntegerClientKey.decryptRadix`). (TFHE-rs's "smart" operations leave carries too, and
    /// propagate an operand in place, once, when it no longer fits.)
    func deferredSum(_ columns: [[Block]]) throws -> RadixCiphertext<T> {
        RadixCiphertext(blocks: try compressedColumnSums(columns, carryOut: false))
    }

    /// Step 1 of `sumColumns`: compression, layer by layer as `ColumnCompression` plans it,
    /// until every column sums to a block that the propagation accepts, and those sums.
    private func compressedColumnSums(_ input: [[Block]], carryOut: Bool) throws -> [Block] {
        let msg = messageModulus
        let width = input.count
        let plan = ColumnCompression(messageModulus: msg, maxDegree: encoding.maxDegree, maxNoise: encoding.maxNoiseLevel,
                                     twoFunctionBound: shortint.manyLookupBound(functionCount: 2), width: width,
                                     relaxedTop: !carryOut)
        var columns = input
        // 1. Compression.
        while let groups = plan.layer(columns.map { $0.map { ColumnCompression.Term(degree: $0.degree, noise: $0.noiseLevel) } }) {
            var lookups: [ShortintServerKey<T>.ManyLookup] = []
            var destinations: [[Int]] = []
            var next = [[Block]](repeating: [], count: width)
            for c in 0..<width {
                var grouped = [Bool](repeating: false, count: columns[c].count)
                for group in groups[c] { for i in group { grouped[i] = true } }
                next[c] = columns[c].indices.filter { !grouped[$0] }.map { columns[c][$0] }
                for group in groups[c] {
                    let sum = group.dropFirst().reduce(columns[c][group[0]]) { shortint.uncheckedAdd($0, columns[c][$1]) }
                    let carries = sum.degree >= msg && c + 1 < width
                    // Message and carry from one many-LUT bootstrap when the sum stays below
                    // half the plaintext space; otherwise one bootstrap each.
                    if carries && sum.degree < plan.twoFunctionBound {
                        lookups.append(.init(sum, [{ $0 % msg }, { $0 / msg }]))
                        destinations.append([c, c + 1])
                    } else {
                        lookups.append(.init(sum, [{ $0 % msg }]))
                        destinations.append([c])
                        if carries {
                            lookups.append(.init(sum, [{ $0 / msg }]))
                            destinations.append([c + 1])
                        }
                    }
                }
            }
            let results = try shortint.bootstrap(many: lookups)
            for (blocks, columns) in zip(results, destinations) {
                for (block, c) in zip(blocks, columns) { next[c].append(block) }
            }
            columns = next
        }
        // 2. One block per column.
        return columns.map { column in
            column.isEmpty ? trivialBlock(0) : column.dropFirst().reduce(column[0]) { shortint.uncheckedAdd($0, $1) }
        }
    }

    /// Carry propagation of column sums (block 0 at most 2·msg - 1, the others at most
    /// 2·msg - 2, noise below the maximum; the top one, when no carry out is asked, up to one
    /// bootstrap's input less the carry it receives): states, carries by grouped lookahead (or
    /// Sklansky's prefix), final messages. Blocks below `lowest` are needed only for their
    /// carries (see `sumColumns`).
    func propagateCarries(_ sums: [Block], carryOut wantCarry: Bool, from lowest: Int = 0) throws -> (blocks: [Block], carry: Block?) {
        switch carryPropagation {
        case .parallelPrefix:
            return try prefixCarries(sums, carryOut: wantCarry, from: lowest)
        case .ripple:
            return canRipple(sums, carryOut: wantCarry) ? try rippleCarries(sums, carryOut: wantCarry)
                : try prefixCarries(sums, carryOut: wantCarry, from: lowest)
        case .fastest(let workers, let ratio):
            let model = CarryCostModel(workers: workers, singleToBatchedCost: ratio)
            if try canRipple(sums, carryOut: wantCarry) && model.latency(layers: layers { try $0.rippleCarries(sums, carryOut: wantCarry) })
                <= model.latency(layers: layers { try $0.prefixCarries(sums, carryOut: wantCarry, from: lowest) }) {
                return try rippleCarries(sums, carryOut: wantCarry)
            }
            return try prefixCarries(sums, carryOut: wantCarry, from: lowest)
        }
    }

    /// Whether every block's sum plus an incoming carry fits a two-function table, within the
    /// noise budget; the top block, when no carry out is asked, only one bootstrap's input
    /// (its message alone).
    func canRipple(_ sums: [Block], carryOut wantCarry: Bool) -> Bool {
        let bound = shortint.manyLookupBound(functionCount: 2)
        return sums.indices.allSatisfy { c in
            let incoming: UInt64 = c > 0 ? 1 : 0
            let degreeFits = c == sums.count - 1 && !wantCarry ? sums[c].degree + incoming <= encoding.maxDegree
                : sums[c].degree + incoming < bound
            return degreeFits && sums[c].noiseLevel + incoming <= encoding.maxNoiseLevel
        }
    }

    /// Ripple carries: block c's sum plus the carry from block c-1 gives its message and its
    /// carry out in one many-LUT bootstrap (`canRipple` holds).
    func rippleCarries(_ sums: [Block], carryOut wantCarry: Bool) throws -> (blocks: [Block], carry: Block?) {
        let msg = messageModulus
        var outputs = sums
        var carry: Block?
        for c in sums.indices {
            var s = sums[c]
            if let carry { s = shortint.uncheckedAdd(s, carry) }
            let carryNeeded = (c + 1 < sums.count || wantCarry) && s.degree >= msg
            if carryNeeded {
                let both = try shortint.bootstrap(many: [.init(s, [{ $0 % msg }, { $0 / msg }])])[0]
                outputs[c] = both[0]
                carry = both[1]
            } else {
                outputs[c] = s.degree < msg && s.noiseLevel <= 1 ? s : try shortint.bootstrap([Lookup(s) { $0 % msg }])[0]
                carry = nil
            }
        }
        return (outputs, wantCarry ? (carry ?? trivialBlock(0)) : nil)
    }

    /// The layer sizes `plan` runs on these blocks (for the cost model): the same code on a
    /// metadata-only key, which counts what it would bootstrap and does no cryptography.
    func layers(of plan: (IntegerServerKey<T>) throws -> (blocks: [Block], carry: Block?)) throws -> [Int] {
        let sizes = Mutex<[Int]>([])
        let planner = try IntegerServerKey.metadataOnly(parameters: parameters).observing { size in sizes.withLock { $0.append(size) } }
        _ = try plan(planner)
        return sizes.withLock { $0 }
    }

    /// Carries by grouped lookahead (see the top of this file); the Sklansky prefix where the
    /// plaintext space holds no group of two states with a carry (`sklanskyCarries`).
    func prefixCarries(_ sums: [Block], carryOut wantCarry: Bool, from lowest: Int = 0) throws -> (blocks: [Block], carry: Block?) {
        let g = Swift.min(orderGroupSizes.carry, orderGroupSizes.state)
        if g < 2 || sums.count < 2 { return try sklanskyCarries(sums, carryOut: wantCarry) }
        let msg = messageModulus
        let width = sums.count, top = width - 1
        let twoFunctions = shortint.manyLookupBound(functionCount: 2)
        // The dataflow of the carries, planned first: leaves are block 0's carry and the states
        // of blocks 1..<top; a node is a carry (a carry in and the states above it) or a state
        // (consecutive states). `nil` is a carry known to be 0 or a state known to be kill.
        var plan = CarryLookahead(groupSize: g)
        let carry0: Int? = sums[0].degree >= msg ? plan.leaf() : nil
        var states: [Int?] = []
        for c in 1..<top {
            // A block that never reaches msg - 1 kills whatever comes into it.
            states.append(sums[c].degree >= msg - 1 ? plan.leaf(place: UInt64((c - 1) % g)) : nil)
        }
        let carriesAbove = plan.carries(base: carry0, states: states)
        let carryInto = [nil, carry0] + carriesAbove   // carryInto[c]: the carry into block c
        // Layer 1: block 0's message and carry (one many-LUT where it fits) and the states.
        var values = [Block?](repeating: nil, count: plan.nodes.count)
        var outputs = sums
        var first: [ShortintServerKey<T>.ManyLookup] = []
        var firstTargets: [[Int?]] = []   // per lookup, per function: a node, or nil for block 0
        let needsMessage0 = lowest == 0 && (sums[0].degree >= msg || sums[0].noiseLevel > 1)
        let message0: (UInt64) -> UInt64 = { $0 % msg }, carryOf: (UInt64) -> UInt64 = { $0 >= msg ? 1 : 0 }
        if let k = carry0 {
            if !needsMessage0 {
                first.append(.init(sums[0], [carryOf])); firstTargets.append([k])
            } else if sums[0].degree < twoFunctions {
                first.append(.init(sums[0], [message0, carryOf])); firstTargets.append([nil, k])
            } else {
                first.append(.init(sums[0], [message0])); firstTargets.append([nil])
                first.append(.init(sums[0], [carryOf])); firstTargets.append([k])
            }
        } else if needsMessage0 {
            first.append(.init(sums[0], [message0])); firstTargets.append([nil])
        }
        for (i, state) in states.enumerated() {
            guard let node = state else { continue }
            let place = plan.nodes[node].place
            first.append(.init(sums[i + 1], [{ value in
                (value >= msg ? CarryLookahead.generate : (value == msg - 1 ? CarryLookahead.propagate : CarryLookahead.kill)) << place
            }]))
            firstTargets.append([node])
        }
        for (blocks, targets) in zip(try shortint.bootstrap(many: first), firstTargets) {
            for (block, target) in zip(blocks, targets) {
                if let node = target { values[node] = block } else { outputs[0] = block }
            }
        }
        // Then by layers: the nodes ready, and each block's message once its carry in is.
        var carryOut: Block? = nil
        let lastLayer = Swift.max(1, plan.nodes.map(\.layer).max() ?? 1)
        for layer in 2...(lastLayer + 1) {
            var lookups: [ShortintServerKey<T>.ManyLookup] = []
            var targets: [[(node: Int?, block: Int)]] = []
            for i in plan.nodes.indices where plan.nodes[i].layer == layer {
                lookups.append(lookaheadLookup(plan.nodes[i], values))
                targets.append([(i, 0)])
            }
            for c in 1...top where c >= lowest {
                let ready = carryInto[c].map { plan.nodes[$0].layer + 1 } ?? 2
                guard ready == layer else { continue }
                var s = sums[c]
                if let k = carryInto[c] { s = shortint.uncheckedAdd(s, values[k]!) }
                if c == top && wantCarry && s.degree >= msg {
                    if s.degree < twoFunctions {
                        lookups.append(.init(s, [message0, carryOf])); targets.append([(nil, c), (nil, -1)])
                    } else {
                        lookups.append(.init(s, [message0])); targets.append([(nil, c)])
                        lookups.append(.init(s, [carryOf])); targets.append([(nil, -1)])
                    }
                } else if s.degree >= msg || s.noiseLevel > 1 {
                    lookups.append(.init(s, [message0])); targets.append([(nil, c)])
                } else {
                    outputs[c] = s
                }
            }
            for (blocks, row) in zip(try shortint.bootstrap(many: lookups), targets) {
                for (block, target) in zip(blocks, row) {
                    if let node = target.node { values[node] = block } else if target.block >= 0 { outputs[target.block] = block } else { carryOut = block }
                }
            }
        }
        return (outputs, wantCarry ? (carryOut ?? trivialBlock(0)) : nil)
    }

    /// The bootstrap of a node of `CarryLookahead`'s plan on the sum of its inputs (known
    /// ones in `values`; nil inputs are known kills or a carry of 0): a carry is 1 exactly when
    /// the sum exceeds the sum of all propagates, a group's state compares with it.
    func lookaheadLookup(_ node: CarryLookahead.Node, _ values: [Block?]) -> ShortintServerKey<T>.ManyLookup {
        let members = node.inputs.map { $0.map { values[$0]! } ?? trivialBlock(0) }
        let sum = members.dropFirst().reduce(members[0]) { shortint.uncheckedAdd($0, $1) }
        let allPropagate = node.allPropagate, place = node.place
        if node.isCarry { return .init(sum, [{ $0 > allPropagate ? 1 : 0 }]) }
        return .init(sum, [{ v in
            (v > allPropagate ? CarryLookahead.generate : (v == allPropagate ? CarryLookahead.propagate : CarryLookahead.kill)) << place
        }])
    }

    /// x + Σ_c digits[c]·msg^c modulo msg^n for clean blocks x (no carry, noise level 1 at
    /// most, each pair packable as `canPack` says), with the carries of the prefix plan resolved over pairs of blocks; nil
    /// where the parameters allow no such plan (fewer than two blocks, no lookahead group, or
    /// a plaintext space below 4·msg), and the caller sums columns instead.
    ///
    /// A clean operand plus a clear one is a sum whose blocks need no compression, and two
    /// blocks pack into one bootstrap input (lo + msg·hi) that with its two clear digits is one
    /// digit of base msg²: its carry state (generate, propagate, kill) is one bootstrap of the
    /// packed pair, so the grouped lookahead (`CarryLookahead`) resolves half as many states
    /// (TFHE-rs's parallel scalar addition packs block pairs the same way). Given the carry c
    /// into a pair, its low block is (lo + d_lo + c) mod msg, one bootstrap of lo + c; its high
    /// block comes from a prepared block w = 4·v + 2·[lo + d_lo = msg - 1], one bootstrap of the
    /// packed pair in the first layer (v: the high digit when no carry comes in), and then w + c
    /// gives v, or v + 1 when the low block passes the carry on, in one bootstrap. A pair with
    /// no carry in, or whose low block cannot pass one on, takes its high block straight from
    /// the packed pair. Negation (~x + 1) of 4, 8, 16 and 32 blocks: 6, 16, 36 and 79
    /// bootstraps (TFHE-rs 1.7's parallel one: 10, 22, 46, 96), in 2 to 5 layers.
    func pairedClearSum(_ x: [Block], digits: [UInt64]) throws -> [Block]? {
        let msg = messageModulus, n = x.count
        let g = Swift.min(orderGroupSizes.carry, orderGroupSizes.state)
        guard n >= 2, g >= 2, 4 * msg <= encoding.plaintextModulus, x.allSatisfy({ $0.degree < msg && $0.noiseLevel <= 1 }),
              stride(from: 0, to: n - 1, by: 2).allSatisfy({ shortint.canPack(x[$0 + 1], x[$0]) }) else { return nil }
        let pairBase = msg * msg
        let pairs = (n + 1) / 2, top = pairs - 1   // with n odd, the top pair is one block
        func hasHigh(_ k: Int) -> Bool { 2 * k + 1 < n }
        func digit(_ k: Int) -> UInt64 { digits[2 * k] + (hasHigh(k) ? msg * digits[2 * k + 1] : 0) }
        func reach(_ k: Int) -> UInt64 { x[2 * k].degree + (hasHigh(k) ? msg * x[2 * k + 1].degree : 0) + digit(k) }
        // The carries into the pairs (as `prefixCarries` plans them for blocks).
        var plan = CarryLookahead(groupSize: g)
        let carry0: Int? = top >= 1 && reach(0) >= pairBase ? plan.leaf() : nil
        var states: [Int?] = []
        for k in stride(from: 1, to: top, by: 1) {
            states.append(reach(k) >= pairBase - 1 ? plan.leaf(place: UInt64((k - 1) % g)) : nil)
        }
        let carryInto: [Int?] = top >= 1 ? [nil, carry0] + plan.carries(base: carry0, states: states) : [nil]
        var values = [Block?](repeating: nil, count: plan.nodes.count)
        var outputs = x
        var prepared = [Block?](repeating: nil, count: pairs)
        // Layer 1: the carry out of pair 0, the pairs' states, and every output that needs no carry in.
        var lookups: [Lookup] = []
        var targets: [PairedSumTarget] = []
        func packed(_ k: Int, _ f: @escaping (UInt64) -> UInt64) -> Lookup {
            let d = digit(k)
            return shortint.bivariate(x[2 * k + 1], x[2 * k]) { hi, lo in f(hi * msg + lo + d) }
        }
        if let node = carry0 {
            lookups.append(packed(0) { $0 >= pairBase ? 1 : 0 }); targets.append(.node(node))
        }
        for (i, state) in states.enumerated() {
            guard let node = state else { continue }
            let place = plan.nodes[node].place
            lookups.append(packed(i + 1) { v in
                (v >= pairBase ? CarryLookahead.generate : (v == pairBase - 1 ? CarryLookahead.propagate : CarryLookahead.kill)) << place
            })
            targets.append(.node(node))
        }
        // The low block's own digit and the carry it passes on: (lo + d_lo) in [0, 2·msg - 1).
        for k in 0..<pairs {
            let low = 2 * k, dLow = digits[low], dHigh = hasHigh(k) ? digits[low + 1] : 0
            if carryInto[k] == nil && dLow != 0 {
                lookups.append(Lookup(x[low]) { ($0 + dLow) % msg }); targets.append(.block(low))
            }
            guard hasHigh(k) else { continue }
            let highDigit: (UInt64, UInt64) -> UInt64 = { hi, lo in (hi + dHigh + (lo + dLow) / msg) % msg }
            if carryInto[k] == nil || x[low].degree + dLow < msg - 1 {
                lookups.append(shortint.bivariate(x[low + 1], x[low], highDigit)); targets.append(.block(low + 1))
            } else {
                lookups.append(shortint.bivariate(x[low + 1], x[low]) { hi, lo in 4 * highDigit(hi, lo) + (lo + dLow == msg - 1 ? 2 : 0) })
                targets.append(.prepared(k))
            }
        }
        func store(_ results: [Block]) {
            for (block, target) in zip(results, targets) {
                switch target {
                case .node(let i): values[i] = block
                case .block(let c): outputs[c] = block
                case .prepared(let k): prepared[k] = block
                }
            }
        }
        store(try shortint.bootstrap(lookups))
        // Then by layers: the nodes ready, and each pair's outputs once its carry in is.
        let lastLayer = plan.nodes.map(\.layer).max() ?? 0
        for layer in stride(from: 2, through: lastLayer + 1, by: 1) {
            targets = []
            var many: [ShortintServerKey<T>.ManyLookup] = []
            for i in plan.nodes.indices where plan.nodes[i].layer == layer {
                many.append(lookaheadLookup(plan.nodes[i], values))
                targets.append(.node(i))
            }
            for k in 0..<pairs {
                guard let node = carryInto[k], plan.nodes[node].layer + 1 == layer, let carry = values[node] else { continue }
                let low = 2 * k, dLow = digits[low]
                many.append(.init(shortint.uncheckedAdd(x[low], carry), [{ ($0 + dLow) % msg }])); targets.append(.block(low))
                if let w = prepared[k] {
                    many.append(.init(shortint.uncheckedAdd(w, carry), [{ v in (v / 4 + (v % 4 == 3 ? 1 : 0)) % msg }]))
                    targets.append(.block(low + 1))
                }
            }
            store(try shortint.bootstrap(many: many).map { $0[0] })
        }
        return outputs
    }

    /// Carries by Sklansky's parallel prefix of bivariate compositions (the plan before grouped
    /// lookahead; kept for plaintext spaces too small for its groups).
    func sklanskyCarries(_ sums: [Block], carryOut wantCarry: Bool) throws -> (blocks: [Block], carry: Block?) {
        let msg = messageModulus
        let width = sums.count
        let stateCount = wantCarry ? width : width - 1
        // States: one layer. A block that can never reach msg - 1 is `none` for free.
        var states = [Block](repeating: trivialBlock(CarryState.none), count: stateCount)
        var lookups: [Lookup] = []
        var indices: [Int] = []
        for c in 0..<stateCount {
            let s = sums[c]
            if s.degree < msg - 1 || (c == 0 && s.degree < msg) { continue }
            indices.append(c)
            lookups.append(Lookup(s) { value in
                value >= msg ? CarryState.generate : (value == msg - 1 && c > 0 ? CarryState.propagate : CarryState.none)
            })
        }
        for (c, state) in zip(indices, try shortint.bootstrap(lookups)) { states[c] = state }
        // Sklansky prefix: ⌈log₂ stateCount⌉ layers.
        var span = 1
        while span < stateCount {
            var compose: [Lookup] = []
            var targets: [Int] = []
            for i in 0..<stateCount where i & span != 0 {
                let j = (i / span) * span - 1   // last block of the preceding aligned group
                let high = states[i], low = states[j]
                // A state that cannot be `propagate` absorbs whatever lies below it.
                if high.degree < CarryState.propagate { continue }
                targets.append(i)
                compose.append(shortint.bivariate(high, low) { h, l in h == CarryState.propagate ? l : h })
            }
            for (i, state) in zip(targets, try shortint.bootstrap(compose)) { states[i] = state }
            span *= 2
        }
        // Messages: (sum + carry in) mod msg, one layer.
        var outputs = sums
        var finals: [Lookup] = []
        var finalIndices: [Int] = []
        for c in 0..<width {
            var s = sums[c]
            if c > 0 { s = shortint.uncheckedAdd(s, states[c - 1]) }
            if s.degree < msg && s.noiseLevel <= 1 { outputs[c] = s; continue }
            finalIndices.append(c)
            finals.append(Lookup(s) { $0 % msg })
        }
        for (c, block) in zip(finalIndices, try shortint.bootstrap(finals)) { outputs[c] = block }
        return (outputs, wantCarry ? states[width - 1] : nil)
    }
}

/// The plan of `prefixCarries`' grouped lookahead, before any bootstrap: which sums of which
/// nodes are bootstrapped, at which layer, and with their outputs at which place.
///
/// Every state sits at place i mod g of its level (i its index there), so that the sum of a
/// group that starts at a multiple of g holds its j-th member at 2^j, and a group is summed
/// without any multiplication. A node is either a carry (a carry in, weight 1, and the states
/// of the group above it: the carry out is 1 exactly when the sum exceeds the sum of all
/// propagates, Σ 2^j) or the state of a group (greater than that sum: generate; equal:
/// propagate; less: kill), which sits at its place in the next level.
struct CarryLookahead {
    struct Node {
        var inputs: [Int?] = []
        var isCarry = false
        var place: UInt64 = 0
        var layer = 1
        /// The sum of the states' places when all propagate, Σ 2^place.
        var allPropagate: UInt64 = 0
    }
    /// A state's value before its place: ordered so that the sums compare as carries do
    /// (not `CarryState`'s order, which the Sklansky compositions use).
    static let kill: UInt64 = 0
    static let propagate: UInt64 = 1
    static let generate: UInt64 = 2

    let groupSize: Int
    private(set) var nodes: [Node] = []

    init(groupSize: Int) { self.groupSize = groupSize }

    /// A node of the first layer (a carry or a state at `place`).
    mutating func leaf(place: UInt64 = 0) -> Int {
        nodes.append(Node(place: place))
        return nodes.count - 1
    }

    private func layer(_ node: Int?) -> Int { node.map { nodes[$0].layer } ?? 0 }

    /// The carry out of `states` (at places 0, 1, ...) given the carry `base` into them.
    private mutating func carry(_ base: Int?, _ states: ArraySlice<Int?>) -> Int? {
        // A kill decides the carry above it: only the states above the last kill matter.
        guard let lastKill = states.lastIndex(where: { $0 == nil }) else { return group(base, states, isCarry: true, place: 0) }
        if lastKill == states.endIndex - 1 { return nil }
        return group(nil, states[(lastKill + 1)...], isCarry: true, place: 0)
    }

    private mutating func group(_ base: Int?, _ states: ArraySlice<Int?>, isCarry: Bool, place: UInt64) -> Int? {
        if states.isEmpty { return base }
        var node = Node(inputs: (isCarry ? [base] : []) + Array(states), isCarry: isCarry, place: place)
        node.layer = 1 + (node.inputs.map { layer($0) }.max() ?? 0)
        // State i of a level sits at place i mod g; one known to kill adds 0 to the sum.
        node.allPropagate = states.indices.map { UInt64(1) << UInt64($0 % groupSize) }.reduce(0, +)
        if !isCarry && states.allSatisfy({ $0 == nil }) { return nil }
        nodes.append(node)
        return nodes.count - 1
    }

    /// The carries out of each of `states`, given the carry `base` into the first: the first
    /// g from base directly; the rest in chunks of g, whose carries in come from the chunks'
    /// own states (each chunk but the last as one state) folded by the same plan one level up,
    /// where at least two such chunk states would share a group; otherwise chunk by chunk.
    mutating func carries(base: Int?, states: [Int?]) -> [Int?] {
        let g = groupSize, m = states.count
        if m == 0 { return [] }
        var result: [Int?] = []
        for j in 0..<Swift.min(g, m) { result.append(carry(base, states[0...j])) }
        if m <= g { return result }
        let chunks = stride(from: g, to: m, by: g).map { $0..<Swift.min($0 + g, m) }
        var chunkCarries: [Int?] = [result[g - 1]]   // chunkCarries[k]: the carry out of chunk k (0: the first g states)
        if chunks.count >= 3 {
            var chunkStates: [Int?] = []
            for (k, range) in chunks.dropLast().enumerated() {
                chunkStates.append(group(nil, states[range], isCarry: false, place: UInt64(k % g)))
            }
            chunkCarries += carries(base: result[g - 1], states: chunkStates)
        }
        for (k, range) in chunks.enumerated() {
            let base = chunkCarries[k]
            for j in range {
                if j == range.upperBound - 1 && k + 1 < chunkCarries.count {
                    result.append(chunkCarries[k + 1])
                } else {
                    let c = carry(base, states[range.lowerBound...j])
                    result.append(c)
                    if j == range.upperBound - 1 { chunkCarries.append(c) }
                }
            }
        }
        return result
    }
}

/// What a bootstrap of `pairedClearSum` gives: a node of the lookahead plan, a block of the
/// result, or a pair's prepared high block.
private enum PairedSumTarget {
    case node(Int)
    case block(Int)
    case prepared(Int)
}
