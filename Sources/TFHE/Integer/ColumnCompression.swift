/// The plan of `IntegerServerKey.sumColumns`' compression: which blocks of each column are
/// summed, in each layer, into one bootstrap input that gives the sum's message (kept in the
/// column) and its carry (sent to the next one), decided from the blocks' degrees and noise
/// levels alone, so that a metadata-only key plans exactly what a real key performs.
///
/// A group holds at most what one bootstrap input allows (degree up to the carry space,
/// noise up to the set's level): 5 fresh blocks on the 2_2 sets, as TFHE-rs's
/// `sum_ciphertexts_vec_parallelized` groups them. Its message and carry cost two bootstraps,
/// or one many-LUT bootstrap when the sum stays below half the plaintext space (eprint
/// 2021/729), and the top column's groups only a message, since nothing goes above it.
///
/// Which groups: as few as the layers allow, after Dadda ("Some schemes for parallel
/// multipliers", 1965) rather than Wallace. Compressing every column as far as it goes
/// (Wallace) bootstraps groups of two or three leftover blocks that buy nothing; instead each
/// layer only brings every column down to the next height of Dadda's sequence, the tallest
/// column that one more layer can bring to the final height of two blocks (2, 5, 11, 26, 65
/// for groups of five), with full groups taken from the largest blocks, and a smaller one
/// only where one many-LUT bootstrap gives both its outputs. The last layer makes every
/// column fit the propagation (`fits`) with the cheapest single group it can find. TFHE-rs's
/// plan, by contrast, sums groups of five until no column holds more than five blocks, then
/// extracts message and carry of every column: 592 + 61 bootstraps for the 1,024 partial
/// products of a 64-bit multiplication, where this plan takes 620.
///
/// Where no pair of blocks fits a bootstrap together, or no group fits the last layer's
/// search, a column falls back to the greedy groups of the plan before (every block in order,
/// as many as each input holds), which always make progress.
struct ColumnCompression {
    struct Term: Hashable {
        var degree: UInt64
        var noise: UInt64
    }

    let messageModulus: UInt64
    let maxDegree: UInt64
    let maxNoise: UInt64
    /// Inputs below this bound give message and carry from one many-LUT bootstrap.
    let twoFunctionBound: UInt64
    let width: Int
    /// Whether the top column may stay as large as one bootstrap's input, less the carry it
    /// receives (no carry out of it is asked, and only its message is ever computed).
    let relaxedTop: Bool

    /// Fresh blocks (degree msg - 1, noise level 1) that one bootstrap input holds.
    var groupSize: Int { Int(Swift.min(maxNoise, maxDegree / (messageModulus - 1))) }

    /// Whether a column of this degree and noise goes to the propagation as it is: block 0's
    /// sum at most 2·msg - 1 and the others' at most 2·msg - 2 (a carry out of 0 or 1 with a
    /// carry in), the noise leaving room for the carry in; the top column, when relaxed, up
    /// to one bootstrap input less that carry.
    func fits(degree: UInt64, noise: UInt64, column c: Int) -> Bool {
        if c == width - 1 && relaxedTop { return degree < maxDegree && noise < maxNoise }
        return degree <= (c == 0 ? 2 * messageModulus - 1 : 2 * messageModulus - 2) && noise < maxNoise
    }

    func fits(_ terms: [Term], column c: Int) -> Bool {
        fits(degree: terms.reduce(0) { $0 + $1.degree }, noise: terms.reduce(0) { $0 + $1.noise }, column: c)
    }

    func withinBudget(_ group: [Term]) -> Bool {
        group.reduce(0) { $0 + $1.degree } <= maxDegree && group.reduce(0) { $0 + $1.noise } <= maxNoise
    }

    /// The carry a group of this summed degree sends up, if any, and its bootstraps.
    func outputs(degree: UInt64, column c: Int) -> (carry: Term?, cost: Int) {
        guard degree >= messageModulus && c + 1 < width else { return (nil, 1) }
        return (Term(degree: degree / messageModulus, noise: 1), degree < twoFunctionBound ? 1 : 2)
    }

    /// The groups (indices into each column) of the next layer, or nil when every column fits.
    func layer(_ columns: [[Term]]) -> [[[Int]]]? {
        if columns.indices.allSatisfy({ fits(columns[$0], column: $0) }) { return nil }
        let size = groupSize
        guard size >= 3 else { return greedyLayer(columns) }
        // Dadda's heights: from h, one layer of groups of `size`, each column also receiving
        // as many carries as it sends, reaches the previous height.
        let tallest = columns.dropLast().map(\.count).max() ?? 0
        var heights = [2]
        while heights[heights.count - 1] < tallest { heights.append(heights[heights.count - 1] + (size - 2) * (heights[heights.count - 1] / 2)) }
        let target = heights.last { $0 < tallest }
        // The top column ends with as many fresh blocks as a relaxed top holds.
        let topCapacity = Int(Swift.min(maxNoise - 1, (maxDegree - 1) / (messageModulus - 1)))
        var plan: [[[Int]]] = []
        var incoming: [Term] = []
        for c in columns.indices {
            let groups: [[Int]]
            if let target {
                let extra = c == width - 1 && relaxedTop ? Swift.max(0, topCapacity - 2) : 0
                groups = heightGroups(columns[c], incoming: incoming.count, target: target + extra, column: c)
            } else {
                groups = lastGroups(columns[c], incoming: incoming, column: c)
            }
            plan.append(groups)
            incoming = groups.compactMap { group in outputs(degree: group.reduce(0) { $0 + columns[c][$1].degree }, column: c).carry }
        }
        return plan.allSatisfy(\.isEmpty) ? greedyLayer(columns) : plan
    }

