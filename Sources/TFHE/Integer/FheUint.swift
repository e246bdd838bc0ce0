/// An encrypted unsigned integer of `Clear.bitWidth` bits, with the semantics of Swift's
/// wrapping arithmetic on `Clear` (`&+`, `&-`, `&*`; shifts and rotations by the amount
/// modulo the width; division by zero gives `Clear.max` and remainder the numerator, as in
/// TFHE-rs). `FheUint8` ... `FheUint64` are this type over `UInt8` ... `UInt64`.
///
/// Operators evaluate with the key of the enclosing `FheContext.with(key) { ... }` and throw
/// a `TFHEError` outside one or on operands of another parameter set:
///
///     let sum = try FheContext.with(serverKey) { try a + b * c }
public struct FheUint<Clear: FixedWidthInteger & UnsignedInteger & Sendable>: Sendable, Hashable {
    public var radix: RadixCiphertext<UInt64>

    /// From blocks (for deserialization): the block count must match the width under `key`'s
    /// parameter set, and every block must be within the encoding's limits.
    public init(radix: RadixCiphertext<UInt64>, key: IntegerServerKey<UInt64>) throws {
        try key.check(radix)
        guard radix.blockCount == Self.blockCount(key) else {
            throw TFHEError.unsupported("\(Clear.bitWidth)-bit integer needs \(Self.blockCount(key)) blocks, got \(radix.blockCount)")
        }
        self.radix = radix
    }

    init(unchecked radix: RadixCiphertext<UInt64>) { self.radix = radix }

    static func blockCount(_ key: IntegerServerKey<UInt64>) -> Int { Clear.bitWidth / key.bitsPerBlock }

    public init(encrypting value: Clear, with key: ClientKey<UInt64>) throws {
        let bits = key.shortintEncoding.messageModulus.trailingZeroBitCount
        radix = try key.encryptRadix(UInt64(value), blockCount: Clear.bitWidth / bits)
    }

    public func decrypt(with key: ClientKey<UInt64>) throws -> Clear {
        Clear(truncatingIfNeeded: try key.decryptRadix(radix))
    }

    /// The key of the current context, after checking that both operands have this width.
    private static func key(_ operands: FheUint...) throws -> IntegerServerKey<UInt64> {
        let key = try FheContext.current()
        for operand in operands where operand.radix.blockCount != blockCount(key) {
            throw TFHEError.unsupported("\(Clear.bitWidth)-bit integer needs \(blockCount(key)) blocks, got \(operand.radix.blockCount)")
        }
        return key
    }

    private static func wrap(_ radix: RadixCiphertext<UInt64>) -> FheUint { FheUint(unchecked: radix) }

    // MARK: Arithmetic (wrapping)

    public static func + (l: FheUint, r: FheUint) throws -> FheUint { wrap(try key(l, r).add(l.radix, r.radix)) }
    public static func - (l: FheUint, r: FheUint) throws -> FheUint { wrap(try key(l, r).sub(l.radix, r.radix)) }
    public static func * (l: FheUint, r: FheUint) throws -> FheUint { wrap(try key(l, r).mul(l.radix, r.radix)) }
    public static func / (l: FheUint, r: FheUint) throws -> FheUint { wrap(try key(l, r).div(l.radix, r.radix)) }
    public static func % (l: FheUint, r: FheUint) throws -> FheUint { wrap(try key(l, r).rem(l.radix, r.radix)) }
    public static prefix func - (v: FheUint) throws -> FheUint { wrap(try key(v).neg(v.radix)) }

