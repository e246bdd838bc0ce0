/// Why a serialized object was refused. Every malformed, truncated, oversized or corrupted
/// input ends in one of these, never in a trap or an allocation sized by the input's claims.
public enum SerializationError: Error, Equatable, CustomStringConvertible {
    /// Fewer bytes than the header, or than the header's payload length.
    case truncated(needed: UInt64, available: Int)
    /// More bytes than the header's payload length accounts for.
    case trailingBytes(count: Int)
    case badMagic
    case unsupportedVersion(UInt16)
    case unknownKind(UInt16)
    case unknownFlags(UInt16)
    /// A valid object of another kind (a server key where a ciphertext was expected).
    case unexpectedKind(expected: String, found: String)
    case wordSizeMismatch(expected: Int, found: Int)
    /// An object of another parameter set than the one it is read with.
    case parameterMismatch(expected: UInt64, found: UInt64)
    /// The SHA-256 of header and payload does not match: the bytes were corrupted.
    case checksumMismatch
    /// The payload's content contradicts the parameter set (a shape, a count, a key bit, a
    /// degree or a non-finite Fourier coefficient); the string names the field.
    case invalidPayload(String)

    public var description: String {
        switch self {
        case .truncated(let needed, let available): "truncated object: needs \(needed) bytes, has \(available)"
        case .trailingBytes(let count): "\(count) bytes after the end of the object"
        case .badMagic: "not a TFHE object (bad magic number)"
        case .unsupportedVersion(let v): "unsupported format version \(v)"
        case .unknownKind(let k): "unknown object kind \(k)"
        case .unknownFlags(let f): "unknown header flags 0x\(String(f, radix: 16))"
        case .unexpectedKind(let expected, let found): "expected a \(expected), found a \(found)"
        case .wordSizeMismatch(let expected, let found): "object uses a \(found)-bit torus, expected \(expected)"
        case .parameterMismatch(let expected, let found):
            "object of parameter set \(String(found, radix: 16)), expected \(String(expected, radix: 16))"
        case .checksumMismatch: "checksum mismatch: the object is corrupted"
        case .invalidPayload(let what): "invalid payload: \(what)"
        }
    }
}
