import Foundation
import TFHEKernelABI

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
/// This class owns the transform's tables; the transforms themselves are kernels
/// (Kernels/FourierTransform.swift), run by the kernel set `EngineKernels` chose for this CPU.
public final class NegacyclicFFT: @unchecked Sendable {
    public let polynomialSize: Int
    /// Number of complex points, N/2.
    public let pointCount: Int
    private let twistRe: AlignedBuffer<Double>
    private let twistIm: AlignedBuffer<Double>
    /// Twiddles e^{-2πi t/(2h)} for t < h, for every span h = M/2, M/4, ..., 8 (one block
    /// per stage, at offset h: h + (h-1) + ... fits in M).
    private let twiddleRe: AlignedBuffer<Double>
    private let twiddleIm: AlignedBuffer<Double>
    private let twiddle3Re: AlignedBuffer<Double>
    private let twiddle3Im: AlignedBuffer<Double>
    /// `FourierTransform.RowConstants.lanes`, 7 × 8 doubles.
    private let rowConstants: AlignedBuffer<Double>
    /// `FourierTables.slotRootPowers` and the 2N-th roots of unity, for monomials in the
    /// Fourier domain (the grouped blind rotations' X^e - 1).
    private let slotRootPowers: AlignedBuffer<Int32>
    private let rootRe: AlignedBuffer<Double>
    private let rootIm: AlignedBuffer<Double>
    /// The kernels' view of the tables above (which live as long as this object).
    let tables: FourierTables
    /// The kernel set whose transforms this object runs.
    let kernels: any EngineKernelSet
    /// pointSlots[k] = the slot where the forward transform leaves canonical point k (see
    /// NegacyclicFFT+PointOrder.swift); files hold points in canonical order. Every kernel set
    /// leaves the points in the same slots (EngineKernelsTests).
    public private(set) var pointSlots: [Int] = []

    /// Plans for N ≥ 128 (the passes work on SIMD8 rows of points, the radix-4 ones on 4 rows).
    public convenience init(polynomialSize: Int) {
        self.init(polynomialSize: polynomialSize, kernels: EngineKernels.selected)
    }

    /// The same, on a given kernel set (tests compare the sets).
    init(polynomialSize: Int, kernels: any EngineKernelSet) {
        precondition(polynomialSize >= 128 && polynomialSize.nonzeroBitCount == 1, "validated by ParameterSet")
        self.polynomialSize = polynomialSize
        self.kernels = kernels
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
        rowConstants = AlignedBuffer(count: 56)
        for (v, lanes) in FourierTransform.RowConstants.lanes.enumerated() {
            for l in 0..<8 { rowConstants.pointer[8 * v + l] = lanes[l] }
        }
        twiddleRe = AlignedBuffer(count: m)
        twiddleIm = AlignedBuffer(count: m)
        twiddle3Re = AlignedBuffer(count: m)
        twiddle3Im = AlignedBuffer(count: m)
        var h = m / 2
        while h >= 8 {
            for t in 0..<h {
                // w_h^t = e^{-iπ t/h}, and w_h^{3t} for the radix-4 passes (t < h/2 used)
                let angle = -Double.pi * Double(t) / Double(h)
                twiddleRe.pointer[h + t] = cos(angle)
                twiddleIm.pointer[h + t] = sin(angle)
                twiddle3Re.pointer[h + t] = cos(3 * angle)
                twiddle3Im.pointer[h + t] = sin(3 * angle)
            }
            h /= 2
        }
        rootRe = AlignedBuffer(count: 2 * polynomialSize)
        rootIm = AlignedBuffer(count: 2 * polynomialSize)
        for t in 0..<(2 * polynomialSize) {
            let angle = Double.pi * Double(t) / Double(polynomialSize)
            rootRe.pointer[t] = cos(angle)
            rootIm.pointer[t] = sin(angle)
        }
        slotRootPowers = AlignedBuffer(count: m)
        tables = FourierTables(polynomialSize: polynomialSize, twistRe: twistRe.pointer, twistIm: twistIm.pointer,
                               twiddleRe: twiddleRe.pointer, twiddleIm: twiddleIm.pointer,
                               twiddle3Re: twiddle3Re.pointer, twiddle3Im: twiddle3Im.pointer, rowConstants: rowConstants.pointer,
                               slotRootPowers: slotRootPowers.pointer, rootRe: rootRe.pointer, rootIm: rootIm.pointer)
        pointSlots = Self.measuredSlots(polynomialSize: polynomialSize) { self.forward($0, re: $1, im: $2) }
        // Canonical point k is the polynomial at ψ·ω^k = e^{iπ(1 - 4k)/N} (NegacyclicFFT+PointOrder).
        for (k, slot) in pointSlots.enumerated() {
            slotRootPowers.pointer[slot] = Int32(((1 - 4 * k) % (2 * polynomialSize) + 2 * polynomialSize) % (2 * polynomialSize))
        }
    }

    /// Forward transform of N real coefficients into M = N/2 complex points (split re/im).
    public func forward(_ coefficients: UnsafePointer<Double>,
                        re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>) {
        kernels.forward(tables, coefficients, re: re, im: im)
    }

    /// The cyclic complex FFT of M = N/2 points inside `forward`, alone and in place (no
    /// twist; the Fourier domain's order out): to time it against other FFTs like for like.
    public func complexForward(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>) {
        kernels.complexForward(tables, re: re, im: im)
    }

    /// The inverse of `complexForward`, unscaled (M times the identity after it).
    public func complexInverse(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>) {
        kernels.complexInverse(tables, re: re, im: im)
    }

    /// Forward transform of a torus polynomial read as signed integers.
    public func forward<T: TorusScalar>(torus coefficients: UnsafePointer<T>, scratch: UnsafeMutablePointer<Double>,
                                        re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>) {
        for j in 0..<polynomialSize { scratch[j] = coefficients[j].signedDouble }
        forward(UnsafePointer(scratch), re: re, im: im)
    }

    /// Inverse transform back to N real coefficients (destroys `re`/`im`).
    public func inverse(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>,
                        into coefficients: UnsafeMutablePointer<Double>) {
        kernels.inverse(tables, re: re, im: im, into: coefficients)
    }

    /// Inverse transform whose rounded result is added, modulo q, to a torus polynomial.
    /// Untwisting, scaling, rounding and the modular addition happen in one SIMD pass.
    public func inverseAdd<T: TorusScalar>(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>,
                                           into output: UnsafeMutablePointer<T>) {
        kernels.inverseAdd(T.width, tables, re: re, im: im, into: UnsafeMutableRawPointer(output))
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
