/// Products of an encrypted radix integer by a clear one. A block times a clear digit is
/// linear, so the partial products cost nothing; only compressing the columns they fill
/// bootstraps, and that cost follows the noise the terms carry, which the multiplier's signed
/// digits keep low (`SignedDigitRecoding`).
extension IntegerServerKey {
    /// a · value modulo messageModulus^blockCount.
    public func scalarMul(_ a: RadixCiphertext<T>, _ value: UInt64) throws -> RadixCiphertext<T> {
        try check(a)
        let n = a.blockCount
        let k = reduced(value, blockCount: n)
        if k == 0 { return trivial(0, blockCount: n) }
        if k == 1 { return RadixCiphertext(blocks: try clean(a, maxNoise: encoding.maxNoiseLevel)) }
        let x = try clean(a, maxNoise: 1)
        return try result(ofColumns: scalarProductColumns(x, digits(of: k, count: n), width: n))
    }

    /// The columns of x · m modulo messageModulus^width, for clean blocks x (noise level 1,
    /// no carry; blocks above x.count are zero) and a clear multiplier given by its digits,
    /// least significant first (it may be wider than 64 bits).
    ///
    /// A negative signed digit d at position j adds |d| · (-y) · B^j, y = x mod B^(width-j),
    /// and -y ≡ Σ_{i < width-j} (B - 1 - y_i) B^i + 1: complemented blocks in the columns, and
    /// a clear part (the +1, and the complements of zero blocks) gathered into clear digits.
    func scalarProductColumns(_ x: [Block], _ multiplier: [UInt64], width: Int) -> [[Block]] {
        let msg = messageModulus
        let weights = (0..<width).map { j in x.indices.filter { $0 + j < width && x[$0].degree > 0 }.count }
        let signed = SignedDigitRecoding.recode(multiplier, base: msg, weights: weights)
        var columns = [[Block]](repeating: [], count: width)
        // The clear part, as an amount per column (normalised into digits below).
        var clear = [UInt64](repeating: 0, count: width)
        for (j, d) in signed.enumerated() where d != 0 {
            let factor = UInt64(d.magnitude)
            if d > 0 {
                for i in x.indices where i + j < width && x[i].degree > 0 {
                    columns[i + j].append(factor == 1 ? x[i] : shortint.uncheckedScale(x[i], by: factor))
                }
                continue
            }
            clear[j] += factor
            for i in 0..<(width - j) {
                if i < x.count && x[i].degree > 0 {
                    let complement = shortint.uncheckedSubtract(from: msg - 1, x[i])
                    columns[i + j].append(factor == 1 ? complement : shortint.uncheckedScale(complement, by: factor))
                } else {
                    clear[i + j] += factor * (msg - 1)
                }
            }
        }
        var carry: UInt64 = 0
        for c in 0..<width {
            let amount = clear[c] + carry
            if amount % msg != 0 { columns[c].append(trivialBlock(amount % msg)) }
            carry = amount / msg
        }
        return columns
    }
}
