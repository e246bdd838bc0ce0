/// An element of the discretised torus T_q = (1/q)Z/Z with q = 2^bitWidth, stored as the
/// unsigned integer x·q. Addition and multiplication by integers wrap, which is exactly
/// arithmetic on the torus. The engine is generic over the word so that one code path
/// serves TFHE-rs's 64-bit shortint sets and its 32-bit boolean set.
public protocol TorusScalar: FixedWidthInteger, UnsignedInteger, Sendable, Hashable, Codable, BitwiseCopyable
where Magnitude == Self {
    associatedtype SignedScalar: FixedWidthInteger & SignedInteger & BitwiseCopyable

    /// The value read as a signed integer in [-q/2, q/2).
    var signedValue: SignedScalar { get }
    init(signedBitPattern value: SignedScalar)
    /// 2^bitWidth as a Double, and its inverse.
    static var modulusAsDouble: Double { get }
    static var inverseModulusAsDouble: Double { get }
    /// The signed value as a Double (exact for 32-bit words, rounded to 53 bits for 64).
    var signedDouble: Double { get }
    /// (signed value) >> shift, an arithmetic shift, as a Double.
    func signedShiftedDouble(by shift: Int) -> Double
    /// round(x) mod q for any x of magnitude below 2^116, without a branch or a checked
    /// conversion, so that loops over it vectorise (see `init(wrapping:)`).
    static func wrappingFromDouble(_ x: Double) -> Self
    /// The same for eight lanes at once, added (mod q) to the eight words at `pointer`.
    static func addWrapping(_ x: SIMD8<Double>, to pointer: UnsafeMutablePointer<Self>)
    /// Balanced digits of eight words (see `GadgetDecomposition`), level v of word j written to
    /// digits[v·stride + j]: the same rounding and carries as the scalar code, on SIMD lanes.
    static func decomposeEight(_ pointer: UnsafePointer<Self>, baseLog: Int, levels: Int,
                               into digits: UnsafeMutablePointer<Double>, stride: Int)
    /// Eight one-level gadget digits: the signed values of (x + offset) >> shift, as Doubles.
    static func topDigits(_ pointer: UnsafePointer<Self>, offset: Self, shift: Int) -> SIMD8<Double>
    /// `topDigits` and `addWrapping` on four lanes (the FFT's passes on AVX2, `FourierLanes`).
    static func topDigits4(_ pointer: UnsafePointer<Self>, offset: Self, shift: Int) -> SIMD4<Double>
    static func addWrapping4(_ x: SIMD4<Double>, to pointer: UnsafeMutablePointer<Self>)
}

