import Foundation

/// The order of Fourier-domain points. Inside the engine the points sit in whatever order its
/// transforms leave them (the pointwise products do not care); outside it, in files, they are
/// in the canonical order: point k is a(ψ·ω^k) folded as in `NegacyclicFFT`, with
/// ω = e^{-2πi/M}, so that point k of the polynomial X is ψ·ω^k.
extension NegacyclicFFT {
    /// slot[k] = where the engine's transforms put canonical point k, found by transforming X:
    /// the slot holding ψ·ω^k holds point k. Independent of how the transform is written.
    static func measuredSlots(polynomialSize n: Int, forward: (UnsafePointer<Double>, UnsafeMutablePointer<Double>,
                                                               UnsafeMutablePointer<Double>) -> Void) -> [Int] {
        let m = n / 2
        let x = AlignedBuffer<Double>(count: n), re = AlignedBuffer<Double>(count: m), im = AlignedBuffer<Double>(count: m)
        x.pointer[1] = 1
        forward(UnsafePointer(x.pointer), re.pointer, im.pointer)
        let psi = Double.pi / Double(n)
        var slots = [Int](repeating: -1, count: m)
        for slot in 0..<m {
            // F = ψ·ω^k, so arg(F) - π/N = -2πk/M.
            let angle = atan2(im.pointer[slot], re.pointer[slot]) - psi
            let k = ((Int((-angle * Double(m) / (2 * Double.pi)).rounded()) % m) + m) % m
            precondition(slots[k] == -1, "the forward transform is not a permutation of the points")
            slots[k] = slot
        }
        return slots
    }

    /// Where format version 1 (the engine's transform until 2026-11-25) kept point k: a
    /// radix-2 decimation in frequency leaves point k at slot bitrev(k); version 1 then
    /// transposed every block of 64 points as 8 × 8, so slot 64c + 8a + b held what the
    /// plain transform keeps at 64c + 8b + a.
    static func formatVersion1Slots(polynomialSize n: Int) -> [Int] {
        let m = n / 2, bits = m.trailingZeroBitCount
        var slots = [Int](repeating: 0, count: m)
        for k in 0..<m {
            let plain = bitReversed(k, bits: bits)
            let (c, a, b) = (plain >> 6, (plain >> 3) & 7, plain & 7)
            slots[k] = c << 6 | b << 3 | a
        }
        return slots
    }

    static func bitReversed(_ value: Int, bits: Int) -> Int {
        var result = 0, v = value
        for _ in 0..<bits { result = result << 1 | (v & 1); v >>= 1 }
        return result
    }
}

/// Moving Fourier-domain polynomials (re[M] | im[M] each) between point orders.
enum FourierPointOrder {
    /// Appends every polynomial of `words` with point k taken from slot `slots[k]`, that is,
    /// in canonical order.
    static func append(_ words: AlignedBuffer<Double>, polynomialSize n: Int, from slots: [Int], to writer: inout ByteWriter) {
        let m = n / 2
        let row = AlignedBuffer<Double>(count: n)
        for start in stride(from: 0, to: words.count, by: n) {
            let source = words.pointer + start
            for k in 0..<m {
                row.pointer[k] = source[slots[k]]
                row.pointer[m + k] = source[m + slots[k]]
            }
            writer.append(doubles: row.pointer, count: n)
        }
    }

    /// Rearranges every polynomial in place from one order to another: the point at
    /// `from[k]` moves to `to[k]`.
    static func reorder(_ words: AlignedBuffer<Double>, polynomialSize n: Int, from: [Int], to: [Int]) {
        guard from != to else { return }
        let m = n / 2
        let row = AlignedBuffer<Double>(count: n)
        for start in stride(from: 0, to: words.count, by: n) {
            let polynomial = words.pointer + start
            for k in 0..<m {
                row.pointer[to[k]] = polynomial[from[k]]
                row.pointer[m + to[k]] = polynomial[m + from[k]]
            }
            polynomial.update(from: row.pointer, count: n)
        }
    }
}
