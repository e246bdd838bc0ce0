import Synchronization

/// Sums of blocks column by column, and carry propagation by a parallel prefix.
///
/// Every addition-like operation (add, sub, neg, scalar add, the partial products of a
/// multiplication) is a list of columns of blocks whose weighted sum Σ_c messageModulus^c ·
/// Σ column[c] is the result. `sumColumns` first compresses columns that are too large
/// (carry-save: a group of blocks is summed and split into its message, kept, and its carry,
/// sent to the next column, all groups in one layer), then adds each column into one block
/// whose value is at most 2·messageModulus - 2 (so its carry out is 0 or 1), then resolves
/// all carries at once.
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
    /// clean operands).
    func sumColumns(_ input: [[Block]], carryOut wantCarry: Bool = false) throws -> (blocks: [Block], carry: Block?) {
        try propagateCarries(try compressedColumnSums(input), carryOut: wantCarry)
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
        RadixCiphertext(blocks: try compressedColumnSums(columns))
    }

    /// Step 1 of `sumColumns`: compression until every column sums to a block that the
    /// propagation accepts (block 0 at most 2·msg - 1, the others at most 2·msg - 2, noise below
    /// the maximum), and those sums.
    private func compressedColumnSums(_ input: [[Block]]) throws -> [Block] {
        let msg = messageModulus
        let width = input.count
        var columns = input
        // 1. Compression.
        func columnFits(_ c: Int) -> Bool {
            let degree = columns[c].reduce(0) { $0 + $1.degree }
            let noise = columns[c].reduce(0) { $0 + $1.noiseLevel }
            return degree <= (c == 0 ? 2 * msg - 1 : 2 * msg - 2) && noise < encoding.maxNoiseLevel
        }
        // A group whose sum stays below half the plaintext space gives its message and its
        // carry from one many-LUT bootstrap; a larger one takes one bootstrap each.
        let twoFunctionBound = shortint.manyLookupBound(functionCount: 2)
        while let _ = (0..<width).first(where: { !columnFits($0) }) {
            var lookups: [ShortintServerKey<T>.ManyLookup] = []
            var destinations: [[Int]] = []
            var next = [[Block]](repeating: [], count: width)
            for c in 0..<width {
                if columnFits(c) { next[c] += columns[c]; continue }
                // Greedy groups within the block budget (degree and noise of one bootstrap input).
                var groups: [[Block]] = [[]]
                for term in columns[c] {
                    let g = groups[groups.count - 1]
                    if g.reduce(0, { $0 + $1.degree }) + term.degree <= encoding.maxDegree
                        && g.reduce(0, { $0 + $1.noiseLevel }) + term.noiseLevel <= encoding.maxNoiseLevel {
                        groups[groups.count - 1].append(term)
                    } else {
                        groups.append([term])
                    }
                }
                for group in groups {
                    if group.count == 1 && group[0].degree < msg && group[0].noiseLevel <= 1 {
                        next[c].append(group[0])
                        continue
                    }
                    let sum = group.dropFirst().reduce(group[0]) { shortint.uncheckedAdd($0, $1) }
                    let carries = sum.degree >= msg && c + 1 < width
                    if carries && sum.degree < twoFunctionBound {
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
    /// 2·msg - 2, noise below the maximum): states, carries by grouped lookahead (or Sklansky's prefix), final messages.
    func propagateCarries(_ sums: [Block], carryOut wantCarry: Bool) throws -> (blocks: [Block], carry: Block?) {
        switch carryPropagation {
        case .parallelPrefix:
            return try prefixCarries(sums, carryOut: wantCarry)
        case .ripple:
            return canRipple(sums) ? try rippleCarries(sums, carryOut: wantCarry) : try prefixCarries(sums, carryOut: wantCarry)
        case .fastest(let workers, let ratio):
            let model = CarryCostModel(workers: workers, singleToBatchedCost: ratio)
            if try canRipple(sums) && model.latency(layers: layers { try $0.rippleCarries(sums, carryOut: wantCarry) })
                <= model.latency(layers: layers { try $0.prefixCarries(sums, carryOut: wantCarry) }) {
                return try rippleCarries(sums, carryOut: wantCarry)
            }
            return try prefixCarries(sums, carryOut: wantCarry)
        }
    }

    /// Whether every block's sum plus an incoming carry fits a two-function table, within the
    /// noise budget.
    func canRipple(_ sums: [Block]) -> Bool {
        let bound = shortint.manyLookupBound(functionCount: 2)
        return sums.indices.allSatisfy { c in
            let incoming: UInt64 = c > 0 ? 1 : 0
            return sums[c].degree + incoming < bound && sums[c].noiseLevel + incoming <= encoding.maxNoiseLevel
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
    func prefixCarries(_ sums: [Block], carryOut wantCarry: Bool) throws -> (blocks: [Block], carry: Block?) {
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
        let needsMessage0 = sums[0].degree >= msg || sums[0].noiseLevel > 1
        let message0: (UInt64) -> UInt64 = { $0 % msg }, carryOf: (UInt64) -> UInt64 = { $0 >= msg ? 1 : 0 }
        if let k = carry0 {
            if sums[0].degree < twoFunctions {
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
                let node = plan.nodes[i]
                let members = node.inputs.map { $0.map { values[$0]! } ?? trivialBlock(0) }
                let sum = members.dropFirst().reduce(members[0]) { shortint.uncheckedAdd($0, $1) }
                let allPropagate = node.allPropagate, place = node.place
                if node.isCarry {
                    lookups.append(.init(sum, [{ $0 > allPropagate ? 1 : 0 }]))
                } else {
                    lookups.append(.init(sum, [{ v in
                        (v > allPropagate ? CarryLookahead.generate : (v == allPropagate ? CarryLookahead.propagate : CarryLookahead.kill)) << place
                    }]))
                }
                targets.append([(i, 0)])
            }
            for c in 1...top {
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