    public static func + (l: FheUint, r: Clear) throws -> FheUint { wrap(try key(l).scalarAdd(l.radix, UInt64(r))) }
    public static func - (l: FheUint, r: Clear) throws -> FheUint { wrap(try key(l).scalarSub(l.radix, UInt64(r))) }
    public static func - (l: Clear, r: FheUint) throws -> FheUint { wrap(try key(r).scalarSub(UInt64(l), r.radix)) }
    public static func * (l: FheUint, r: Clear) throws -> FheUint { wrap(try key(l).scalarMul(l.radix, UInt64(r))) }
    public static func / (l: FheUint, r: Clear) throws -> FheUint { wrap(try key(l).scalarDiv(l.radix, UInt64(r))) }
    public static func % (l: FheUint, r: Clear) throws -> FheUint { wrap(try key(l).scalarRem(l.radix, UInt64(r))) }

    /// `+`, `-` and `*` already wrap; these spellings say so where Swift code expects them.
    public static func &+ (l: FheUint, r: FheUint) throws -> FheUint { try l + r }
    public static func &- (l: FheUint, r: FheUint) throws -> FheUint { try l - r }
    public static func &* (l: FheUint, r: FheUint) throws -> FheUint { try l * r }

    /// Quotient and remainder in one division.
    public func quotientAndRemainder(dividingBy d: FheUint) throws -> (quotient: FheUint, remainder: FheUint) {
        let (q, r) = try Self.key(self, d).divRem(radix, d.radix)
        return (Self.wrap(q), Self.wrap(r))
    }

    public func quotientAndRemainder(dividingBy d: Clear) throws -> (quotient: FheUint, remainder: FheUint) {
        let (q, r) = try Self.key(self).scalarDivRem(radix, UInt64(d))
        return (Self.wrap(q), Self.wrap(r))
    }

    /// self + other and whether it wrapped (Swift's `addingReportingOverflow`).
    public func overflowingAdd(_ other: FheUint) throws -> (partialValue: FheUint, overflow: FheBool) {
        let (sum, flag) = try Self.key(self, other).overflowingAdd(radix, other.radix)
        return (Self.wrap(sum), FheBool(unchecked: flag))
    }

    /// self - other and whether it wrapped (self < other).
    public func overflowingSub(_ other: FheUint) throws -> (partialValue: FheUint, overflow: FheBool) {
        let (difference, flag) = try Self.key(self, other).overflowingSub(radix, other.radix)
        return (Self.wrap(difference), FheBool(unchecked: flag))
    }

    // MARK: Bitwise

    public static func & (l: FheUint, r: FheUint) throws -> FheUint { wrap(try key(l, r).bitAnd(l.radix, r.radix)) }
    public static func | (l: FheUint, r: FheUint) throws -> FheUint { wrap(try key(l, r).bitOr(l.radix, r.radix)) }
    public static func ^ (l: FheUint, r: FheUint) throws -> FheUint { wrap(try key(l, r).bitXor(l.radix, r.radix)) }
    public static func & (l: FheUint, r: Clear) throws -> FheUint { wrap(try key(l).scalarBitAnd(l.radix, UInt64(r))) }
    public static func | (l: FheUint, r: Clear) throws -> FheUint { wrap(try key(l).scalarBitOr(l.radix, UInt64(r))) }
    public static func ^ (l: FheUint, r: Clear) throws -> FheUint { wrap(try key(l).scalarBitXor(l.radix, UInt64(r))) }
    public static prefix func ~ (v: FheUint) throws -> FheUint { wrap(try key(v).bitNot(v.radix)) }

    // MARK: Shifts and rotations (amount modulo the bit width)

