import Builtin

// Lane permutations of SIMD8<Double> as single LLVM `shufflevector`s. Swift's element-wise
// SIMD initialisers leave the optimiser to rediscover the permutation, which it does badly
// inside a large kernel (scalar code and spills); the builtin states it directly. The masks
// must be literals, so each permutation is its own function.
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
