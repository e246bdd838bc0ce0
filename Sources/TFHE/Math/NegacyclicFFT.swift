import Foundation

/// Negacyclic polynomial multiplication in R[X]/(X^N + 1) by a complex FFT of size N/2.
///
/// Folding (Klemsa, "Fast and Error-Free Negacyclic Integer Convolution using Extended
/// Fourier Transform", eprint 2021/480, and Bergerat et al., eprint 2021/1416): since
/// X^N + 1 = (X^{N/2} - i)(X^{N/2} + i), a real polynomial a is determined by
/// a mod (X^{N/2} - i) = Σ_{j<N/2} (a_j + i·a_{j+N/2}) X^j. Substituting X = ψ·Y with
/// ψ = e^{iπ/N} (so ψ^{N/2} = i) turns that ring into C[Y]/(Y^{N/2} - 1), where a plain
/// cyclic FFT of size M = N/2 diagonalises multiplication. The twist ψ^j is applied on the
/// way in and undone on the way out.
///
/// The forward transform is a decimation-in-frequency FFT (natural order in, bit-reversed
/// out) and the inverse a decimation-in-time one (bit-reversed in, natural out), so no
/// permutation is ever done: the Fourier domain is only used for pointwise products, which
/// do not care about the order of the points. Real and imaginary parts live in separate
/// arrays so that every butterfly runs on SIMD8<Double> lanes.
public final class NegacyclicFFT: @unchecked Sendable {
    public let polynomialSize: Int
    /// Number of complex points, N/2.
    public let pointCount: Int
    private let twistRe: AlignedBuffer<Double>
    private let twistIm: AlignedBuffer<Double>
    /// Twiddles e^{-2πi t/(2h)} for t < h, for every span h = M/2, M/4, ..., 8 (one block
    /// per stage, at `stageOffset(h)`).
    private let twiddleRe: AlignedBuffer<Double>
    private let twiddleIm: AlignedBuffer<Double>

    /// Plans for N ≥ 32 (the in-register stages need 8 complex points per row).
    public init(polynomialSize: Int) {
        precondition(polynomialSize >= 32 && polynomialSize.nonzeroBitCount == 1, "validated by ParameterSet")
        self.polynomialSize = polynomialSize
        let m = polynomialSize / 2
        pointCount = m
        twistRe = AlignedBuffer(count: m)
        twistIm = AlignedBuffer(count: m)
        for j in 0..<m {
            // ψ^j = e^{iπ j / N}
            let angle = Double.pi * Double(j) / Double(polynomialSize)
            twistRe.pointer[j] = cos(angle)
            twistIm.pointer[j] = sin(angle)
        }
        twiddleRe = AlignedBuffer(count: m)
        twiddleIm = AlignedBuffer(count: m)
        var h = m / 2
        while h >= 8 {
            for t in 0..<h {
                let angle = -Double.pi * Double(t) / Double(h)
                twiddleRe.pointer[h + t] = cos(angle)
                twiddleIm.pointer[h + t] = sin(angle)
            }
            h /= 2
        }
    }

    // Stage twiddles for span h start at offset h (h + (h-1) + ... fits in M).

    /// Forward transform of N real coefficients into M = N/2 complex points (split re/im).
    public func forward(_ coefficients: UnsafePointer<Double>,
                        re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>) {
        let m = pointCount
        // Fold and twist: c_j = (a_j + i a_{j+M}) ψ^j.
        var j = 0
        while j < m {
            let a = load8(coefficients + j), b = load8(coefficients + m + j)
            let wr = load8(twistRe.pointer + j), wi = load8(twistIm.pointer + j)
            store8(a * wr - b * wi, re + j)
            store8(a * wi + b * wr, im + j)
            j += 8
        }
        forwardInPlace(re: re, im: im)
    }

    /// Forward transform of a torus polynomial read as signed integers.
    public func forward<T: TorusScalar>(torus coefficients: UnsafePointer<T>, scratch: UnsafeMutablePointer<Double>,
                                        re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>) {
        for j in 0..<polynomialSize { scratch[j] = coefficients[j].signedDouble }
        forward(UnsafePointer(scratch), re: re, im: im)
    }

