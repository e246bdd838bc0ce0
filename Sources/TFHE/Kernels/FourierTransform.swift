import TFHEKernelABI

/// The negacyclic FFT's transforms (see `NegacyclicFFT`, which owns the tables and explains
/// the folding), on the tables of one polynomial size. Compiled once per instruction set with
/// the rest of the kernels; everything here is inlined into the kernel entry points
/// (`CompiledKernelSet`), so the passes are specialised for the set's vector width.
///
/// The forward transform is a decimation-in-frequency FFT (natural order in, bit-reversed
/// out) and the inverse a decimation-in-time one (bit-reversed in, natural out), so no
/// permutation is ever done: the Fourier domain is only used for pointwise products, which
/// do not care about the order of the points. Real and imaginary parts live in separate
/// arrays so that every butterfly runs on SIMD lanes (`PassLanes`: eight with AVX-512, four
/// with AVX2, see FourierLanes.swift).
struct FourierTransform {
    let tables: FourierTables
    let polynomialSize: Int
    /// Number of complex points, N/2.
    let pointCount: Int
    /// Memory to ask for into L2 a few lines per loop iteration (the blind rotation's next
    /// GGSW), or nil.
    let stream: UnsafeMutablePointer<PrefetchStream>?

    @inline(__always)
    init(_ tables: FourierTables, streaming stream: UnsafeMutablePointer<PrefetchStream>? = nil) {
        self.tables = tables
        polynomialSize = tables.polynomialSize
        pointCount = tables.polynomialSize / 2
        self.stream = stream
    }

    /// The same transforms, stepping `stream` as they go.
    @inline(__always)
    func streaming(_ stream: UnsafeMutablePointer<PrefetchStream>?) -> FourierTransform {
        FourierTransform(tables, streaming: stream)
    }

    @inline(__always)
    private func step() { stream?.pointee.step() }

    // Stage twiddles for span h start at offset h (h + (h-1) + ... fits in M).

    /// Forward transform of N real coefficients into M = N/2 complex points (split re/im).
    func forward(_ coefficients: UnsafePointer<Double>,
                        re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>) {
        let m = pointCount
        // Fold and twist: c_j = (a_j + i a_{j+M}) ψ^j.
        var j = 0
        while j < m {
            step()
            let a = load8(coefficients + j), b = load8(coefficients + m + j)
            let wr = load8(tables.twistRe + j), wi = load8(tables.twistIm + j)
            let (r, i) = complexMultiply(a, b, wr, wi)
            store8(r, re + j)
            store8(i, im + j)
            j += 8
        }
        forwardInPlace(re: re, im: im)
    }

    /// The cyclic FFT of M points alone, in place (`EngineKernelSet.complexForward`).
    func complexForward(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>) {
        forwardInPlace(re: re, im: im)
    }

    /// Its inverse, unscaled (`EngineKernelSet.complexInverse`).
    func complexInverse(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>) {
        inverseInPlace(re: re, im: im)
    }

    /// Forward transform of the one-level gadget digits of a torus polynomial (the blind
    /// rotation's case): digits, fold and twist in one SIMD pass.
    func forwardTopDigits<T: TorusScalar>(_ values: UnsafePointer<T>, offset: T, shift: Int,
                                                 re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>) {
        // The first radix-4 pass (spans m/2 and m/4, one group) reads its four points straight
        // from the digits, folded and twisted, so the twisted input is never stored.
        let m = pointCount, h = m / 2, q = m / 4
        let w1Re = tables.twiddleRe + h, w1Im = tables.twiddleIm + h
        let w2Re = tables.twiddleRe + q, w2Im = tables.twiddleIm + q
        let w3Re = tables.twiddle3Re + h, w3Im = tables.twiddle3Im + h
        typealias V = PassLanes
        @inline(__always) func twisted(_ j: Int) -> (V, V) {
            let a = V.topDigits(values + j, offset: offset, shift: shift)
            let b = V.topDigits(values + m + j, offset: offset, shift: shift)
            return complexMultiply(a, b, V.load(tables.twistRe + j), V.load(tables.twistIm + j))
        }
        var t = 0
        while t < q {
            step()
            let (x0r, x0i) = twisted(t), (x1r, x1i) = twisted(t &+ q)
            let (x2r, x2i) = twisted(t &+ h), (x3r, x3i) = twisted(t &+ h &+ q)
            let y = Self.forwardButterfly4((x0r, x0i, x1r, x1i, x2r, x2i, x3r, x3i),
                                           V.load(w1Re + t), V.load(w1Im + t), V.load(w2Re + t), V.load(w2Im + t),
                                           V.load(w3Re + t), V.load(w3Im + t))
            Self.store(y, re: re, im: im, at: (t, t &+ q, t &+ h, t &+ h &+ q))
            t &+= V.scalarCount
        }
        forwardInPlace(re: re, im: im, firstSpan: m / 8)
    }

