import Foundation

/// Payloads of the block-list kinds (`blockList` and the radix kinds FheBool, FheUint8..64):
///     full:   u32 block count | u32 dimension | count × u64 degree | count × (dimension + 1) words
///     seeded: u32 block count | u32 dimension | 16-byte mask seed | count × u64 degree | count body words
/// A radix kind fixes the block count (`ObjectKind.blockCount(for:)`); a free list has at most
/// `maximumBlockCount`. Every degree must be below the plaintext modulus 2^(message + carry).
public enum BlockListFormat {
    /// Enough for a 4096-bit integer of one-bit blocks.
    public static let maximumBlockCount = 4096

    static func checkedCount(_ count: Int, kind: ObjectKind, parameters: ParameterSet) throws {
        if kind == .blockList {
            guard count <= maximumBlockCount else {
                throw SerializationError.invalidPayload("block count \(count) above \(maximumBlockCount)")
            }
        } else if let expected = kind.blockCount(for: parameters) {
            guard count == expected else {
                throw SerializationError.invalidPayload("block count \(count), a \(kind) has \(expected) under \(parameters.name)")
            }
        } else {
            throw SerializationError.invalidPayload("\(kind) cannot be built from blocks of \(parameters.messageBits) message bits")
        }
    }

    static func readDegrees(_ reader: inout ByteReader, count: Int, parameters: ParameterSet) throws -> [UInt64] {
        let degrees = try reader.readWords(UInt64.self, count: count, "degrees")
        let modulus = UInt64(1) << (parameters.messageBits + parameters.carryBits)
        for d in degrees where d >= modulus {
            throw SerializationError.invalidPayload("degree \(d) outside the plaintext space 0..<\(modulus)")
        }
        return degrees
    }

    static func kindCheck(_ kind: ObjectKind) throws {
        guard kind.isBlockList else { throw TFHEError.unsupported("\(kind) is not a block-list kind") }
    }
}

extension BlockCiphertextList {
    /// Serializes as `kind` (the free `blockList`, or a radix kind whose block count it has).
    /// Throws for a kind that is not a block list, or an empty list (whose parameter set is unknown).
    public func serialized(kind: ObjectKind = .blockList) throws -> Data {
        try BlockListFormat.kindCheck(kind)
        guard let first = blocks.first else { throw TFHEError.unsupported("an empty block list has no parameter set to serialize") }
        let dimension = first.dimension, fingerprint = first.parameterFingerprint
        var writer = ByteWriter(reservingCapacity: 8 + blocks.count * (8 + (dimension + 1) * MemoryLayout<T>.size))
        writer.append(UInt32(blocks.count))
        writer.append(UInt32(dimension))
        writer.append(words: degrees)
        for block in blocks { writer.append(words: block.data) }
        return ObjectHeader.seal(kind: kind, compressed: false, wordBits: T.bitWidth, parameterFingerprint: fingerprint,
                                 payload: writer.bytes)
    }

    /// Reads a block list of any block-list kind in either form, or a compact public-key list
    /// (expanded); returns the kind with it.
    public static func deserialize(_ data: Data, parameters: ParameterSet) throws -> (kind: ObjectKind, list: Self) {
        let kinds = Set(ObjectKind.allCases.filter(\.isBlockList)).union([.compactList])
        return try ObjectHeader.open(data, kinds: kinds, wordType: T.self, parameters: parameters) { reader, header in
            if header.kind == .compactList {
                let (kind, compact) = try CompactCiphertextList<T>.readPayload(&reader, parameters: parameters)
                return (kind, compact.expand())
            }
            let count = Int(try reader.read(UInt32.self, "block count"))
            try BlockListFormat.checkedCount(count, kind: header.kind, parameters: parameters)
            let dimension = parameters.ciphertextDimension
            try reader.expect(UInt32.self, dimension, "dimension")
            if header.compressed {
                let seed = try reader.readSeed("mask seed")
                let degrees = try BlockListFormat.readDegrees(&reader, count: count, parameters: parameters)
                let bodies = try reader.readWords(T.self, count: count, "bodies")
                let seeded = try SeededBlockCiphertextList(maskSeed: seed, bodies: bodies, degrees: degrees, dimension: dimension,
                                                       parameterFingerprint: parameters.fingerprint)
                return (header.kind, seeded.decompress())
            }
            let degrees = try BlockListFormat.readDegrees(&reader, count: count, parameters: parameters)
            // Checked against what is left before any block is allocated.
            let (words, overflow) = count.multipliedReportingOverflow(by: dimension + 1)
            guard !overflow, words * MemoryLayout<T>.size == reader.remaining else {
                throw SerializationError.invalidPayload("\(reader.remaining) bytes for \(count) blocks of dimension \(dimension)")
            }
            var blocks: [LWECiphertext<T>] = []
            blocks.reserveCapacity(count)
            for _ in 0..<count {
                blocks.append(LWECiphertext(data: try reader.readWords(T.self, count: dimension + 1, "block"),
                                            parameterFingerprint: parameters.fingerprint))
            }
            return (header.kind, BlockCiphertextList(checkedBlocks: blocks, degrees: degrees))
        }
    }

    /// Reads a block list that must be of `kind`.
    public init(serialized data: Data, parameters: ParameterSet, kind: ObjectKind = .blockList) throws {
        let (found, list) = try Self.deserialize(data, parameters: parameters)
        guard found == kind else { throw SerializationError.unexpectedKind(expected: kind.description, found: found.description) }
        self = list
    }
}

extension SeededBlockCiphertextList {
    public func serialized(kind: ObjectKind = .blockList) throws -> Data {
        try BlockListFormat.kindCheck(kind)
        var writer = ByteWriter(reservingCapacity: 24 + bodies.count * (8 + MemoryLayout<T>.size))
        writer.append(UInt32(bodies.count))
        writer.append(UInt32(dimension))
        writer.append(maskSeed)
        writer.append(words: degrees)
        writer.append(words: bodies)
        return ObjectHeader.seal(kind: kind, compressed: true, wordBits: T.bitWidth, parameterFingerprint: parameterFingerprint,
                                 payload: writer.bytes)
    }
}

extension SeededBlockCiphertextList {
    /// Reads the seeded form only, with its kind (`BlockCiphertextList.deserialize` reads both).
    public static func deserialize(_ data: Data, parameters: ParameterSet) throws -> (kind: ObjectKind, list: Self) {
        let kinds = Set(ObjectKind.allCases.filter(\.isBlockList))
        return try ObjectHeader.open(data, kinds: kinds, wordType: T.self, parameters: parameters) { reader, header in
            guard header.compressed else { throw SerializationError.invalidPayload("not the seeded form") }
            let count = Int(try reader.read(UInt32.self, "block count"))
            try BlockListFormat.checkedCount(count, kind: header.kind, parameters: parameters)
            try reader.expect(UInt32.self, parameters.ciphertextDimension, "dimension")
            let seed = try reader.readSeed("mask seed")
            let degrees = try BlockListFormat.readDegrees(&reader, count: count, parameters: parameters)
            let bodies = try reader.readWords(T.self, count: count, "bodies")
            return (header.kind, try SeededBlockCiphertextList(maskSeed: seed, bodies: bodies, degrees: degrees,
                                                           dimension: parameters.ciphertextDimension,
                                                           parameterFingerprint: parameters.fingerprint))
        }
    }
}
