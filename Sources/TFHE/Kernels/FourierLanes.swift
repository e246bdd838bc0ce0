/// The vector that the FFT's butterfly passes work on.
///
/// A radix-4 butterfly holds four complex points and two complex twiddles at once: twelve
/// vectors. AVX-512's 32 registers hold them on eight lanes. AVX2's 16 ymm registers have
/// four lanes each, so an eight-lane butterfly needs 24 of them and spills to the stack on
/// every pass (measured: a third of the forward transform's instructions were spills). So
/// there the passes run on four lanes, and the rows of eight points (the last three stages,
/// and the Fourier-domain sums) stay on eight.
@usableFromInline
protocol FourierLanes: SIMD where Scalar == Double {
    static func load(_ p: UnsafePointer<Double>) -> Self
    func store(to p: UnsafeMutablePointer<Double>)
    /// One-level gadget digits of `scalarCount` words as Doubles (`TorusScalar.topDigits`).
    static func topDigits<T: TorusScalar>(_ p: UnsafePointer<T>, offset: T, shift: Int) -> Self
    /// round(lane) mod q added to the words at p (`TorusScalar.addWrapping`).
    func addWrapping<T: TorusScalar>(to p: UnsafeMutablePointer<T>)
    /// self - a·b, rounded once (SIMDBuiltins.swift).
    func subtractingProduct(_ a: Self, _ b: Self) -> Self
}

#if ENGINE_AVX512
/// The passes' vector on this build (see `FourierLanes`).
@usableFromInline typealias PassLanes = SIMD8<Double>
#else
@usableFromInline typealias PassLanes = SIMD4<Double>
#endif

extension SIMD8: FourierLanes where Scalar == Double {
    @inline(__always) @usableFromInline
    static func load(_ p: UnsafePointer<Double>) -> Self { UnsafeRawPointer(p).loadUnaligned(as: Self.self) }
    @inline(__always) @usableFromInline
    func store(to p: UnsafeMutablePointer<Double>) { UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self) }
    @inline(__always) @usableFromInline
    static func topDigits<T: TorusScalar>(_ p: UnsafePointer<T>, offset: T, shift: Int) -> Self {
        T.topDigits(p, offset: offset, shift: shift)
    }
    @inline(__always) @usableFromInline
    func addWrapping<T: TorusScalar>(to p: UnsafeMutablePointer<T>) { T.addWrapping(self, to: p) }
}

extension SIMD4: FourierLanes where Scalar == Double {
    @inline(__always) @usableFromInline
    static func load(_ p: UnsafePointer<Double>) -> Self { UnsafeRawPointer(p).loadUnaligned(as: Self.self) }
    @inline(__always) @usableFromInline
    func store(to p: UnsafeMutablePointer<Double>) { UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self) }
    @inline(__always) @usableFromInline
    static func topDigits<T: TorusScalar>(_ p: UnsafePointer<T>, offset: T, shift: Int) -> Self {
        T.topDigits4(p, offset: offset, shift: shift)
    }
    @inline(__always) @usableFromInline
    func addWrapping<T: TorusScalar>(to p: UnsafeMutablePointer<T>) { T.addWrapping4(self, to: p) }
}

/// (ar + i·ai)(br + i·bi) lane by lane, with fused multiply-adds.
@inline(__always) @usableFromInline
func complexMultiply<V: FourierLanes>(_ ar: V, _ ai: V, _ br: V, _ bi: V) -> (V, V) {
    ((ar * br).subtractingProduct(ai, bi), (ar * bi).addingProduct(ai, br))
}

/// (ar + i·ai)·conj(br + i·bi) lane by lane, with fused multiply-adds.
@inline(__always) @usableFromInline
func complexMultiplyConjugate<V: FourierLanes>(_ ar: V, _ ai: V, _ br: V, _ bi: V) -> (V, V) {
    ((ar * br).addingProduct(ai, bi), (ai * br).subtractingProduct(ar, bi))
}