    /// Decimation in frequency on split arrays; output in the engine's Fourier order.
    @inline(__always)
    private func forwardInPlace(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>) {
        let m = pointCount
        var h = m / 2
        while h >= 8 {
            let wRe = twiddleRe.pointer + h, wIm = twiddleIm.pointer + h
            var base = 0
            while base < m {
                var t = 0
                while t < h {
                    let i0 = base + t, i1 = base + h + t
                    let xr = load8(re + i0), xi = load8(im + i0)
                    let yr = load8(re + i1), yi = load8(im + i1)
                    let dr = xr - yr, di = xi - yi
                    let wr = load8(wRe + t), wi = load8(wIm + t)
                    store8(xr + yr, re + i0)
                    store8(xi + yi, im + i0)
                    store8(dr * wr - di * wi, re + i1)
                    store8(dr * wi + di * wr, im + i1)
                    t += 8
                }
                base += 2 * h
            }
            h /= 2
        }
        // The last three stages (spans 4, 2, 1) inside each row of 8 points, in registers.
        var row = 0
        while row < m {
            var r = load8(re + row), i = load8(im + row)
            Self.forwardRow(&r, &i)
            store8(r, re + row)
            store8(i, im + row)
            row += 8
        }
    }

    // e^{-2πi t/8} for t = 0..3
    private static let c8 = 0.70710678118654752440
    private static let w8Re = SIMD4<Double>(1, c8, 0, -c8)
    private static let w8Im = SIMD4<Double>(0, -c8, -1, -c8)

    @inline(__always)
    private static func forwardRow(_ re: inout SIMD8<Double>, _ im: inout SIMD8<Double>) {
        // span 4: (0..3) with (4..7), twiddles e^{-2πi t/8}
        var xr = re.lowHalf, xi = im.lowHalf, yr = re.highHalf, yi = im.highHalf
        var dr = xr - yr, di = xi - yi
        let ar = xr + yr, ai = xi + yi
        let br = dr * w8Re - di * w8Im, bi = dr * w8Im + di * w8Re
        // span 2 inside each half: (0,1) with (2,3), twiddles 1 and -i
        xr = SIMD4(ar[0], ar[1], br[0], br[1]); xi = SIMD4(ai[0], ai[1], bi[0], bi[1])
        yr = SIMD4(ar[2], ar[3], br[2], br[3]); yi = SIMD4(ai[2], ai[3], bi[2], bi[3])
        dr = xr - yr; di = xi - yi
        let sr = xr + yr, si = xi + yi
        // multiply lanes 1 and 3 by -i: (dr + i di)(-i) = di - i dr
        let tr = SIMD4(dr[0], di[1], dr[2], di[3]), ti = SIMD4(di[0], -dr[1], di[2], -dr[3])
        // span 1: (0) with (1)
        let er = SIMD4(sr[0], tr[0], sr[2], tr[2]), ei = SIMD4(si[0], ti[0], si[2], ti[2])
        let or = SIMD4(sr[1], tr[1], sr[3], tr[3]), oi = SIMD4(si[1], ti[1], si[3], ti[3])
        re = SIMD8(lowHalf: er + or, highHalf: er - or)
        im = SIMD8(lowHalf: ei + oi, highHalf: ei - oi)
    }

    @inline(__always)
    private static func inverseRow(_ re: inout SIMD8<Double>, _ im: inout SIMD8<Double>) {
        // Undo span 1.
        let pr = re.lowHalf, pi = im.lowHalf, qr = re.highHalf, qi = im.highHalf
        let er = pr + qr, ei = pi + qi, or = pr - qr, oi = pi - qi
        let sr = SIMD4(er[0], or[0], er[2], or[2]), si = SIMD4(ei[0], oi[0], ei[2], oi[2])
        var tr = SIMD4(er[1], or[1], er[3], or[3]), ti = SIMD4(ei[1], oi[1], ei[3], oi[3])
        // Undo span 2: multiply lanes 1 and 3 by +i: (tr + i ti) i = -ti + i tr
        let ur = SIMD4(tr[0], -ti[1], tr[2], -ti[3]), ui = SIMD4(ti[0], tr[1], ti[2], tr[3])
        tr = sr + ur; ti = si + ui
        let vr = sr - ur, vi = si - ui
        let ar = SIMD4(tr[0], tr[1], vr[0], vr[1]), ai = SIMD4(ti[0], ti[1], vi[0], vi[1])
        let br = SIMD4(tr[2], tr[3], vr[2], vr[3]), bi = SIMD4(ti[2], ti[3], vi[2], vi[3])
        // Undo span 4 with conjugate twiddles.
        let cr = br * w8Re + bi * w8Im, ci = bi * w8Re - br * w8Im
        re = SIMD8(lowHalf: ar + cr, highHalf: ar - cr)
        im = SIMD8(lowHalf: ai + ci, highHalf: ai - ci)
    }