extension UInt64: TorusScalar {
    public typealias SignedScalar = Int64
    @inlinable @inline(__always) public var signedValue: Int64 { Int64(bitPattern: self) }
    @inlinable @inline(__always) public init(signedBitPattern value: Int64) { self.init(bitPattern: value) }
    @inlinable public static var modulusAsDouble: Double { 0x1p64 }
    @inlinable public static var inverseModulusAsDouble: Double { 0x1p-64 }
    @inlinable @inline(__always) public var signedDouble: Double { Double(Int64(bitPattern: self)) }
    @inlinable @inline(__always) public func signedShiftedDouble(by shift: Int) -> Double {
        Double(Int64(bitPattern: self) &>> shift)
    }
    @inlinable @inline(__always) public static func wrappingFromDouble(_ x: Double) -> UInt64 {
        // Split round(x) = hi·2^32 + lo with lo in [0, 2^32); every step is exact (power-of-two
        // scaling, floor, and Sterbenz subtraction). Then hi mod 2^32 the same way, and each
        // 32-bit half is read from the mantissa of (half + 2^52).
        let r = x.rounded(.toNearestOrEven)
        let hi = (r * 0x1p-32).rounded(.down)
        let lo = r - hi * 0x1p32
        let hiMod = hi - (hi * 0x1p-32).rounded(.down) * 0x1p32
        let loBits = (lo + 0x1p52).bitPattern & 0xffff_ffff
        let hiBits = (hiMod + 0x1p52).bitPattern & 0xffff_ffff
        return hiBits &<< 32 | loBits
    }
    @inlinable @inline(__always)
    public static func decomposeEight(_ pointer: UnsafePointer<UInt64>, baseLog: Int, levels: Int,
                                      into digits: UnsafeMutablePointer<Double>, stride: Int) {
        let shift = UInt64.bitWidth - baseLog * levels
        let x = UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<UInt64>.self)
        let rounding: UInt64 = shift > 0 ? 1 &<< (shift - 1) : 0
        var rest = (x &+ SIMD8(repeating: rounding)) &>> SIMD8(repeating: UInt64(shift))
        let mask = SIMD8<UInt64>(repeating: (1 &<< UInt64(baseLog)) &- 1)
        let half = SIMD8<UInt64>(repeating: 1 &<< UInt64(baseLog - 1))
        let base = SIMD8<UInt64>(repeating: 1 &<< UInt64(baseLog))
        var carry = SIMD8<UInt64>(repeating: 0)
        // Digits below 2^51 in magnitude convert by the short path.
        let smallDigits = baseLog <= 51
        var level = levels - 1
        while level >= 0 {
            let raw = (rest & mask) &+ carry
            rest = rest &>> SIMD8(repeating: UInt64(baseLog))
            let borrow = raw .>= half
            carry = SIMD8<UInt64>(repeating: 0).replacing(with: 1, where: borrow)
            let digit = raw &- SIMD8<UInt64>(repeating: 0).replacing(with: base, where: borrow)
            UnsafeMutableRawPointer(digits + level * stride).storeBytes(
                of: smallDigits ? SIMD8<Double>(convertingSmall: unsafeBitCast(digit, to: SIMD8<Int64>.self))
                                : SIMD8<Double>(converting: unsafeBitCast(digit, to: SIMD8<Int64>.self)),
                as: SIMD8<Double>.self)
            level -= 1
        }
    }
    @inlinable @inline(__always)
    public static func topDigits(_ pointer: UnsafePointer<UInt64>, offset: UInt64, shift: Int) -> SIMD8<Double> {
        let x = UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<UInt64>.self) &+ SIMD8(repeating: offset)
        let digits = unsafeBitCast(x, to: SIMD8<Int64>.self) &>> SIMD8<Int64>(repeating: Int64(shift))
        // Digits of up to 51 bits (every published set's) convert by the short path.
        return shift >= 13 ? SIMD8<Double>(convertingSmall: digits) : SIMD8<Double>(converting: digits)
    }
    @inlinable @inline(__always)
    public static func addWrapping(_ x: SIMD8<Double>, to pointer: UnsafeMutablePointer<UInt64>) {
        // x stands for an integer modulo 2^64 and may be far larger (up to about 2^95 in a
        // product). x - round(x/2^64)·2^64 is exact (both are multiples of x's ulp once
        // |x| ≥ 2^53, and the result is at most 2^63), so it rounds and converts exactly;
        // +2^63 converts to 0x8000_0000_0000_0000, which is right modulo 2^64.
        let reduced = x.subtractingProduct((x * 0x1p-64).rounded(.toNearestOrEven), SIMD8(repeating: 0x1p64))
        let value = SIMD8<UInt64>(wrappingRounded: reduced)
        let raw = UnsafeMutableRawPointer(pointer)
        raw.storeBytes(of: raw.loadUnaligned(as: SIMD8<UInt64>.self) &+ value, as: SIMD8<UInt64>.self)
    }
    @inlinable @inline(__always)
    public static func topDigits4(_ pointer: UnsafePointer<UInt64>, offset: UInt64, shift: Int) -> SIMD4<Double> {
        let x = UnsafeRawPointer(pointer).loadUnaligned(as: SIMD4<UInt64>.self) &+ SIMD4(repeating: offset)
        let digits = unsafeBitCast(x, to: SIMD4<Int64>.self) &>> SIMD4<Int64>(repeating: Int64(shift))
        if shift >= 13 { return SIMD4<Double>(convertingSmall: digits) }
        return SIMD4(Double(digits[0]), Double(digits[1]), Double(digits[2]), Double(digits[3]))
    }
    @inlinable @inline(__always)
    public static func addWrapping4(_ x: SIMD4<Double>, to pointer: UnsafeMutablePointer<UInt64>) {
        let reduced = x.subtractingProduct((x * 0x1p-64).rounded(.toNearestOrEven), SIMD4(repeating: 0x1p64))
        let value = SIMD4<UInt64>(wrappingRounded: reduced)
        let raw = UnsafeMutableRawPointer(pointer)
        raw.storeBytes(of: raw.loadUnaligned(as: SIMD4<UInt64>.self) &+ value, as: SIMD4<UInt64>.self)
    }
}