    /// Decimation in frequency on split arrays; output in the engine's Fourier order.
    @inline(__always)
    private func forwardInPlace(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>,
                                firstSpan: Int? = nil) {
        let m = pointCount
        // Spans m/2 ... 8, two at a time (radix 4), and a last single one if their number is odd.
        var h = firstSpan ?? m / 2
        while h >= 16 {
            forwardRadix4(re: re, im: im, span: h)
            h /= 4
        }
        // The last three stages (spans 4, 2, 1) act inside each row of 8 points, by lane
        // permutations; each row ends in bit-reversed order (the Fourier domain's order is free).
        // An odd number of stages leaves span 8 alone: it pairs rows, and runs in their pass.
        if h == 8 {
            forwardSpan8AndRows(re: re, im: im)
        } else {
            rowStages(re: re, im: im, inverse: false)
        }
    }

    /// The decimation-in-frequency stage of span 8, (x, y) → (x + y, (x - y)·w_8^t), then
    /// `rowStages`, in one pass over the points: each pair of
    /// rows (points j..j+7 and j+8..j+15) goes through its span-8 butterflies and both rows'
    /// stages in registers. The same operations in the same order as the two passes, so the
    /// same words; one load and store of every point fewer (at M = 256, a quarter of them).
    @inline(__always)
    private func forwardSpan8AndRows(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>) {
        let constants = RowConstants(tables.rowConstants)
        let wr = load8(tables.twiddleRe + 8), wi = load8(tables.twiddleIm + 8)
        var row = 0
        while row < pointCount {
            step()
            let pair = row &+ 8
            let xr = load8(re + row), xi = load8(im + row), yr = load8(re + pair), yi = load8(im + pair)
            let (dr, di) = complexMultiply(xr - yr, xi - yi, wr, wi)
            let (sr, si) = Self.forwardRow(xr + yr, xi + yi, constants)
            let (tr, ti) = Self.forwardRow(dr, di, constants)
            store8(sr, re + row); store8(si, im + row)
            store8(tr, re + pair); store8(ti, im + pair)
            row &+= 16
        }
    }

    /// `rowStages(inverse: true)` then `inverseRadix2(span: 8)` in one pass (see
    /// `forwardSpan8AndRows`).
    @inline(__always)
    private func inverseRowsAndSpan8(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>) {
        let constants = RowConstants(tables.rowConstants)
        let wr = load8(tables.twiddleRe + 8), wi = load8(tables.twiddleIm + 8)
        var row = 0
        while row < pointCount {
            step()
            let pair = row &+ 8
            let (xr, xi) = Self.inverseRow(load8(re + row), load8(im + row), constants)
            let (ur, ui) = Self.inverseRow(load8(re + pair), load8(im + pair), constants)
            let (yr, yi) = complexMultiplyConjugate(ur, ui, wr, wi)
            store8(xr + yr, re + row); store8(xi + yi, im + row)
            store8(xr - yr, re + pair); store8(xi - yi, im + pair)
            row &+= 16
        }
    }

    /// `forwardRow` or `inverseRow` on every row of 8 points, in place.
    @inline(__always)
    private func rowStages(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>, inverse: Bool) {
        let constants = RowConstants(tables.rowConstants)
        var row = 0
        while row < pointCount {
            step()
            let (r, i) = inverse ? Self.inverseRow(load8(re + row), load8(im + row), constants)
                                 : Self.forwardRow(load8(re + row), load8(im + row), constants)
            store8(r, re + row); store8(i, im + row)
            row &+= 8
        }
    }

