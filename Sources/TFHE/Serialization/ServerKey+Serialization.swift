import TFHEKernelABI
import Foundation

/// Payloads. Both start with the shapes, which must be the parameter set's:
///     u32 n | u32 k | u32 N | u32 PBS levels | u32 KS levels
/// then
///     full:       n·(k+1)·l·(k+1)·N binary64 (the Fourier-domain bootstrapping key, in the
///                 blind rotation's layout, every polynomial as re[M] | im[M] with its points
///                 in canonical order) | kN·l_ks·(n+1) u32 (the key-switching key, whose
///                 entries the engine keeps to 32 bits)
///     compressed: 16-byte mask seed | n·(k+1)·l·N words (the body polynomial of every GGSW
///                 row) | kN·l_ks u32 (the body of every key-switching entry)
/// A KS32 set's key-switching entries are words on 2^32 in the same layout; the set's
/// fingerprint in the header (which counts the KS32 output modulus) is what tells them from a
/// 64-bit set's rounded entries, so a key of one never loads under the other.
/// The full form stores the Fourier-domain key rather than the standard one because that is
/// what the engine holds (a 64-bit word does not survive the trip to binary64 and back); it is
/// the same size as TFHE-rs's Fourier key. Loading it costs one copy and a check that every
/// value is finite and within N·2^w, the largest a transform of N torus words can reach.
enum ServerKeyFormat {
    static func writeShapes(_ writer: inout ByteWriter, _ p: ParameterSet) {
        for value in [p.lweDimension, p.glweDimension, p.polynomialSize, p.bootstrapDecomposition.levelCount,
                      p.keySwitchDecomposition.levelCount] {
            writer.append(UInt32(value))
        }
    }

    static func readShapes(_ reader: inout ByteReader, _ p: ParameterSet) throws {
        try reader.expect(UInt32.self, p.lweDimension, "LWE dimension")
        try reader.expect(UInt32.self, p.glweDimension, "GLWE dimension")
        try reader.expect(UInt32.self, p.polynomialSize, "polynomial size")
        try reader.expect(UInt32.self, p.bootstrapDecomposition.levelCount, "PBS levels")
        try reader.expect(UInt32.self, p.keySwitchDecomposition.levelCount, "KS levels")
    }

    static func fourierWordCount(_ p: ParameterSet) -> Int {
        FourierBootstrappingKey.wordCount(inputDimension: p.lweDimension, method: p.blindRotation, glweDimension: p.glweDimension,
                                          polynomialSize: p.polynomialSize, levels: p.bootstrapDecomposition.levelCount)
    }

    static func keySwitchWordCount(_ p: ParameterSet) -> Int {
        p.bigLWEDimension * p.keySwitchDecomposition.levelCount * (p.lweDimension + 1)
    }

    /// Payload bytes of each form under a parameter set: what a reader expects, and the size a
    /// caller can check a file against before reading it.
    static func payloadLength(_ p: ParameterSet, compressed: Bool) -> Int {
        let shapes = 20, word = p.torusBits / 8
        if compressed {
            return shapes + 16 + CompressedServerKey<UInt64>.bootstrappingBodyCount(p) * word
                + CompressedServerKey<UInt64>.keySwitchingBodyCount(p) * 4
        }
        return shapes + fourierWordCount(p) * 8 + keySwitchWordCount(p) * 4
    }

    static func checkLength(_ header: ObjectHeader, _ p: ParameterSet) throws {
        let expected = payloadLength(p, compressed: header.compressed)
        guard header.payloadLength == UInt64(expected) else {
            throw SerializationError.invalidPayload("payload of \(header.payloadLength) bytes, the parameter set implies \(expected)")
        }
    }
}

extension ServerKey {
    public func serialized() -> Data {
        let p = parameters
        var writer = ByteWriter(reservingCapacity: ServerKeyFormat.payloadLength(p, compressed: false))
        ServerKeyFormat.writeShapes(&writer, p)
        FourierPointOrder.append(bootstrappingKey.storage, polynomialSize: p.polynomialSize, from: fft.pointSlots, to: &writer)
        writer.append(words: keySwitchingKey.rows.pointer, count: keySwitchingKey.rows.count)
        return ObjectHeader.seal(kind: .serverKey, compressed: false, wordBits: T.bitWidth,
                                 parameterFingerprint: p.fingerprint, payload: writer.bytes)
    }

