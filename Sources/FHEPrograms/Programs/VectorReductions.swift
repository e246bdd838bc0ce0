import TFHE

/// The building blocks of the vector programs over one key: widths by value kind, sums, counts
/// and reductions of logarithmic depth. Every step is a fixed sequence of integer operations
/// chosen from shapes and clear parameters only, so a metadata-only key quotes it exactly.
struct VectorReductions {
    typealias Radix = RadixCiphertext<UInt64>
    let key: IntegerServerKey<UInt64>

    func blocks(_ kind: ValueKind) throws -> Int {
        guard let count = kind.blockCount(for: key.parameters) else {
            throw ProgramError(.invalidInput, "\(kind) values cannot be made of \(key.parameters.messageBits)-bit blocks")
        }
        return count
    }

    /// Σ xs in the width of `kind` (wider than the terms: the casts add noiseless zero blocks).
    func sum(_ xs: [Radix], as kind: ValueKind) throws -> Radix {
        let width = try blocks(kind)
        return try key.sum(xs.map { try key.cast($0, toBlockCount: width) })
    }

    /// The number of true booleans, as a u32. Counted in 16 bits (n ≤ 4096 < 2¹⁶), then widened.
    func count(_ flags: [ShortintCiphertext<UInt64>]) throws -> Radix {
        let narrow = try blocks(.uint16)
        let total = try key.sum(flags.map { try key.integer(from: $0, blockCount: narrow) })
        return try key.cast(total, toBlockCount: try blocks(.uint32))
    }

    /// One layer after another, each combining neighbours pairwise (an odd one out waits for
    /// the next layer): n - 1 operations in ⌈log₂ n⌉ layers.
    func reduce(_ xs: [Radix], _ combine: (Radix, Radix) throws -> Radix) throws -> Radix {
        var layer = xs
        while layer.count > 1 {
            var next: [Radix] = []
            next.reserveCapacity((layer.count + 1) / 2)
            for i in stride(from: 0, to: layer.count - 1, by: 2) { next.append(try combine(layer[i], layer[i + 1])) }
            if layer.count % 2 == 1 { next.append(layer[layer.count - 1]) }
            layer = next
        }
        return layer[0]
    }

    /// Minimum and maximum. When both are wanted, the first layer compares each pair once and
    /// sends the smaller to the minimum's tree and the larger to the maximum's (about 3n/2
    /// comparisons instead of 2n).
    func extremes(_ xs: [Radix], min wantMin: Bool, max wantMax: Bool) throws -> (min: Radix?, max: Radix?) {
        if !(wantMin && wantMax) || xs.count < 2 {
            var result: (min: Radix?, max: Radix?) = (nil, nil)
            if wantMin { result.min = try reduce(xs) { try key.min($0, $1) } }
            if wantMax { result.max = try reduce(xs) { try key.max($0, $1) } }
            return result
        }
        var lows: [Radix] = [], highs: [Radix] = []
        for i in stride(from: 0, to: xs.count - 1, by: 2) {
            let greater = try key.gt(xs[i], xs[i + 1])
            lows.append(try key.select(greater, xs[i + 1], xs[i]))
            highs.append(try key.select(greater, xs[i], xs[i + 1]))
        }
        if xs.count % 2 == 1 { lows.append(xs[xs.count - 1]); highs.append(xs[xs.count - 1]) }
        return (try reduce(lows) { try key.min($0, $1) }, try reduce(highs) { try key.max($0, $1) })
    }

    /// ⌊(n·Σx² − (Σx)²) / n²⌋ as a u32, for u8 or u16 inputs: squares in twice the input width,
    /// everything after in u64 (see `StatisticalAnalysis` for the bounds).
    func variance(_ xs: [Radix], kind: ValueKind, sum: Radix) throws -> Radix {
        let n = UInt64(xs.count)
        let squareWidth = try blocks(kind == .uint8 ? .uint16 : .uint32)
        let wide = try blocks(.uint64)
        let squares = try xs.map { x in
            let w = try key.cast(x, toBlockCount: squareWidth)
            return try key.cast(try key.mul(w, w), toBlockCount: wide)
        }
        let sumOfSquares = try key.sum(squares)
        let s = try key.cast(sum, toBlockCount: wide)
        let scaled = try key.scalarMul(sumOfSquares, n)
        let difference = try key.sub(scaled, try key.mul(s, s))
        let variance = try key.scalarDiv(difference, n * n)
        return try key.cast(variance, toBlockCount: try blocks(.uint32))
    }

    /// Bucket counts for (−∞, e₀), [e₀, e₁), …, [e_last, ∞) from cᵢ = #{x ≥ eᵢ}:
    /// n − c₀, cᵢ₋₁ − cᵢ, …, c_last, as u32.
    func histogram(_ xs: [Radix], edges: [UInt64]) throws -> [Radix] {
        let atLeast = try edges.map { edge in try count(try xs.map { try key.scalarGe($0, edge) }) }
        var buckets: [Radix] = []
        buckets.append(try key.scalarSub(UInt64(xs.count), atLeast[0]))
        for i in 1..<edges.count { buckets.append(try key.sub(atLeast[i - 1], atLeast[i])) }
        buckets.append(atLeast[edges.count - 1])
        return buckets
    }
}