    /// Sign and twiddle lanes of the three stages inside a row of 8 points (spans 4, 2, 1).
    /// In each stage a lane that receives a sum gets sign +1 and twiddle 1, a lane that
    /// receives a difference sign -1 and the stage's twiddle: e^{-2πi t/8} for span 4 and
    /// e^{-2πi t/4} for span 2 (span 1's are all 1).
    @usableFromInline
    struct RowConstants {
        let sign4, sign2, sign1, w4Re, w4Im, w2Re, w2Im: SIMD8<Double>

        /// The lanes, in the order `init` reads them.
        static let lanes: [SIMD8<Double>] = [
            SIMD8(1, 1, 1, 1, -1, -1, -1, -1), SIMD8(1, 1, -1, -1, 1, 1, -1, -1), SIMD8(1, -1, 1, -1, 1, -1, 1, -1),
            SIMD8(1, 1, 1, 1, 1, c8, 0, -c8), SIMD8(0, 0, 0, 0, 0, -c8, -1, -c8),
            SIMD8(1, 1, 1, 0, 1, 1, 1, 0), SIMD8(0, 0, 0, -1, 0, 0, 0, -1),
        ]

        /// Read from memory rather than written as literals: with literal lanes the optimiser
        /// splits each vector into its constant parts and scalarises the stages (1.5 times
        /// slower).
        @inline(__always) init(_ p: UnsafePointer<Double>) {
            (sign4, sign2, sign1) = (load8(p), load8(p + 8), load8(p + 16))
            (w4Re, w4Im, w2Re, w2Im) = (load8(p + 24), load8(p + 32), load8(p + 40), load8(p + 48))
        }
    }

    fileprivate static let c8 = 0.70710678118654752440

    /// Spans 4, 2 and 1 of decimation in frequency inside one row of 8 points. Each stage is
    /// one lane permutation and one fused multiply-add (partner + sign·self gives the sum in
    /// the first lane of a pair and the difference in the second), then the twiddles.
    ///
    /// On four lanes (AVX2) the row is two vectors: span 4 pairs them, so it needs no
    /// permutation, and the low half's twiddles are 1, so only the high half is multiplied. The
    /// words are those of the eight-lane form (a product by 1 + 0i is exact).
    @inline(__always)
    static func forwardRow(_ r: SIMD8<Double>, _ i: SIMD8<Double>, _ k: RowConstants) -> (SIMD8<Double>, SIMD8<Double>) {
        #if !ENGINE_AVX512
        let (dr, di) = complexMultiply(r.lowHalf - r.highHalf, i.lowHalf - i.highHalf, k.w4Re.highHalf, k.w4Im.highHalf)
        let low = forwardHalfRow(r.lowHalf + r.highHalf, i.lowHalf + i.highHalf, k)
        let high = forwardHalfRow(dr, di, k)
        return (SIMD8(lowHalf: low.0, highHalf: high.0), SIMD8(lowHalf: low.1, highHalf: high.1))
        #else
        let (ar, ai) = complexMultiply(r.halvesSwapped.addingProduct(k.sign4, r), i.halvesSwapped.addingProduct(k.sign4, i),
                                       k.w4Re, k.w4Im)
        let (br, bi) = complexMultiply(ar.pairsSwapped.addingProduct(k.sign2, ar), ai.pairsSwapped.addingProduct(k.sign2, ai),
                                       k.w2Re, k.w2Im)
        return (br.neighboursSwapped.addingProduct(k.sign1, br), bi.neighboursSwapped.addingProduct(k.sign1, bi))
        #endif
    }

    /// Spans 2 and 1 of `forwardRow` on four lanes (both halves' constants are the same).
    @inline(__always)
    static func forwardHalfRow(_ r: SIMD4<Double>, _ i: SIMD4<Double>, _ k: RowConstants) -> (SIMD4<Double>, SIMD4<Double>) {
        let sign2 = k.sign2.lowHalf, sign1 = k.sign1.lowHalf
        let (br, bi) = complexMultiply(r.pairsSwapped.addingProduct(sign2, r), i.pairsSwapped.addingProduct(sign2, i),
                                       k.w2Re.lowHalf, k.w2Im.lowHalf)
        return (br.neighboursSwapped.addingProduct(sign1, br), bi.neighboursSwapped.addingProduct(sign1, bi))
    }

