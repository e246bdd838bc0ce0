import Foundation

/// Payloads: u32 k | u32 N, then
///     full:       (k+1)·N words (A_1..A_k, B)
///     compressed: 16-byte mask seed | N words (B)
extension PublicKey {
    public func serialized() -> Data {
        var writer = ByteWriter(reservingCapacity: 8 + polynomials.count * MemoryLayout<T>.size)
        writer.append(UInt32(parameters.glweDimension))
        writer.append(UInt32(parameters.polynomialSize))
        writer.append(words: polynomials)
        return ObjectHeader.seal(kind: .publicKey, compressed: false, wordBits: T.bitWidth,
                                 parameterFingerprint: parameters.fingerprint, payload: writer.bytes)
    }

    /// Reads a public key in either form (a compressed one is decompressed).
    public convenience init(serialized data: Data, parameters p: ParameterSet) throws {
        try PublicKey<T>.checkSupported(p)
        let polynomials = try ObjectHeader.open(data, kinds: [.publicKey], wordType: T.self, parameters: p) { reader, header in
            try reader.expect(UInt32.self, p.glweDimension, "GLWE dimension")
            try reader.expect(UInt32.self, p.polynomialSize, "polynomial size")
            if header.compressed {
                let seed = try reader.readSeed("mask seed")
                let body = try reader.readWords(T.self, count: p.polynomialSize, "body")
                return CompressedPublicKey(parameters: p, maskSeed: seed, body: body).decompress().polynomials
            }
            return try reader.readWords(T.self, count: (p.glweDimension + 1) * p.polynomialSize, "polynomials")
        }
        self.init(parameters: p, polynomials: polynomials)
    }
}

extension CompressedPublicKey {
    public func serialized() -> Data {
        var writer = ByteWriter(reservingCapacity: 24 + body.count * MemoryLayout<T>.size)
        writer.append(UInt32(parameters.glweDimension))
        writer.append(UInt32(parameters.polynomialSize))
        writer.append(maskSeed)
        writer.append(words: body)
        return ObjectHeader.seal(kind: .publicKey, compressed: true, wordBits: T.bitWidth,
                                 parameterFingerprint: parameters.fingerprint, payload: writer.bytes)
    }
}

extension CompressedPublicKey {
    /// Reads the compressed form only (`PublicKey(serialized:parameters:)` reads both).
    public init(serialized data: Data, parameters p: ParameterSet) throws {
        try PublicKey<T>.checkSupported(p)
        self = try ObjectHeader.open(data, kinds: [.publicKey], wordType: T.self, parameters: p) { reader, header in
            guard header.compressed else { throw SerializationError.invalidPayload("not the compressed form") }
            try reader.expect(UInt32.self, p.glweDimension, "GLWE dimension")
            try reader.expect(UInt32.self, p.polynomialSize, "polynomial size")
            return CompressedPublicKey(parameters: p, maskSeed: try reader.readSeed("mask seed"),
                                       body: try reader.readWords(T.self, count: p.polynomialSize, "body"))
        }
    }
}
