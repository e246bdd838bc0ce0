import Foundation

/// Payload of a compact public-key list (kind `compactList`, never flagged compressed):
///     u16 target kind (the block-list kind it expands to) | u16 zero | u32 count | u32 k | u32 N
///     | count × u64 degree | k·N words (C_1..C_k) | count words (D[0..<count])
/// The count is at most N, and exactly the target kind's block count for a radix kind.
extension CompactCiphertextList {
    public func serialized(kind: ObjectKind = .blockList) throws -> Data {
        try BlockListFormat.kindCheck(kind)
        var writer = ByteWriter(reservingCapacity: 16 + count * 8 + (masks.count + bodies.count) * MemoryLayout<T>.size)
        writer.append(kind.rawValue)
        writer.append(UInt16(0))
        writer.append(UInt32(count))
        writer.append(UInt32(glweDimension))
        writer.append(UInt32(polynomialSize))
        writer.append(words: degrees)
        writer.append(words: masks)
        writer.append(words: bodies)
        return ObjectHeader.seal(kind: .compactList, compressed: false, wordBits: T.bitWidth,
                                 parameterFingerprint: parameterFingerprint, payload: writer.bytes)
    }

    /// Reads a compact list and the kind it expands to.
    public static func deserialize(_ data: Data, parameters p: ParameterSet) throws -> (kind: ObjectKind, list: Self) {
        try ObjectHeader.open(data, kinds: [.compactList], wordType: T.self, parameters: p) { reader, _ in
            try Self.readPayload(&reader, parameters: p)
        }
    }

    static func readPayload(_ reader: inout ByteReader, parameters p: ParameterSet) throws -> (kind: ObjectKind, list: Self) {
        let rawKind = try reader.read(UInt16.self, "target kind")
        guard let kind = ObjectKind(rawValue: rawKind), kind.isBlockList else {
            throw SerializationError.invalidPayload("target kind \(rawKind) is not a block-list kind")
        }
        try reader.expect(UInt16.self, 0, "reserved")
        let count = Int(try reader.read(UInt32.self, "block count"))
        guard count <= p.polynomialSize else {
            throw SerializationError.invalidPayload("block count \(count) above N = \(p.polynomialSize)")
        }
        try BlockListFormat.checkedCount(count, kind: kind, parameters: p)
        try reader.expect(UInt32.self, p.glweDimension, "GLWE dimension")
        try reader.expect(UInt32.self, p.polynomialSize, "polynomial size")
        let degrees = try BlockListFormat.readDegrees(&reader, count: count, parameters: p)
        let masks = try reader.readWords(T.self, count: p.glweDimension * p.polynomialSize, "masks")
        let bodies = try reader.readWords(T.self, count: count, "bodies")
        return (kind, CompactCiphertextList(parameterFingerprint: p.fingerprint, glweDimension: p.glweDimension,
                                            polynomialSize: p.polynomialSize, masks: masks, bodies: bodies, degrees: degrees))
    }
}