    /// Spans 1 and 2 of `inverseRow` on four lanes.
    @inline(__always)
    static func inverseHalfRow(_ r: SIMD4<Double>, _ i: SIMD4<Double>, _ k: RowConstants) -> (SIMD4<Double>, SIMD4<Double>) {
        let sign2 = k.sign2.lowHalf, sign1 = k.sign1.lowHalf
        let ar = r.neighboursSwapped.addingProduct(sign1, r), ai = i.neighboursSwapped.addingProduct(sign1, i)
        let (br, bi) = complexMultiplyConjugate(ar, ai, k.w2Re.lowHalf, k.w2Im.lowHalf)
        return (br.pairsSwapped.addingProduct(sign2, br), bi.pairsSwapped.addingProduct(sign2, bi))
    }

    /// The inverse of `forwardRow` (times 8): spans 1, 2, 4 with conjugate twiddles, each
    /// applied before its butterfly.
    @inline(__always)
    static func inverseRow(_ r: SIMD8<Double>, _ i: SIMD8<Double>, _ k: RowConstants) -> (SIMD8<Double>, SIMD8<Double>) {
        #if !ENGINE_AVX512
        let low = inverseHalfRow(r.lowHalf, i.lowHalf, k), high = inverseHalfRow(r.highHalf, i.highHalf, k)
        let (dr, di) = complexMultiplyConjugate(high.0, high.1, k.w4Re.highHalf, k.w4Im.highHalf)
        return (SIMD8(lowHalf: low.0 + dr, highHalf: low.0 - dr), SIMD8(lowHalf: low.1 + di, highHalf: low.1 - di))
        #else
        let ar = r.neighboursSwapped.addingProduct(k.sign1, r), ai = i.neighboursSwapped.addingProduct(k.sign1, i)
        let (br, bi) = complexMultiplyConjugate(ar, ai, k.w2Re, k.w2Im)
        let cr = br.pairsSwapped.addingProduct(k.sign2, br), ci = bi.pairsSwapped.addingProduct(k.sign2, bi)
        let (dr, di) = complexMultiplyConjugate(cr, ci, k.w4Re, k.w4Im)
        return (dr.halvesSwapped.addingProduct(k.sign4, dr), di.halvesSwapped.addingProduct(k.sign4, di))
        #endif
    }

    /// Decimation in time: from the engine's Fourier order back to natural order, unscaled.
    @inline(__always)
    private func inverseInPlace(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>,
                                skippingLastPass: Bool = false, rowsDone: Bool = false) {
        let m = pointCount
        // Spans 8 ... m/2: a single one first if their number is odd (in the rows' pass, unless
        // the rows were done by the caller), then two at a time.
        let bigStages = (m / 16).trailingZeroBitCount + 1  // spans 8, 16, ..., m/2
        var h = 8
        if bigStages % 2 == 1 {
            if rowsDone { inverseRadix2(re: re, im: im, span: 8) } else { inverseRowsAndSpan8(re: re, im: im) }
            h = 16
        } else if !rowsDone {
            rowStages(re: re, im: im, inverse: true)
        }
        // The last pass is always the radix-4 one of spans m/4 and m/2.
        while h < m {
            if skippingLastPass && 2 * h == m / 2 { break }
            inverseRadix4(re: re, im: im, span: 2 * h)
            h *= 4
        }
    }

    /// Four complex points (re, im, re, im, ...), or eight vectors of any `FourierLanes`.
    typealias Quad<V: FourierLanes> = (V, V, V, V, V, V, V, V)

    /// Loads the four points at indices i of split arrays.
    @inline(__always)
    static func loadQuad(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>,
                         at i: (Int, Int, Int, Int)) -> Quad<PassLanes> {
        typealias V = PassLanes
        return (V.load(re + i.0), V.load(im + i.0), V.load(re + i.1), V.load(im + i.1),
                V.load(re + i.2), V.load(im + i.2), V.load(re + i.3), V.load(im + i.3))
    }

