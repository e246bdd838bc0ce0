import TFHE

/// The type of one encrypted value a program reads or writes: a boolean or an unsigned
/// integer of 8 to 64 bits (TFHE-rs's FheBool, FheUint8..FheUint64).
public enum ValueKind: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    case bool
    case uint8 = "u8"
    case uint16 = "u16"
    case uint32 = "u32"
    case uint64 = "u64"

    /// Bits of plaintext: 1 for a boolean.
    public var bitWidth: Int {
        switch self {
        case .bool: 1
        case .uint8: 8
        case .uint16: 16
        case .uint32: 32
        case .uint64: 64
        }
    }

    public init?(bitWidth: Int) {
        guard let kind = Self.allCases.first(where: { $0.bitWidth == bitWidth }) else { return nil }
        self = kind
    }

    /// The object kind of one value of this type in the versioned format.
    public var objectKind: ObjectKind {
        switch self {
        case .bool: .fheBool
        case .uint8: .fheUint8
        case .uint16: .fheUint16
        case .uint32: .fheUint32
        case .uint64: .fheUint64
        }
    }

    /// Radix blocks of one value under a parameter set (nil if its message bits do not divide the width).
    public func blockCount(for parameters: ParameterSet) -> Int? { objectKind.blockCount(for: parameters) }

    /// The largest clear value of the type.
    public var maximum: UInt64 { self == .uint64 ? .max : (UInt64(1) << bitWidth) - 1 }

    public var description: String { rawValue }
}

/// A value's type and shape: one value, or a vector of `length` values.
public struct ValueShape: Sendable, Hashable, CustomStringConvertible {
    public var kind: ValueKind
    /// nil for a single value.
    public var length: Int?

    public init(_ kind: ValueKind, length: Int? = nil) { self.kind = kind; self.length = length }

    public static func scalar(_ kind: ValueKind) -> Self { Self(kind) }
    public static func vector(_ kind: ValueKind, length: Int) -> Self { Self(kind, length: length) }

    public var description: String { length.map { "\(kind)[\($0)]" } ?? kind.description }
}