    /// Decimation in time: from the engine's Fourier order back to natural order, unscaled.
    @inline(__always)
    private func inverseInPlace(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>) {
        let m = pointCount
        var row = 0
        while row < m {
            var r = load8(re + row), i = load8(im + row)
            Self.inverseRow(&r, &i)
            store8(r, re + row)
            store8(i, im + row)
            row += 8
        }
        var h = 8
        while h < m {
            let wRe = twiddleRe.pointer + h, wIm = twiddleIm.pointer + h
            var base = 0
            while base < m {
                var t = 0
                while t < h {
                    let i0 = base + t, i1 = base + h + t
                    let xr = load8(re + i0), xi = load8(im + i0)
                    let yr0 = load8(re + i1), yi0 = load8(im + i1)
                    let wr = load8(wRe + t), wi = load8(wIm + t)
                    // y · conj(w)
                    let yr = yr0 * wr + yi0 * wi, yi = yi0 * wr - yr0 * wi
                    store8(xr + yr, re + i0)
                    store8(xi + yi, im + i0)
                    store8(xr - yr, re + i1)
                    store8(xi - yi, im + i1)
                    t += 8
                }
                base += 2 * h
            }
            h *= 2
        }
    }

    /// Inverse transform back to N real coefficients (destroys `re`/`im`).
    public func inverse(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>,
                        into coefficients: UnsafeMutablePointer<Double>) {
        inverseInPlace(re: re, im: im)
        let m = pointCount
        let scale = SIMD8<Double>(repeating: 1 / Double(m))
        var j = 0
        while j < m {
            let cr = load8(re + j) * scale, ci = load8(im + j) * scale
            let wr = load8(twistRe.pointer + j), wi = load8(twistIm.pointer + j)
            // multiply by conj(ψ^j) and unfold
            store8(cr * wr + ci * wi, coefficients + j)
            store8(ci * wr - cr * wi, coefficients + m + j)
            j += 8
        }
    }

    /// Inverse transform whose rounded result is added, modulo q, to a torus polynomial.
    public func inverseAdd<T: TorusScalar>(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>,
                                           scratch: UnsafeMutablePointer<Double>, into output: UnsafeMutablePointer<T>) {
        inverse(re: re, im: im, into: scratch)
        for j in 0..<polynomialSize { output[j] = output[j] &+ T(wrapping: scratch[j]) }
    }

    /// acc += a ⊙ b on M complex points (split re/im).
    @inline(__always)
    public static func multiplyAdd(accRe: UnsafeMutablePointer<Double>, accIm: UnsafeMutablePointer<Double>,
                                   aRe: UnsafePointer<Double>, aIm: UnsafePointer<Double>,
                                   bRe: UnsafePointer<Double>, bIm: UnsafePointer<Double>, count: Int,
                                   accumulate: Bool = true) {
        var j = 0
        if accumulate {
            while j < count {
                let ar = load8(aRe + j), ai = load8(aIm + j), br = load8(bRe + j), bi = load8(bIm + j)
                store8(load8(accRe + j) + ar * br - ai * bi, accRe + j)
                store8(load8(accIm + j) + ar * bi + ai * br, accIm + j)
                j += 8
            }
        } else {
            while j < count {
                let ar = load8(aRe + j), ai = load8(aIm + j), br = load8(bRe + j), bi = load8(bIm + j)
                store8(ar * br - ai * bi, accRe + j)
                store8(ar * bi + ai * br, accIm + j)
                j += 8
            }
        }
    }
}
