import Builtin

// SIMD operations the kernels need as single LLVM instructions, through the builtins the
// standard library's own SIMD types are made of (the target is built with
// -enable-builtin-module).
//
// Lane permutations: Swift's element-wise SIMD initialisers leave the optimiser to rediscover
// the permutation, which it does badly inside a large kernel (scalar code and spills); a
// `shufflevector` states it. The masks must be literals, so each permutation is its own
// function.
//
// Conversions: the standard library's generic SIMD conversions are not always inlined into a
// large kernel and then cost a call per vector; `sitofp` and `fptosi` are one instruction each
// on AVX-512 (vcvtqq2pd, vcvtdq2pd, vcvttpd2qq, vcvttpd2dq).
extension SIMD8 where Scalar == Double {
    /// (x4, x5, x6, x7, x0, x1, x2, x3)
    @inline(__always) @usableFromInline
    var halvesSwapped: SIMD8<Double> {
        var out = self
        out._storage._value = Builtin.shufflevector_Vec8xFPIEEE64_Vec8xInt32(
            _storage._value, _storage._value, SIMD8<Int32>(4, 5, 6, 7, 0, 1, 2, 3)._storage._value)
        return out
    }

    /// (x2, x3, x0, x1, x6, x7, x4, x5)
    @inline(__always) @usableFromInline
    var pairsSwapped: SIMD8<Double> {
        var out = self
        out._storage._value = Builtin.shufflevector_Vec8xFPIEEE64_Vec8xInt32(
            _storage._value, _storage._value, SIMD8<Int32>(2, 3, 0, 1, 6, 7, 4, 5)._storage._value)
        return out
    }

    /// (x1, x0, x3, x2, x5, x4, x7, x6)
    @inline(__always) @usableFromInline
    var neighboursSwapped: SIMD8<Double> {
        var out = self
        out._storage._value = Builtin.shufflevector_Vec8xFPIEEE64_Vec8xInt32(
            _storage._value, _storage._value, SIMD8<Int32>(1, 0, 3, 2, 5, 4, 7, 6)._storage._value)
        return out
    }
}

extension SIMD4 where Scalar == Double {
    /// (x2, x3, x0, x1): the rows' span-2 partners on four lanes.
    @inline(__always) @usableFromInline
    var pairsSwapped: SIMD4<Double> {
        var out = self
        out._storage._value = Builtin.shufflevector_Vec4xFPIEEE64_Vec4xInt32(
            _storage._value, _storage._value, SIMD4<Int32>(2, 3, 0, 1)._storage._value)
        return out
    }

    /// (x1, x0, x3, x2): the rows' span-1 partners on four lanes.
    @inline(__always) @usableFromInline
    var neighboursSwapped: SIMD4<Double> {
        var out = self
        out._storage._value = Builtin.shufflevector_Vec4xFPIEEE64_Vec4xInt32(
            _storage._value, _storage._value, SIMD4<Int32>(1, 0, 3, 2)._storage._value)
        return out
    }
}

// self - a·b as one fused multiply-add. The standard library negates a SIMD vector as 0 - x,
// which is not -x when x is +0, so LLVM may not fold `addingProduct(-a, b)` into a fused
// negative multiply-add and spends a subtraction (and a zeroed register) on it; `fneg` folds
// (vfnmadd231pd). Both round once, so the words are the same.
extension SIMD8 where Scalar == Double {
    @inline(__always) @usableFromInline
    func subtractingProduct(_ a: SIMD8<Double>, _ b: SIMD8<Double>) -> SIMD8<Double> {
        var negated = a
        negated._storage._value = Builtin.fneg_Vec8xFPIEEE64(a._storage._value)
        return addingProduct(negated, b)
    }
}

extension SIMD4 where Scalar == Double {
    @inline(__always) @usableFromInline
    func subtractingProduct(_ a: SIMD4<Double>, _ b: SIMD4<Double>) -> SIMD4<Double> {
        var negated = a
        negated._storage._value = Builtin.fneg_Vec4xFPIEEE64(a._storage._value)
        return addingProduct(negated, b)
    }
}

extension SIMD8 where Scalar == Double {
    /// Exact for |v| ≤ 2^53, rounded to nearest beyond.
    @inline(__always) @usableFromInline
    init(converting v: SIMD8<Int64>) {
        self.init()
        _storage._value = Builtin.sitofp_Vec8xInt64_Vec8xFPIEEE64(v._storage._value)
    }

    /// Always exact.
    @inline(__always) @usableFromInline
    init(converting v: SIMD8<Int32>) {
        self.init()
        _storage._value = Builtin.sitofp_Vec8xInt32_Vec8xFPIEEE64(v._storage._value)
    }
}

extension SIMD8 where Scalar == Double {
    /// Exact for |v| < 2^51 (gadget digits). AVX-512DQ converts 64-bit lanes in one
    /// instruction (vcvtqq2pd); AVX2 has no such instruction, and LLVM's fallback converts lane
    /// by lane (extract, vcvtsi2sd, insert). Below 2^51, v + (2^52 + 2^51) read as a Double's
    /// bits is exactly 2^52 + 2^51 + v (its exponent gives an ulp of 1), so an integer add and
    /// a subtraction convert four lanes at once.
    @inline(__always) @usableFromInline
    init(convertingSmall v: SIMD8<Int64>) {
        #if ENGINE_AVX512
        self.init(converting: v)
        #else
        self = convertingSmallByMagic(v)
        #endif
    }
}