    /// Reads a server key in either form (a compressed one is decompressed).
    public convenience init(serialized data: Data, parameters p: ParameterSet) throws {
        // The form decides the reader; the checksum is checked once, by `open`.
        let header = try ObjectHeader.parse(prefix: data)
        if header.kind == .serverKey && header.compressed {
            let compressed = try CompressedServerKey<T>(serialized: data, parameters: p)
            let key = compressed.decompress()
            self.init(parameters: p, bootstrappingKey: key.bootstrappingKey, keySwitchingKey: key.keySwitchingKey, fft: key.fft)
            return
        }
        let fft = NegacyclicFFT(polynomialSize: p.polynomialSize)
        let (bsk, ksk) = try ObjectHeader.open(data, kinds: [.serverKey], wordType: T.self, parameters: p) { reader, header in
            try ServerKeyFormat.checkLength(header, p)
            try ServerKeyFormat.readShapes(&reader, p)
            let fourier = try reader.readAlignedDoubles(count: ServerKeyFormat.fourierWordCount(p), "bootstrapping key")
            let bound = Double(p.polynomialSize) * T.modulusAsDouble
            for i in 0..<fourier.count where !(abs(fourier.pointer[i]) <= bound) {
                throw SerializationError.invalidPayload("bootstrapping key value \(fourier.pointer[i]) at \(i) is not finite or above N·q")
            }
            let fileSlots = header.version == 1 ? NegacyclicFFT.formatVersion1Slots(polynomialSize: p.polynomialSize)
                                                : Array(0..<(p.polynomialSize / 2))
            FourierPointOrder.reorder(fourier, polynomialSize: p.polynomialSize, from: fileSlots, to: fft.pointSlots)
            let rows = try reader.readAlignedWords(UInt32.self, count: ServerKeyFormat.keySwitchWordCount(p), "key-switching key")
            return (FourierBootstrappingKey(inputDimension: p.lweDimension, method: p.blindRotation, glweDimension: p.glweDimension,
                                            polynomialSize: p.polynomialSize, decomposition: p.bootstrapDecomposition,
                                            storage: fourier),
                    KeySwitchingKey<T>(inputDimension: p.bigLWEDimension, outputDimension: p.lweDimension,
                                       decomposition: p.keySwitchDecomposition, outputModulusBits: p.postKeySwitchModulusBits,
                                       rows: rows))
        }
        self.init(parameters: p, bootstrappingKey: bsk, keySwitchingKey: ksk, fft: fft)
    }
}

extension CompressedServerKey {
    public func serialized() -> Data {
        let p = parameters
        var writer = ByteWriter(reservingCapacity: ServerKeyFormat.payloadLength(p, compressed: true))
        ServerKeyFormat.writeShapes(&writer, p)
        writer.append(maskSeed)
        writer.append(words: bootstrappingKeyBodies)
        writer.append(words: keySwitchingKeyBodies)
        return ObjectHeader.seal(kind: .serverKey, compressed: true, wordBits: T.bitWidth,
                                 parameterFingerprint: p.fingerprint, payload: writer.bytes)
    }

    public init(serialized data: Data, parameters p: ParameterSet) throws {
        self = try ObjectHeader.open(data, kinds: [.serverKey], wordType: T.self, parameters: p) { reader, header in
            guard header.compressed else { throw SerializationError.invalidPayload("not the compressed form") }
            try ServerKeyFormat.checkLength(header, p)
            try ServerKeyFormat.readShapes(&reader, p)
            let seed = try reader.readSeed("mask seed")
            let bodies = try reader.readWords(T.self, count: CompressedServerKey<T>.bootstrappingBodyCount(p), "bootstrapping key bodies")
            let keySwitch = try reader.readWords(UInt32.self, count: CompressedServerKey<T>.keySwitchingBodyCount(p), "key-switching key bodies")
            return CompressedServerKey(parameters: p, maskSeed: seed, bootstrappingKeyBodies: bodies, keySwitchingKeyBodies: keySwitch)
        }
    }
}
