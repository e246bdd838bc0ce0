/// An encrypted boolean: one block holding 0 or 1 (TFHE-rs's `FheBool` over a `BooleanBlock`).
/// The result of every comparison; the condition of `select`.
public struct FheBool: Sendable, Hashable {
    public var block: ShortintCiphertext<UInt64>

    /// From a block decrypting to 0 or 1 (its degree must be at most 1).
    public init(block: ShortintCiphertext<UInt64>) throws {
        guard block.degree <= 1 else { throw TFHEError.unsupported("an FheBool block has degree \(block.degree), not at most 1") }
        self.block = block
    }

    init(unchecked block: ShortintCiphertext<UInt64>) { self.block = block }

    public init(encrypting value: Bool, with key: ClientKey<UInt64>) throws {
        var randomness = EncryptionRandomness()
        block = try key.encryptBooleanBlock(value, randomness: &randomness)
    }

    public func decrypt(with key: ClientKey<UInt64>) throws -> Bool { try key.decryptBooleanBlock(block) }

    public static func & (lhs: FheBool, rhs: FheBool) throws -> FheBool {
        FheBool(unchecked: try FheContext.current().and(lhs.block, rhs.block))
    }
    public static func | (lhs: FheBool, rhs: FheBool) throws -> FheBool {
        FheBool(unchecked: try FheContext.current().or(lhs.block, rhs.block))
    }
    public static func ^ (lhs: FheBool, rhs: FheBool) throws -> FheBool {
        FheBool(unchecked: try FheContext.current().xor(lhs.block, rhs.block))
    }
    public static prefix func ! (value: FheBool) throws -> FheBool {
        FheBool(unchecked: try FheContext.current().not(value.block))
    }

    /// self ? a : b.
    public func select<Clear: FixedWidthInteger & UnsignedInteger & Sendable>(_ a: FheUint<Clear>, _ b: FheUint<Clear>) throws -> FheUint<Clear> {
        try FheUint(unchecked: FheContext.current().select(block, a.radix, b.radix))
    }

    /// 1 or 0 as an integer.
    public func toInteger<Clear: FixedWidthInteger & UnsignedInteger & Sendable>(_: Clear.Type = Clear.self) throws -> FheUint<Clear> {
        let key = try FheContext.current()
        return FheUint(unchecked: try key.integer(from: block, blockCount: FheUint<Clear>.blockCount(key)))
    }
}
