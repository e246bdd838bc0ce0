/// A clear multiplier rewritten in signed base-B digits of least cost, for products of an
/// encrypted radix integer by a clear one (`IntegerServerKey.scalarProductColumns`).
///
/// A digit d of the multiplier at position j puts |d| · x_i (or |d| · (B - 1 - x_i) when d is
/// negative, the complement of a clean block, which is linear) into column i + j for every
/// block x_i: a term of noise level |d|. Compressing the columns costs bootstraps in
/// proportion to the noise they carry (a group is bounded by the noise budget before its
/// degree), so the plain digits 0 ... B - 1 are a poor choice: with B = 4 a digit 3 puts noise
/// 3 into every column it reaches, where 3 = 4 - 1 puts 1 into each of two. This is radix-B
/// Booth recoding (A. D. Booth, "A signed binary multiplication technique", 1951, and its
/// higher-radix forms), with each digit chosen by a dynamic program over the carry so that
/// the total noise, weighted by how many blocks each position reaches, is least.
enum SignedDigitRecoding {
    /// Signed digits d_j in -(B - 1) ... B - 1 with Σ d_j B^j ≡ Σ digits_j B^j (mod B^W),
    /// W = weights.count, least significant first, that minimise Σ |d_j| · weights[j]
    /// (`weights[j]`: the blocks a unit of digit j reaches; 0 where nothing does). Ties keep
    /// the non-negative digit, which needs no clear correction.
    static func recode(_ digits: [UInt64], base: UInt64, weights: [Int]) -> [Int] {
        let width = weights.count
        let b = Int(base)
        // cost[j][c]: the least cost of positions j..<W with carry c into position j. A carry
        // out of the top is dropped (the product is taken modulo B^W).
        var cost = [[Int]](repeating: [0, 0], count: width + 1)
        var choice = [[(digit: Int, carry: Int)]](repeating: [(0, 0), (0, 0)], count: width)
        for j in stride(from: width - 1, through: 0, by: -1) {
            let digit = j < digits.count ? Int(digits[j]) : 0
            for carryIn in 0...1 {
                let v = digit + carryIn
                var best: (cost: Int, digit: Int, carry: Int)?
                if v < b { best = (v * weights[j] + cost[j + 1][0], v, 0) }
                if v > 0 {
                    let d = v - b
                    let candidate = (cost: -d * weights[j] + cost[j + 1][1], digit: d, carry: 1)
                    if best == nil || candidate.cost < best!.cost { best = candidate }
                }
                cost[j][carryIn] = best!.cost
                choice[j][carryIn] = (best!.digit, best!.carry)
            }
        }
        var signed: [Int] = []
        signed.reserveCapacity(width)
        var carry = 0
        for j in 0..<width {
            let (d, next) = choice[j][carry]
            signed.append(d)
            carry = next
        }
        return signed
    }
}
