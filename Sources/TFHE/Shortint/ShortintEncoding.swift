/// The shortint plaintext space of a parameter set: messageModulus · carryModulus values plus
/// one padding bit, and the limits that the evaluator enforces on every ciphertext.
public struct ShortintEncoding: Sendable, Hashable {
    public let messageModulus: UInt64
    public let carryModulus: UInt64
    /// The largest noise level a bootstrap input may have: the parameter set's
    /// `max_noise_level` (TFHE-rs's `MaxNoiseLevel`, 5 for its MESSAGE_2_CARRY_2 sets, 3 for
    /// MESSAGE_1_CARRY_1). Its p-fail holds for inputs up to that level, the worst case being
    /// one bootstrap output times the level (packing two blocks as `a · 4 + b` has level 5).
    public let maxNoiseLevel: UInt64

    public init(parameters: ParameterSet) {
        messageModulus = UInt64(1) << parameters.messageBits
        carryModulus = UInt64(1) << parameters.carryBits
        maxNoiseLevel = UInt64(parameters.maxNoiseLevel)
    }

    /// All plaintext values: message and carry.
    public var plaintextModulus: UInt64 { messageModulus * carryModulus }
    /// Values below this bound can go through a many-LUT table of `functionCount` functions
    /// (`ServerKey.lookupTable(functions:)`: each function takes plaintextModulus / f boxes).
    public func manyLookupInputBound(functionCount: Int) -> UInt64 { plaintextModulus / UInt64(max(1, functionCount)) }
    /// The largest value a block may hold before it spills into the padding bit.
    public var maxDegree: UInt64 { plaintextModulus - 1 }

    /// Δ = q / (2 · plaintextModulus).
    func delta<T: TorusScalar>(_: T.Type) -> T {
        T(1) << (T.bitWidth - 1 - plaintextModulus.trailingZeroBitCount)
    }

    /// Metadata read from outside (deserialization) must be within the encoding's limits.
    public func validate<T>(_ block: ShortintCiphertext<T>) throws {
        guard block.degree <= maxDegree else {
            throw TFHEError.unsupported("shortint degree \(block.degree) exceeds \(maxDegree)")
        }
        guard block.noiseLevel <= maxNoiseLevel else {
            throw TFHEError.unsupported("shortint noise level \(block.noiseLevel) exceeds \(maxNoiseLevel)")
        }
    }
}
