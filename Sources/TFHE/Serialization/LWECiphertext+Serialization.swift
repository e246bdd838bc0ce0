import Foundation

/// Payloads (after the 64-byte header):
///     full:   u32 dimension | (dimension + 1) words (mask then body)
///     seeded: u32 dimension | 16-byte mask seed | 1 body word
/// The dimension must be the parameter set's ciphertext dimension.
extension LWECiphertext {
    public func serialized() -> Data {
        var writer = ByteWriter(reservingCapacity: 4 + data.count * MemoryLayout<T>.size)
        writer.append(UInt32(dimension))
        writer.append(words: data)
        return ObjectHeader.seal(kind: .lweCiphertext, compressed: false, wordBits: T.bitWidth,
                                 parameterFingerprint: parameterFingerprint, payload: writer.bytes)
    }

    /// Reads a ciphertext in either form (a seeded one is decompressed).
    public init(serialized data: Data, parameters: ParameterSet) throws {
        self = try ObjectHeader.open(data, kinds: [.lweCiphertext], wordType: T.self, parameters: parameters) { reader, header in
            let dimension = parameters.ciphertextDimension
            try reader.expect(UInt32.self, dimension, "dimension")
            if header.compressed {
                let seed = try reader.readSeed("mask seed")
                let body = try reader.read(T.self, "body")
                return SeededLWECiphertext(maskSeed: seed, body: body, dimension: dimension,
                                           parameterFingerprint: parameters.fingerprint).decompress()
            }
            return LWECiphertext(data: try reader.readWords(T.self, count: dimension + 1, "ciphertext words"),
                                 parameterFingerprint: parameters.fingerprint)
        }
    }
}

extension SeededLWECiphertext {
    public func serialized() -> Data {
        var writer = ByteWriter()
        writer.append(UInt32(dimension))
        writer.append(maskSeed)
        writer.append(body)
        return ObjectHeader.seal(kind: .lweCiphertext, compressed: true, wordBits: T.bitWidth,
                                 parameterFingerprint: parameterFingerprint, payload: writer.bytes)
    }

    public init(serialized data: Data, parameters: ParameterSet) throws {
        self = try ObjectHeader.open(data, kinds: [.lweCiphertext], wordType: T.self, parameters: parameters) { reader, header in
            guard header.compressed else { throw SerializationError.invalidPayload("not the seeded form") }
            try reader.expect(UInt32.self, parameters.ciphertextDimension, "dimension")
            return SeededLWECiphertext(maskSeed: try reader.readSeed("mask seed"), body: try reader.read(T.self, "body"),
                                       dimension: parameters.ciphertextDimension, parameterFingerprint: parameters.fingerprint)
        }
    }
}
