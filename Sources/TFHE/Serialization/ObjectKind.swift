/// What a serialized object is. The raw values are part of the format: never reuse one.
public enum ObjectKind: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    case clientKey = 1
    /// Bootstrapping key and key-switching key.
    case serverKey = 2
    case publicKey = 3
    /// One LWE ciphertext (a shortint block).
    case lweCiphertext = 16
    /// A list of LWE blocks, each with its degree.
    case blockList = 17
    /// Blocks encrypted together with the public key (`CompactCiphertextList`); it names the
    /// block-list kind it expands to.
    case compactList = 18
    /// The high-level types: block lists with a fixed block count (see `blockCount(for:)`).
    case fheBool = 32
    case fheUint8 = 33
    case fheUint16 = 34
    case fheUint32 = 35
    case fheUint64 = 36
    /// Several named values (scalars and vectors of one radix kind each) made under one key
    /// set, each entry's blocks as nested block-list or compact-list objects: the files of
    /// programs' inputs and outputs (the format is FHEPrograms' EncryptedValues+Serialization).
    case namedValues = 48

    public var description: String {
        switch self {
        case .clientKey: "client key"
        case .serverKey: "server key"
        case .publicKey: "public key"
        case .lweCiphertext: "LWE ciphertext"
        case .blockList: "block list"
        case .compactList: "compact public-key list"
        case .fheBool: "FheBool"
        case .fheUint8: "FheUint8"
        case .fheUint16: "FheUint16"
        case .fheUint32: "FheUint32"
        case .fheUint64: "FheUint64"
        case .namedValues: "named encrypted values"
        }
    }

    /// Whether the kind has a seeded (compressed) form. A client key is secret and a compact
    /// list is already compact (its masks are A·R, not a stream's output).
    /// Named values hold nested objects, each in its own form.
    public var hasCompressedForm: Bool { self != .clientKey && self != .compactList && self != .namedValues }

    /// Whether the payload has the block-list layout: the free list and the radix kinds.
    public var isBlockList: Bool { self == .blockList || plaintextBits != nil }

    /// Bits of plaintext of the radix kinds, nil for the others.
    public var plaintextBits: Int? {
        switch self {
        case .fheBool: 1
        case .fheUint8: 8
        case .fheUint16: 16
        case .fheUint32: 32
        case .fheUint64: 64
        default: nil
        }
    }

    /// Blocks of a radix kind under a parameter set (one block of message bits each; one
    /// block for FheBool), nil if the set's message bits do not divide the width, and nil for
    /// the free-length block list.
    public func blockCount(for parameters: ParameterSet) -> Int? {
        guard let bits = plaintextBits else { return nil }
        if self == .fheBool { return 1 }
        guard bits % parameters.messageBits == 0 else { return nil }
        return bits / parameters.messageBits
    }
}