    /// Stores four points at indices i of split arrays.
    @inline(__always)
    static func store(_ x: Quad<PassLanes>, re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>,
                      at i: (Int, Int, Int, Int)) {
        x.0.store(to: re + i.0); x.1.store(to: im + i.0); x.2.store(to: re + i.1); x.3.store(to: im + i.1)
        x.4.store(to: re + i.2); x.5.store(to: im + i.2); x.6.store(to: re + i.3); x.7.store(to: im + i.3)
    }

    /// The radix-4 decimation-in-frequency butterfly: spans h and h/2 at once on (x0, x1, x2,
    /// x3) = points (t, t+h/2, t+h, t+3h/2) of a group of 2h, as (re, im) pairs, with W = w_h
    /// (a = W^t, b = W^{2t} = w_{h/2}^t, c = W^{3t}):
    ///   y0 = (x0 + x2) + (x1 + x3)             y2 = ((x0 + x2) - (x1 + x3))·W^{2t}
    ///   y1 = ((x0 - x2) - i(x1 - x3))·W^t      y3 = ((x0 - x2) + i(x1 - x3))·W^{3t}
    /// each left in its input's place, so each quarter is then a transform of h/2 points of its
    /// own (the outputs end in base-4 digit-reversed order; the Fourier domain's order is free).
    /// Three twiddle products per four points, where two radix-2 stages take four.
    @inline(__always)
    static func forwardButterfly4<V: FourierLanes>(_ x: Quad<V>, _ ar: V, _ ai: V, _ br: V, _ bi: V, _ cr: V, _ ci: V) -> Quad<V> {
        let sr = x.0 + x.4, si = x.1 + x.5, dr = x.0 - x.4, di = x.1 - x.5
        let tr = x.2 + x.6, ti = x.3 + x.7, ur = x.2 - x.6, ui = x.3 - x.7
        // -i·u = (ui, -ur)
        let (y1r, y1i) = complexMultiply(dr + ui, di - ur, ar, ai)
        let (y2r, y2i) = complexMultiply(sr - tr, si - ti, br, bi)
        let (y3r, y3i) = complexMultiply(dr - ui, di + ur, cr, ci)
        return (sr + tr, si + ti, y1r, y1i, y2r, y2i, y3r, y3i)
    }

    /// The inverse of `forwardButterfly4` (times 4): conjugate twiddles, then the radix-4
    /// decimation-in-time butterfly.
    @inline(__always)
    static func inverseButterfly4<V: FourierLanes>(_ y: Quad<V>, _ ar: V, _ ai: V, _ br: V, _ bi: V, _ cr: V, _ ci: V) -> Quad<V> {
        let (z1r, z1i) = complexMultiplyConjugate(y.2, y.3, ar, ai)
        let (z2r, z2i) = complexMultiplyConjugate(y.4, y.5, br, bi)
        let (z3r, z3i) = complexMultiplyConjugate(y.6, y.7, cr, ci)
        let sr = y.0 + z2r, si = y.1 + z2i, tr = y.0 - z2r, ti = y.1 - z2i
        let dr = z1r + z3r, di = z1i + z3i, er = z1r - z3r, ei = z1i - z3i
        // i·e = (-ei, er)
        return (sr + dr, si + di, tr - ei, ti + er, sr - dr, si - di, tr + ei, ti - er)
    }

    /// Two decimation-in-frequency stages at once, spans h and h/2, on groups of 2h points
    /// (`forwardButterfly4`).
    @inline(__always)
    private func forwardRadix4(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>, span h: Int) {
        typealias V = PassLanes
        let m = pointCount, q = h / 2
        let w1Re = tables.twiddleRe + h, w1Im = tables.twiddleIm + h
        let w2Re = tables.twiddleRe + q, w2Im = tables.twiddleIm + q
        let w3Re = tables.twiddle3Re + h, w3Im = tables.twiddle3Im + h
        var base = 0
        while base < m {
            var t = 0
            while t < q {
                step()
                let i0 = base &+ t, i1 = i0 &+ q, i2 = i0 &+ h, i3 = i2 &+ q
                let x = Self.loadQuad(re: re, im: im, at: (i0, i1, i2, i3))
                let y = Self.forwardButterfly4(x, V.load(w1Re + t), V.load(w1Im + t), V.load(w2Re + t), V.load(w2Im + t),
                                           V.load(w3Re + t), V.load(w3Im + t))
                Self.store(y, re: re, im: im, at: (i0, i1, i2, i3))
                t &+= V.scalarCount
            }
            base &+= 2 &* h
        }
    }