extension UInt32: TorusScalar {
    public typealias SignedScalar = Int32
    @inlinable @inline(__always) public var signedValue: Int32 { Int32(bitPattern: self) }
    @inlinable @inline(__always) public init(signedBitPattern value: Int32) { self.init(bitPattern: value) }
    @inlinable public static var modulusAsDouble: Double { 0x1p32 }
    @inlinable public static var inverseModulusAsDouble: Double { 0x1p-32 }
    @inlinable @inline(__always) public var signedDouble: Double { Double(Int32(bitPattern: self)) }
    @inlinable @inline(__always) public func signedShiftedDouble(by shift: Int) -> Double {
        Double(Int32(bitPattern: self) &>> shift)
    }
    @inlinable @inline(__always) public static func wrappingFromDouble(_ x: Double) -> UInt32 {
        let r = x.rounded(.toNearestOrEven)
        let lo = r - (r * 0x1p-32).rounded(.down) * 0x1p32
        return UInt32(truncatingIfNeeded: (lo + 0x1p52).bitPattern)
    }
    @inlinable @inline(__always)
    public static func decomposeEight(_ pointer: UnsafePointer<UInt32>, baseLog: Int, levels: Int,
                                      into digits: UnsafeMutablePointer<Double>, stride: Int) {
        let shift = UInt32.bitWidth - baseLog * levels
        let x = UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<UInt32>.self)
        let rounding: UInt32 = shift > 0 ? 1 &<< (shift - 1) : 0
        var rest = (x &+ SIMD8(repeating: rounding)) &>> SIMD8(repeating: UInt32(shift))
        let mask = SIMD8<UInt32>(repeating: (1 &<< UInt32(baseLog)) &- 1)
        let half = SIMD8<UInt32>(repeating: 1 &<< UInt32(baseLog - 1))
        let base = SIMD8<UInt32>(repeating: 1 &<< UInt32(baseLog))
        var carry = SIMD8<UInt32>(repeating: 0)
        var level = levels - 1
        while level >= 0 {
            let raw = (rest & mask) &+ carry
            rest = rest &>> SIMD8(repeating: UInt32(baseLog))
            let borrow = raw .>= half
            carry = SIMD8<UInt32>(repeating: 0).replacing(with: 1, where: borrow)
            let digit = raw &- SIMD8<UInt32>(repeating: 0).replacing(with: base, where: borrow)
            UnsafeMutableRawPointer(digits + level * stride).storeBytes(
                of: SIMD8<Double>(converting: unsafeBitCast(digit, to: SIMD8<Int32>.self)), as: SIMD8<Double>.self)
            level -= 1
        }
    }
    @inlinable @inline(__always)
    public static func topDigits(_ pointer: UnsafePointer<UInt32>, offset: UInt32, shift: Int) -> SIMD8<Double> {
        let x = UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<UInt32>.self) &+ SIMD8(repeating: offset)
        let digits = unsafeBitCast(x, to: SIMD8<Int32>.self) &>> SIMD8<Int32>(repeating: Int32(shift))
        return SIMD8<Double>(converting: digits)
    }
    @inlinable @inline(__always)
    public static func addWrapping(_ x: SIMD8<Double>, to pointer: UnsafeMutablePointer<UInt32>) {
        // As for UInt64, modulo 2^32: the reduced value is exact and at most 2^31.
        let reduced = x.subtractingProduct((x * 0x1p-32).rounded(.toNearestOrEven), SIMD8(repeating: 0x1p32))
        let value = unsafeBitCast(SIMD8<Int32>(truncating: reduced.rounded(.toNearestOrEven)), to: SIMD8<UInt32>.self)
        let raw = UnsafeMutableRawPointer(pointer)
        raw.storeBytes(of: raw.loadUnaligned(as: SIMD8<UInt32>.self) &+ value, as: SIMD8<UInt32>.self)
    }
    @inlinable @inline(__always)
    public static func topDigits4(_ pointer: UnsafePointer<UInt32>, offset: UInt32, shift: Int) -> SIMD4<Double> {
        let x = UnsafeRawPointer(pointer).loadUnaligned(as: SIMD4<UInt32>.self) &+ SIMD4(repeating: offset)
        let digits = unsafeBitCast(x, to: SIMD4<Int32>.self) &>> SIMD4<Int32>(repeating: Int32(shift))
        return SIMD4<Double>(converting: digits)
    }
    @inlinable @inline(__always)
    public static func addWrapping4(_ x: SIMD4<Double>, to pointer: UnsafeMutablePointer<UInt32>) {
        let reduced = x.subtractingProduct((x * 0x1p-32).rounded(.toNearestOrEven), SIMD4(repeating: 0x1p32))
        let value = unsafeBitCast(SIMD4<Int32>(truncating: reduced.rounded(.toNearestOrEven)), to: SIMD4<UInt32>.self)
        let raw = UnsafeMutableRawPointer(pointer)
        raw.storeBytes(of: raw.loadUnaligned(as: SIMD4<UInt32>.self) &+ value, as: SIMD4<UInt32>.self)
    }
}

extension TorusScalar {
    /// The torus element as a real number in [-1/2, 1/2).
    @inlinable @inline(__always)
    public var torusValue: Double { signedDouble * Self.inverseModulusAsDouble }

    /// Rounds a real torus value (any magnitude) to the nearest element of T_q.
    @inlinable @inline(__always)
    public init(torus value: Double) {
        self.init(wrapping: value * Self.modulusAsDouble)
    }

    /// round(x) mod q for |x| < 2^116: how an inverse FFT's output, which can reach 2^90 for
    /// 64-bit words, returns to the torus.
    @inlinable @inline(__always)
    public init(wrapping x: Double) { self = Self.wrappingFromDouble(x) }
}