    /// Groups that bring the column (with `incoming` carries) to `target` blocks: full groups
    /// of the largest blocks; a smaller group of the smallest where one bootstrap gives its
    /// message and carry.
    private func heightGroups(_ terms: [Term], incoming: Int, target: Int, column c: Int) -> [[Int]] {
        var need = terms.count + incoming - target
        // Smallest first (noise, then degree, then position: the order is part of the plan).
        var pool = terms.indices.sorted { (terms[$0].noise, terms[$0].degree, $0) < (terms[$1].noise, terms[$1].degree, $1) }
        var groups: [[Int]] = []
        while need > 0 && pool.count >= 2 {
            let full = Swift.min(groupSize, pool.count)
            let partial = Swift.min(need + 1, full)
            let small = Array(pool.prefix(partial))
            var group: [Int]
            if partial < full && c + 1 < width
                && outputs(degree: small.reduce(0) { $0 + terms[$1].degree }, column: c).cost == 1 && withinBudget(small.map { terms[$0] }) {
                group = small
                pool.removeFirst(partial)
            } else {
                group = Array(pool.suffix(full))
                pool.removeLast(full)
                // Over budget (noisier blocks): give back the smallest, which stay in order.
                while group.count > 1 && !withinBudget(group.map { terms[$0] }) { pool.append(group.removeFirst()) }
            }
            if group.count < 2 { pool += group; break }
            groups.append(group)
            need -= group.count - 1
        }
        return groups
    }

    /// The last layer: the cheapest single group after which the column fits (fewest
    /// bootstraps, then the smallest carry sent up, then the most blocks left alone), searched
    /// over every subset of a column of at most 10 blocks; otherwise the greedy groups.
    private func lastGroups(_ terms: [Term], incoming: [Term], column c: Int) -> [[Int]] {
        let inDegree = incoming.reduce(0) { $0 + $1.degree }, inNoise = incoming.reduce(0) { $0 + $1.noise }
        let degree = terms.reduce(0) { $0 + $1.degree }, noise = terms.reduce(0) { $0 + $1.noise }
        if fits(degree: degree + inDegree, noise: noise + inNoise, column: c) { return [] }
        if terms.count <= 10 {
            var best: (cost: Int, carry: UInt64, left: Int, mask: Int)?
            for mask in 1..<(1 << terms.count) {
                var groupDegree: UInt64 = 0, groupNoise: UInt64 = 0
                for i in terms.indices where mask & (1 << i) != 0 {
                    groupDegree += terms[i].degree
                    groupNoise += terms[i].noise
                }
                guard groupDegree <= maxDegree && groupNoise <= maxNoise else { continue }
                let (carry, cost) = outputs(degree: groupDegree, column: c)
                let message = Swift.min(groupDegree, messageModulus - 1)
                guard fits(degree: degree - groupDegree + message + inDegree, noise: noise - groupNoise + 1 + inNoise, column: c) else { continue }
                let left = terms.count - mask.nonzeroBitCount
                let candidate = (cost: cost, carry: carry?.degree ?? 0, left: left, mask: mask)
                if let b = best, (b.cost, b.carry, -b.left) <= (cost, candidate.carry, -left) { continue }
                best = candidate
            }
            if let best { return [terms.indices.filter { best.mask & (1 << $0) != 0 }] }
        }
        return greedyGroups(terms)
    }

    /// Every block in order, as many in each group as one bootstrap input holds; a clean
    /// block left alone in its group stays as it is.
    private func greedyGroups(_ terms: [Term]) -> [[Int]] {
        var groups: [[Int]] = [[]]
        for i in terms.indices {
            let last = groups[groups.count - 1]
            if withinBudget((last + [i]).map { terms[$0] }) {
                groups[groups.count - 1].append(i)
            } else {
                groups.append([i])
            }
        }
        return groups.filter { group in
            !group.isEmpty && !(group.count == 1 && terms[group[0]].degree < messageModulus && terms[group[0]].noise <= 1)
        }
    }

    private func greedyLayer(_ columns: [[Term]]) -> [[[Int]]] {
        columns.indices.map { c in fits(columns[c], column: c) ? [] : greedyGroups(columns[c]) }
    }
}