    /// One decimation-in-time stage of span h: (x, y) → (x + y·conj(w), x - y·conj(w)).
    @inline(__always)
    private func inverseRadix2(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>, span h: Int) {
        typealias V = PassLanes
        let m = pointCount
        let wRe = tables.twiddleRe + h, wIm = tables.twiddleIm + h
        var base = 0
        while base < m {
            var t = 0
            while t < h {
                step()
                let i0 = base &+ t, i1 = i0 &+ h
                let xr = V.load(re + i0), xi = V.load(im + i0), yr0 = V.load(re + i1), yi0 = V.load(im + i1)
                let wr = V.load(wRe + t), wi = V.load(wIm + t)
                let (yr, yi) = complexMultiplyConjugate(yr0, yi0, wr, wi)
                (xr + yr).store(to: re + i0); (xi + yi).store(to: im + i0)
                (xr - yr).store(to: re + i1); (xi - yi).store(to: im + i1)
                t &+= V.scalarCount
            }
            base &+= 2 &* h
        }
    }

    /// The inverse of `forwardRadix4(span: h)` (`inverseButterfly4`).
    @inline(__always)
    private func inverseRadix4(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>, span h: Int) {
        typealias V = PassLanes
        let m = pointCount, q = h / 2
        let w1Re = tables.twiddleRe + h, w1Im = tables.twiddleIm + h
        let w2Re = tables.twiddleRe + q, w2Im = tables.twiddleIm + q
        let w3Re = tables.twiddle3Re + h, w3Im = tables.twiddle3Im + h
        var base = 0
        while base < m {
            var t = 0
            while t < q {
                step()
                let i0 = base &+ t, i1 = i0 &+ q, i2 = i0 &+ h, i3 = i2 &+ q
                let y = Self.loadQuad(re: re, im: im, at: (i0, i1, i2, i3))
                let x = Self.inverseButterfly4(y, V.load(w1Re + t), V.load(w1Im + t), V.load(w2Re + t), V.load(w2Im + t),
                                           V.load(w3Re + t), V.load(w3Im + t))
                Self.store(x, re: re, im: im, at: (i0, i1, i2, i3))
                t &+= V.scalarCount
            }
            base &+= 2 &* h
        }
    }

    /// Inverse transform back to N real coefficients (destroys `re`/`im`).
    func inverse(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>,
                        into coefficients: UnsafeMutablePointer<Double>) {
        inverseInPlace(re: re, im: im)
        let m = pointCount
        let scale = SIMD8<Double>(repeating: 1 / Double(m))
        var j = 0
        while j < m {
            let cr = load8(re + j) * scale, ci = load8(im + j) * scale
            let wr = load8(tables.twistRe + j), wi = load8(tables.twistIm + j)
            // multiply by conj(ψ^j) and unfold
            let (r, i) = complexMultiplyConjugate(cr, ci, wr, wi)
            store8(r, coefficients + j)
            store8(i, coefficients + m + j)
            j += 8
        }
    }

    /// Inverse transform whose rounded result is added, modulo q, to a torus polynomial.
    /// Untwisting, scaling, rounding and the modular addition happen in one SIMD pass.
    func inverseAdd<T: TorusScalar>(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>,
                                           into output: UnsafeMutablePointer<T>) {
        inverseInPlace(re: re, im: im, skippingLastPass: true)
        inverseAddLastPass(re: re, im: im, into: output)
    }

