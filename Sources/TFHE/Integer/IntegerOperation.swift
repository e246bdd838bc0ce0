/// The radix operations by name, on a standard set of operands: what `fhe bench` times and
/// counts, and what the package-benchmark suite measures, so that both run the same calls.
public enum IntegerOperation: String, CaseIterable, Sendable {
    case add, sub, neg, mul
    case scalarAdd = "scalar-add", scalarMul = "scalar-mul"
    case eq, ne, gt, lt, ge
    case scalarGt = "scalar-gt"
    case min, max, select
    case and, or, xor, not
    case shl
    case shlClear = "shl-clear"
    case rotl, div, rem
    case scalarDiv = "scalar-div"
    case overflowingAdd = "overflowing-add"
    case castUp = "cast-up"

    /// Two values, a shift amount and a condition under one client key, and a clear constant,
    /// for one width.
    public struct Operands: Sendable {
        public let blockCount: Int
        public let a, b, amount: RadixCiphertext<UInt64>
        public let condition: ShortintCiphertext<UInt64>
        public let clear: UInt64

        /// Random operands of `width` bits (8, 16, 32 or 64): b is odd (a divisor), the
        /// constant at least 3 (neither 0, 1 nor a power of two that a shift would do).
        public init(client: ClientKey<UInt64>, width: Int, using rng: inout some RandomNumberGenerator) throws {
            guard [8, 16, 32, 64].contains(width) else { throw TFHEError.unsupported("width \(width) is not 8, 16, 32 or 64") }
            blockCount = width / 2
            let mask: UInt64 = width == 64 ? .max : (1 << UInt64(width)) - 1
            a = try client.encryptRadix(rng.next() & mask, blockCount: blockCount)
            b = try client.encryptRadix((rng.next() & mask) | 1, blockCount: blockCount)
            amount = try client.encryptRadix(rng.next() & mask, blockCount: blockCount)
            var randomness = EncryptionRandomness()
            condition = try client.encryptBooleanBlock(true, randomness: &randomness)
            clear = (rng.next() & mask) | 3
        }
    }

    /// Runs the operation once through `key` (a real key, or a metadata-only one that counts).
    public func run(_ key: IntegerServerKey<UInt64>, _ x: Operands) throws {
        let (a, b) = (x.a, x.b)
        switch self {
        case .add: _ = try key.add(a, b)
        case .sub: _ = try key.sub(a, b)
        case .neg: _ = try key.neg(a)
        case .mul: _ = try key.mul(a, b)
        case .scalarAdd: _ = try key.scalarAdd(a, x.clear)
        case .scalarMul: _ = try key.scalarMul(a, x.clear)
        case .eq: _ = try key.eq(a, b)
        case .ne: _ = try key.ne(a, b)
        case .gt: _ = try key.gt(a, b)
        case .lt: _ = try key.lt(a, b)
        case .ge: _ = try key.ge(a, b)
        case .scalarGt: _ = try key.scalarGt(a, x.clear)
        case .min: _ = try key.min(a, b)
        case .max: _ = try key.max(a, b)
        case .select: _ = try key.select(x.condition, a, b)
        case .and: _ = try key.bitAnd(a, b)
        case .or: _ = try key.bitOr(a, b)
        case .xor: _ = try key.bitXor(a, b)
        case .not: _ = try key.bitNot(a)
        case .shl: _ = try key.shiftLeft(a, by: x.amount)
        case .shlClear: _ = try key.shiftLeft(a, by: 3)
        case .rotl: _ = try key.rotateLeft(a, by: x.amount)
        case .div: _ = try key.div(a, b)
        case .rem: _ = try key.rem(a, b)
        case .scalarDiv: _ = try key.scalarDiv(a, x.clear)
        case .overflowingAdd: _ = try key.overflowingAdd(a, b)
        case .castUp: _ = try key.cast(a, toBlockCount: x.blockCount * 2)
        }
    }
}
