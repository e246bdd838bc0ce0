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
    /// The word whose signed value is r, for an integral r in [-q/2, q/2). Each word type
    /// implements it with its own conversion instruction (a generic conversion is far slower).
    static func fromSignedIntegral(_ r: Double) -> Self
    /// The signed value as a Double (exact for 32-bit words, rounded to 53 bits for 64).
    var signedDouble: Double { get }
}

extension UInt64: TorusScalar {
    public typealias SignedScalar = Int64
    @inlinable @inline(__always) public var signedValue: Int64 { Int64(bitPattern: self) }
    @inlinable @inline(__always) public init(signedBitPattern value: Int64) { self.init(bitPattern: value) }
    @inlinable public static var modulusAsDouble: Double { 0x1p64 }
    @inlinable public static var inverseModulusAsDouble: Double { 0x1p-64 }
    @inlinable @inline(__always) public static func fromSignedIntegral(_ r: Double) -> UInt64 {
        UInt64(bitPattern: Int64(r))
    }
    @inlinable @inline(__always) public var signedDouble: Double { Double(Int64(bitPattern: self)) }
}

extension UInt32: TorusScalar {
    public typealias SignedScalar = Int32
    @inlinable @inline(__always) public var signedValue: Int32 { Int32(bitPattern: self) }
    @inlinable @inline(__always) public init(signedBitPattern value: Int32) { self.init(bitPattern: value) }
    @inlinable public static var modulusAsDouble: Double { 0x1p32 }
    @inlinable public static var inverseModulusAsDouble: Double { 0x1p-32 }
    @inlinable @inline(__always) public static func fromSignedIntegral(_ r: Double) -> UInt32 {
        UInt32(bitPattern: Int32(r))
    }
    @inlinable @inline(__always) public var signedDouble: Double { Double(Int32(bitPattern: self)) }
}

extension TorusScalar {
    /// The torus element as a real number in [-1/2, 1/2).
    @inlinable @inline(__always)
    public var torusValue: Double { signedDouble * Self.inverseModulusAsDouble }

    /// Rounds a real torus value (any magnitude) to the nearest element of T_q.
    @inlinable @inline(__always)
    public init(torus value: Double) {
        self.init(wrappingRounding: value * Self.modulusAsDouble)
    }

    /// Reduces a Double of any magnitude (< 2^117) modulo q after rounding it to an integer.
    /// The subtraction of the nearest multiple of q is exact: both operands are multiples of
    /// the ulp of the larger one, and the difference fits in 53 bits of that ulp. This is how
    /// an inverse FFT's output, which can reach 2^90 for 64-bit words, returns to the torus.
    @inlinable @inline(__always)
    public init(wrappingRounding value: Double) {
        var r = value.rounded(.toNearestOrEven)
        r -= (r * Self.inverseModulusAsDouble).rounded(.toNearestOrEven) * Self.modulusAsDouble
        // r is now in [-q/2, q/2]; fold the single value q/2 into the signed range.
        if r >= Self.modulusAsDouble * 0.5 { r -= Self.modulusAsDouble }
        self = Self.fromSignedIntegral(r)
    }
}