extension SIMD8 where Scalar == UInt64 {
    /// round(v) mod 2^64 for |v| ≤ 2^63. With AVX-512DQ one vcvtpd2qq after the rounding; on
    /// AVX2 (no 64-bit conversion, see `init(convertingSmall:)`) the rounded value is split
    /// exactly as hi·2^32 + lo with lo in [0, 2^32), and each half is read from the mantissa
    /// of (half + 2^52 + 2^51): hi's bits shifted up by 32 leave hi mod 2^32 in the top half
    /// (the constant's bits shift out), lo's low 32 bits are lo.
    @inline(__always) @usableFromInline
    init(wrappingRounded v: SIMD8<Double>) {
        let r = v.rounded(.toNearestOrEven)
        #if ENGINE_AVX512
        self = unsafeBitCast(SIMD8<Int64>(truncating: r), to: SIMD8<UInt64>.self)
        #else
        self = wrappingBySplitting(r)
        #endif
    }
}

extension SIMD8 where Scalar == Int64 {
    /// Each lane truncated toward zero. Callers pass |v| ≤ 2^63; +2^63 itself gives
    /// 0x8000_0000_0000_0000 on x86 (`vcvttpd2qq`), right modulo 2^64, and 2^63 - 1 on ARM
    /// (saturation), one unit off in 2^64.
    @inline(__always) @usableFromInline
    init(truncating v: SIMD8<Double>) {
        self.init()
        _storage._value = Builtin.fptosi_Vec8xFPIEEE64_Vec8xInt64(v._storage._value)
    }
}

extension SIMD8 where Scalar == Int32 {
    /// Each lane truncated toward zero (`vcvttpd2dq`); as above for +2^31.
    @inline(__always) @usableFromInline
    init(truncating v: SIMD8<Double>) {
        self.init()
        _storage._value = Builtin.fptosi_Vec8xFPIEEE64_Vec8xInt32(v._storage._value)
    }
}

// The four-lane forms, for the FFT's passes on AVX2 (`FourierLanes`). Four-lane builds have
// no AVX-512, so the 64-bit conversions always take the floating-point route.
extension SIMD4 where Scalar == Double {
    /// Exact for |v| < 2^51 (as `SIMD8.init(convertingSmall:)`).
    @inline(__always) @usableFromInline
    init(convertingSmall v: SIMD4<Int64>) {
        self = convertingSmallByMagic(v)
    }

    /// Always exact (vcvtdq2pd).
    @inline(__always) @usableFromInline
    init(converting v: SIMD4<Int32>) {
        self.init()
        _storage._value = Builtin.sitofp_Vec4xInt32_Vec4xFPIEEE64(v._storage._value)
    }
}

extension SIMD4 where Scalar == UInt64 {
    /// round(v) mod 2^64 for |v| ≤ 2^63 (as `SIMD8.init(wrappingRounded:)` without AVX-512).
    @inline(__always) @usableFromInline
    init(wrappingRounded v: SIMD4<Double>) {
        self = wrappingBySplitting(v.rounded(.toNearestOrEven))
    }
}

extension SIMD4 where Scalar == Int32 {
    /// Each lane truncated toward zero (vcvttpd2dq); as `SIMD8<Int32>.init(truncating:)`.
    @inline(__always) @usableFromInline
    init(truncating v: SIMD4<Double>) {
        self.init()
        _storage._value = Builtin.fptosi_Vec4xFPIEEE64_Vec4xInt32(v._storage._value)
    }
}

/// `init(convertingSmall:)` without a 64-bit conversion instruction, on any lane count: below
/// 2^51, v + (2^52 + 2^51) read as a Double's bits is exactly 2^52 + 2^51 + v.
@inline(__always) @usableFromInline
func convertingSmallByMagic<I: SIMD, D: SIMD>(_ v: I) -> D where I.Scalar == Int64, D.Scalar == Double {
    unsafeBitCast(v &+ I(repeating: 0x4338_0000_0000_0000), to: D.self) - D(repeating: 0x1.8p52)
}

/// `init(wrappingRounded:)` without a 64-bit conversion instruction, on any lane count: the
/// rounded r (|r| ≤ 2^63) split exactly as hi·2^32 + lo with lo in [0, 2^32), each half read
/// from the mantissa of (half + 2^52 + 2^51).
@inline(__always) @usableFromInline
func wrappingBySplitting<D: SIMD, U: SIMD>(_ r: D) -> U where D.Scalar == Double, U.Scalar == UInt64 {
    let hi = (r * 0x1p-32).rounded(.down)
    let lo = r.addingProduct(hi, D(repeating: -0x1p32))
    let magic = D(repeating: 0x1.8p52)
    return (unsafeBitCast(hi + magic, to: U.self) &<< 32) | (unsafeBitCast(lo + magic, to: U.self) & U(repeating: 0xffff_ffff))
}