    /// The external product's last step for one output column: the inverse transform of
    /// Σ_r digit_r ⊙ key_r (over `rows` polynomial pairs; the digits consecutive polynomials
    /// of N doubles, re M | im M, the key's `keyRowStride` doubles apart), added to a torus
    /// polynomial. The sum of each row of 8 points stays in registers across the rows and
    /// goes through the inverse's first stages before it is stored once, into `re`/`im`.
    func inverseAddSumOfProducts<T: TorusScalar>(_ digits: UnsafePointer<Double>, _ key: UnsafePointer<Double>,
                                                        rows: Int, keyRowStride: Int,
                                                        re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>,
                                                        into output: UnsafeMutablePointer<T>) {
        let m = pointCount
        let rowConstants = RowConstants(tables.rowConstants)
        var j = 0
        while j < m {
            step()
            let (sumRe, sumIm) = sumOfProducts(digits + j, key + j, rows: rows, keyRowStride: keyRowStride)
            let (r, i) = Self.inverseRow(sumRe, sumIm, rowConstants)
            store8(r, re + j)
            store8(i, im + j)
            j &+= 8
        }
        inverseInPlace(re: re, im: im, skippingLastPass: true, rowsDone: true)
        inverseAddLastPass(re: re, im: im, into: output)
    }

    /// Σ_r digit_r ⊙ key_r at the eight points `digits` and `key` point to: `rows` polynomial
    /// pairs, the digits N doubles apart (re M | im M each), the key `keyRowStride` apart.
    @inline(__always)
    private func sumOfProducts(_ digits: UnsafePointer<Double>, _ key: UnsafePointer<Double>, rows: Int,
                               keyRowStride: Int) -> (SIMD8<Double>, SIMD8<Double>) {
        let m = pointCount, n = polynomialSize
        var sumRe = SIMD8<Double>(), sumIm = SIMD8<Double>()
        var d = digits, k = key
        for _ in 0..<rows {
            let ar = load8(d), ai = load8(d + m), br = load8(k), bi = load8(k + m)
            sumRe = sumRe.addingProduct(ar, br).subtractingProduct(ai, bi)
            sumIm = sumIm.addingProduct(ar, bi).addingProduct(ai, br)
            d += n
            k += keyRowStride
        }
        return (sumRe, sumIm)
    }

    /// The grouped external product's last step for one output column (`BlindRotation.groupedStep`):
    /// the inverse transform of Σ_j M_j ⊙ Σ_r digit_r ⊙ key_{j,r} over the `members` GGSWs of a
    /// step (`memberStride` doubles apart, each read as in `inverseAddSumOfProducts`) and their
    /// monomials M_j, X^{e_j} - 1 or X^{e_j} (consecutive polynomials of N doubles), added to a
    /// torus polynomial. Both sums stay in registers, point row by point row.
    func inverseAddSumOfMonomialProducts<T: TorusScalar>(_ digits: UnsafePointer<Double>, _ key: UnsafePointer<Double>,
                                                         members: Int, memberStride: Int, monomials: UnsafePointer<Double>,
                                                         rows: Int, keyRowStride: Int,
                                                         re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>,
                                                         into output: UnsafeMutablePointer<T>) {
        let m = pointCount, n = polynomialSize
        let rowConstants = RowConstants(tables.rowConstants)
        var j = 0
        while j < m {
            step()
            var totalRe = SIMD8<Double>(), totalIm = SIMD8<Double>()
            var memberKey = key + j, monomial = monomials + j
            for _ in 0..<members {
                let (sumRe, sumIm) = sumOfProducts(digits + j, memberKey, rows: rows, keyRowStride: keyRowStride)
                let mr = load8(monomial), mi = load8(monomial + m)
                totalRe = totalRe.addingProduct(sumRe, mr).subtractingProduct(sumIm, mi)
                totalIm = totalIm.addingProduct(sumRe, mi).addingProduct(sumIm, mr)
                memberKey += memberStride
                monomial += n
            }
            let (r, i) = Self.inverseRow(totalRe, totalIm, rowConstants)
            store8(r, re + j)
            store8(i, im + j)
            j &+= 8
        }
        inverseInPlace(re: re, im: im, skippingLastPass: true, rowsDone: true)
        inverseAddLastPass(re: re, im: im, into: output)
    }

