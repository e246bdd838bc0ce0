/// Signed, balanced gadget decomposition with base B = 2^baseLog and `levelCount` levels
/// (CGGI 2020, "TFHE: fast fully homomorphic encryption over the torus", §3.2; the
/// rounding and carry scheme of TFHE-rs's `SignedDecomposer`).
///
/// A torus value x is first rounded to the closest multiple of q/B^l (so the discarded low
/// bits are rounded, not truncated), then written as Σ_{j=1..l} d_j · q/B^j with every
/// digit in [-B/2, B/2). The approximation error is at most q/(2·B^l).
public struct GadgetDecomposition: Sendable, Hashable, Codable {
    public let baseLog: Int
    public let levelCount: Int

    public init(baseLog: Int, levelCount: Int) {
        precondition(baseLog > 0 && levelCount > 0, "validated by ParameterSet")
        self.baseLog = baseLog
        self.levelCount = levelCount
    }

    /// The gadget factor q/B^level of a level in 1...levelCount, as a torus element.
    @inlinable
    public func factor<T: TorusScalar>(level: Int, as: T.Type = T.self) -> T {
        T(1) << (T.bitWidth - baseLog * level)
    }

    /// Writes the digits of `value`, most significant level first, into `digits[0..<l]`.
    @inlinable @inline(__always)
    public func decompose<T: TorusScalar>(_ value: T, into digits: UnsafeMutablePointer<T.SignedScalar>) {
        let totalBits = baseLog * levelCount
        let shift = T.bitWidth - totalBits
        // Round to the closest representable value: add half of the discarded part.
        // Masking shifts (&>>, &<<): the amounts are in range, so no overshift checks.
        var rest: T = shift > 0 ? (value &+ (T(1) &<< (shift - 1))) &>> shift : value
        let mask = (T(1) &<< baseLog) &- 1
        let half = T(1) &<< (baseLog - 1)
        var carry: T = 0
        var level = levelCount - 1
        while level >= 0 {
            var digit = (rest & mask) &+ carry
            rest = rest &>> baseLog
            // Balanced digits in [-B/2, B/2): a digit at or above B/2 borrows one from the next.
            if digit >= half {
                carry = 1
                digit = digit &- (mask &+ 1)
            } else {
                carry = 0
            }
            digits[level] = T.SignedScalar(truncatingIfNeeded: digit.signedValue)
            level -= 1
        }
    }

    /// Decomposes `count` values into `levelCount` digit polynomials of Doubles: digit v of
    /// value j goes to digits[v·count + j]. With one level the balanced digit is just the top
    /// baseLog bits, rounded, read as a signed number (an arithmetic shift); with more, eight
    /// values at a time go through the SIMD form of `decompose`.
    @inlinable @inline(__always)
    public func decompose<T: TorusScalar>(_ values: UnsafePointer<T>, count: Int, into digits: UnsafeMutablePointer<Double>) {
        let shift = T.bitWidth - baseLog * levelCount
        if levelCount == 1 && shift > 0 {
            let offset = T(1) &<< (shift - 1)
            for j in 0..<count {
                digits[j] = (values[j] &+ offset).signedShiftedDouble(by: shift)
            }
            return
        }
        var j = 0
        while j + 8 <= count {
            T.decomposeEight(values + j, baseLog: baseLog, levels: levelCount, into: digits + j, stride: count)
            j += 8
        }
        withUnsafeTemporaryAllocation(of: T.SignedScalar.self, capacity: levelCount) { buffer in
            while j < count {
                decompose(values[j], into: buffer.baseAddress!)
                for v in 0..<levelCount { digits[v * count + j] = Double(buffer[v]) }
                j += 1
            }
        }
    }

    /// The value the digits stand for: Σ d_j · q/B^j (used by tests and for the error bound).
    public func recompose<T: TorusScalar>(_ digits: [T.SignedScalar], as: T.Type = T.self) -> T {
        var sum: T = 0
        for (index, digit) in digits.enumerated() {
            sum = sum &+ T(truncatingIfNeeded: digit) &* factor(level: index + 1)
        }
        return sum
    }
}