    public static func << (l: FheUint, r: Clear) throws -> FheUint { wrap(try key(l).shiftLeft(l.radix, by: UInt64(r))) }
    public static func >> (l: FheUint, r: Clear) throws -> FheUint { wrap(try key(l).shiftRight(l.radix, by: UInt64(r))) }
    public static func << (l: FheUint, r: FheUint) throws -> FheUint { wrap(try key(l, r).shiftLeft(l.radix, by: r.radix)) }
    public static func >> (l: FheUint, r: FheUint) throws -> FheUint { wrap(try key(l, r).shiftRight(l.radix, by: r.radix)) }
    /// Swift's masking shifts, the same operations (`<<` and `>>` already take the amount
    /// modulo the width).
    public static func &<< (l: FheUint, r: Clear) throws -> FheUint { try l << r }
    public static func &>> (l: FheUint, r: Clear) throws -> FheUint { try l >> r }
    public func rotatedLeft(by amount: Clear) throws -> FheUint { Self.wrap(try Self.key(self).rotateLeft(radix, by: UInt64(amount))) }
    public func rotatedRight(by amount: Clear) throws -> FheUint { Self.wrap(try Self.key(self).rotateRight(radix, by: UInt64(amount))) }
    public func rotatedLeft(by amount: FheUint) throws -> FheUint { Self.wrap(try Self.key(self, amount).rotateLeft(radix, by: amount.radix)) }
    public func rotatedRight(by amount: FheUint) throws -> FheUint { Self.wrap(try Self.key(self, amount).rotateRight(radix, by: amount.radix)) }

    // MARK: Comparisons, min, max

    public func eq(_ o: FheUint) throws -> FheBool { FheBool(unchecked: try Self.key(self, o).eq(radix, o.radix)) }
    public func ne(_ o: FheUint) throws -> FheBool { FheBool(unchecked: try Self.key(self, o).ne(radix, o.radix)) }
    public func lt(_ o: FheUint) throws -> FheBool { FheBool(unchecked: try Self.key(self, o).lt(radix, o.radix)) }
    public func le(_ o: FheUint) throws -> FheBool { FheBool(unchecked: try Self.key(self, o).le(radix, o.radix)) }
    public func gt(_ o: FheUint) throws -> FheBool { FheBool(unchecked: try Self.key(self, o).gt(radix, o.radix)) }
    public func ge(_ o: FheUint) throws -> FheBool { FheBool(unchecked: try Self.key(self, o).ge(radix, o.radix)) }
    public func eq(_ v: Clear) throws -> FheBool { FheBool(unchecked: try Self.key(self).scalarEq(radix, UInt64(v))) }
    public func ne(_ v: Clear) throws -> FheBool { FheBool(unchecked: try Self.key(self).scalarNe(radix, UInt64(v))) }
    public func lt(_ v: Clear) throws -> FheBool { FheBool(unchecked: try Self.key(self).scalarLt(radix, UInt64(v))) }
    public func le(_ v: Clear) throws -> FheBool { FheBool(unchecked: try Self.key(self).scalarLe(radix, UInt64(v))) }
    public func gt(_ v: Clear) throws -> FheBool { FheBool(unchecked: try Self.key(self).scalarGt(radix, UInt64(v))) }
    public func ge(_ v: Clear) throws -> FheBool { FheBool(unchecked: try Self.key(self).scalarGe(radix, UInt64(v))) }

    public func min(_ o: FheUint) throws -> FheUint { Self.wrap(try Self.key(self, o).min(radix, o.radix)) }
    public func max(_ o: FheUint) throws -> FheUint { Self.wrap(try Self.key(self, o).max(radix, o.radix)) }

    /// condition ? a : b.
    public static func select(_ condition: FheBool, _ a: FheUint, _ b: FheUint) throws -> FheUint {
        wrap(try key(a, b).select(condition.block, a.radix, b.radix))
    }

    // MARK: Casts

    /// The value as another width, truncating or zero-extending (Swift's `init(truncatingIfNeeded:)`).
    public func cast<Other: FixedWidthInteger & UnsignedInteger & Sendable>(to _: Other.Type = Other.self) throws -> FheUint<Other> {
        let key = try Self.key(self)
        return FheUint<Other>(unchecked: try key.cast(radix, toBlockCount: FheUint<Other>.blockCount(key)))
    }

    /// self != 0.
    public func isNonZero() throws -> FheBool { FheBool(unchecked: try Self.key(self).isNonZero(radix)) }
}

public typealias FheUint8 = FheUint<UInt8>
public typealias FheUint16 = FheUint<UInt16>
public typealias FheUint32 = FheUint<UInt32>
public typealias FheUint64 = FheUint<UInt64>