    /// `inverseAddSumOfProducts` for two ciphertexts against the same key column, each key
    /// point loaded once for both: a batch reads the key from L2, and this halves that traffic.
    func inverseAddSumOfProducts<T: TorusScalar>(
        pair digits: (UnsafePointer<Double>, UnsafePointer<Double>), _ key: UnsafePointer<Double>, rows: Int,
        keyRowStride: Int, scratch: (UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>),
        into outputs: (UnsafeMutablePointer<T>, UnsafeMutablePointer<T>)
    ) {
        let m = pointCount, n = polynomialSize
        let rowConstants = RowConstants(tables.rowConstants)
        var j = 0
        while j < m {
            step()
            var sum0Re = SIMD8<Double>(), sum0Im = SIMD8<Double>(), sum1Re = SIMD8<Double>(), sum1Im = SIMD8<Double>()
            var d0 = digits.0 + j, d1 = digits.1 + j, k = key + j
            for _ in 0..<rows {
                let br = load8(k), bi = load8(k + m)
                let a0r = load8(d0), a0i = load8(d0 + m), a1r = load8(d1), a1i = load8(d1 + m)
                sum0Re = sum0Re.addingProduct(a0r, br).subtractingProduct(a0i, bi)
                sum0Im = sum0Im.addingProduct(a0r, bi).addingProduct(a0i, br)
                sum1Re = sum1Re.addingProduct(a1r, br).subtractingProduct(a1i, bi)
                sum1Im = sum1Im.addingProduct(a1r, bi).addingProduct(a1i, br)
                d0 += n
                d1 += n
                k += keyRowStride
            }
            let (r0, i0) = Self.inverseRow(sum0Re, sum0Im, rowConstants)
            let (r1, i1) = Self.inverseRow(sum1Re, sum1Im, rowConstants)
            store8(r0, scratch.0 + j); store8(i0, scratch.0 + m + j)
            store8(r1, scratch.1 + j); store8(i1, scratch.1 + m + j)
            j &+= 8
        }
        inverseInPlace(re: scratch.0, im: scratch.0 + m, skippingLastPass: true, rowsDone: true)
        inverseAddLastPass(re: scratch.0, im: scratch.0 + m, into: outputs.0)
        inverseInPlace(re: scratch.1, im: scratch.1 + m, skippingLastPass: true, rowsDone: true)
        inverseAddLastPass(re: scratch.1, im: scratch.1 + m, into: outputs.1)
    }

    /// The last radix-4 pass of the inverse (spans m/4 and m/2, one group), which writes its
    /// four points straight to the torus: untwisted, scaled, rounded and added.
    @inline(__always)
    private func inverseAddLastPass<T: TorusScalar>(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>,
                                                    into output: UnsafeMutablePointer<T>) {
        let m = pointCount, h = m / 2, q = m / 4
        let w1Re = tables.twiddleRe + h, w1Im = tables.twiddleIm + h
        let w2Re = tables.twiddleRe + q, w2Im = tables.twiddleIm + q
        let w3Re = tables.twiddle3Re + h, w3Im = tables.twiddle3Im + h
        typealias V = PassLanes
        let scale = V(repeating: 1 / Double(m))
        @inline(__always) func add(_ xr: V, _ xi: V, at j: Int) {
            let (r, i) = complexMultiplyConjugate(xr * scale, xi * scale, V.load(tables.twistRe + j), V.load(tables.twistIm + j))
            r.addWrapping(to: output + j)
            i.addWrapping(to: output + m + j)
        }
        var t = 0
        while t < q {
            step()
            let y = Self.loadQuad(re: re, im: im, at: (t, t &+ q, t &+ h, t &+ h &+ q))
            let x = Self.inverseButterfly4(y, V.load(w1Re + t), V.load(w1Im + t), V.load(w2Re + t), V.load(w2Im + t),
                                           V.load(w3Re + t), V.load(w3Im + t))
            add(x.0, x.1, at: t); add(x.2, x.3, at: t &+ q); add(x.4, x.5, at: t &+ h); add(x.6, x.7, at: t &+ h &+ q)
            t &+= V.scalarCount
        }
    }
}
