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
/// Carries by parallel prefix (Sklansky 1960, "Conditional-sum addition logic"; the
/// generate/propagate formulation of Brent and Kung 1982): block c *generates* a carry when
/// its sum is at least messageModulus, *propagates* an incoming one when it is exactly
/// messageModulus - 1, and does neither otherwise. The carry into block c is the
/// composition of these states over blocks 0..c-1 under the associative operator
/// `high == propagate ? low : high`, one bivariate bootstrap per composition. Sklansky's
/// scheme composes at level l every block whose bit l is set with the last block of the
/// preceding aligned group of 2^l: ⌈log₂ m⌉ layers of m/2 bootstraps, so every layer keeps
/// both cores busy and the depth is logarithmic in the width.
/// How the carries of column sums are resolved.
///
/// - `parallelPrefix`: Sklansky's prefix above, about (m/2)·log₂ m + 2m bootstraps for m
///   blocks in ⌈log₂ m⌉ + 2 layers; the fastest plan when many cores share each layer.
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
    /// 2·msg - 2, noise below the maximum): states, Sklansky prefix, final messages.
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

    /// Carries by Sklansky's parallel prefix (see the top of this file).
    func prefixCarries(_ sums: [Block], carryOut wantCarry: Bool) throws -> (blocks: [Block], carry: Block?) {
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
