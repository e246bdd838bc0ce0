import Foundation

// Radix integers and booleans in the versioned format: a block list of their object kind
// (FheBool, FheUint8 ... FheUint64), blocks least significant first, each with its degree.
//
// The format carries no noise level, so a read ciphertext is given the encoding's maximum:
// its first operation cleans it with a bootstrap rather than trusting a claim about noise
// that the file could not prove.

extension FheUint {
    static var objectKind: ObjectKind {
        switch Clear.bitWidth {
        case 8: .fheUint8
        case 16: .fheUint16
        case 32: .fheUint32
        default: .fheUint64
        }
    }

    public func serialized() throws -> Data {
        try BlockCiphertextList(blocks: radix.blocks.map(\.lwe), degrees: radix.blocks.map(\.degree)).serialized(kind: Self.objectKind)
    }

    /// Reads an integer of this width made under `key`'s parameter set; another kind, width
    /// or parameter set, and any malformed input, is a typed error.
    public init(serialized data: Data, key: IntegerServerKey<UInt64>) throws {
        guard [8, 16, 32, 64].contains(Clear.bitWidth) else { throw TFHEError.unsupported("\(Clear.bitWidth)-bit integers") }
        let (kind, list) = try BlockCiphertextList<UInt64>.deserialize(data, parameters: key.parameters)
        guard kind == Self.objectKind else {
            throw SerializationError.unexpectedKind(expected: "\(Self.objectKind)", found: "\(kind)")
        }
        let blocks = zip(list.blocks, list.degrees).map {
            ShortintCiphertext(lwe: $0, degree: $1, noiseLevel: key.encoding.maxNoiseLevel)
        }
        try self.init(radix: RadixCiphertext(blocks: blocks), key: key)
    }
}

extension FheBool {
    public func serialized() throws -> Data {
        try BlockCiphertextList(blocks: [block.lwe], degrees: [block.degree]).serialized(kind: .fheBool)
    }

    public init(serialized data: Data, key: IntegerServerKey<UInt64>) throws {
        let (kind, list) = try BlockCiphertextList<UInt64>.deserialize(data, parameters: key.parameters)
        guard kind == .fheBool, list.blocks.count == 1 else {
            throw SerializationError.unexpectedKind(expected: "\(ObjectKind.fheBool)", found: "\(kind)")
        }
        try self.init(block: ShortintCiphertext(lwe: list.blocks[0], degree: list.degrees[0], noiseLevel: key.encoding.maxNoiseLevel))
    }
}
