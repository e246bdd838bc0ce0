/// Errors of the engine's public API. A mistake of the caller is a thrown error, never a trap.
public enum TFHEError: Error, Equatable, CustomStringConvertible {
    /// An object made under one parameter set was used with keys of another.
    case parameterMismatch(expected: String, found: String)
    /// A ciphertext whose LWE dimension is not the one the operation takes.
    case dimensionMismatch(expected: Int, found: Int)
    /// A clear message outside the message space.
    case messageOutOfRange(value: UInt64, modulus: UInt64)
    /// A lookup table that does not have one entry per message.
    case lookupTableSize(expected: Int, found: Int)
    /// A KS32 operation (a small LWE on 2^32) asked of a set whose key switch keeps the torus word.
    case notKeySwitch32(parameterSet: String)
    /// An operation that needs other parameters (for example boolean gates on a shortint set).
    case unsupported(String)

    public var description: String {
        switch self {
        case .parameterMismatch(let expected, let found):
            "object of parameter set \(found) used with keys of parameter set \(expected)"
        case .dimensionMismatch(let expected, let found):
            "ciphertext of LWE dimension \(found) where \(expected) is expected"
        case .messageOutOfRange(let value, let modulus): "message \(value) is outside 0..<\(modulus)"
        case .lookupTableSize(let expected, let found): "lookup table has \(found) entries, expected \(expected)"
        case .notKeySwitch32(let set): "parameter set \(set) does not key-switch to 32 bits (no ks.output_modulus_bits 32)"
        case .unsupported(let what): what
        }
    }
}
