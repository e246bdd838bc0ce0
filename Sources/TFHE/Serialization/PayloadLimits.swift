/// The largest payload an object of each kind can have under a parameter set, computed from
/// the set's shapes alone: a reader of files checks a header's declared length against it
/// before reading (or allocating for) the rest.
extension ObjectHeader {
    public static func maximumPayloadLength(kind: ObjectKind, compressed: Bool, parameters p: ParameterSet) -> UInt64 {
        let word = p.torusBits / 8
        let length: Int
        switch kind {
        case .clientKey:
            length = 8 + p.lweDimension + p.bigLWEDimension
        case .serverKey:
            length = ServerKeyFormat.payloadLength(p, compressed: compressed)
        case .publicKey:
            length = 8 + (compressed ? 16 + p.polynomialSize * word : (p.glweDimension + 1) * p.polynomialSize * word)
        case .lweCiphertext:
            length = 4 + (compressed ? 16 + word : (p.ciphertextDimension + 1) * word)
        case .compactList:
            let n = p.polynomialSize
            length = 16 + n * 8 + (p.glweDimension * n + n) * word
        case .namedValues:
            // Sized by the reader's own limits (entries, vector lengths, file size), not by
            // the parameter set alone: the CLI's bound is the file's size.
            return UInt64(Int.max)
        case .blockList, .fheBool, .fheUint8, .fheUint16, .fheUint32, .fheUint64:
            let blocks = kind.blockCount(for: p) ?? BlockListFormat.maximumBlockCount
            length = 8 + (compressed ? 16 + blocks * (8 + word) : blocks * (8 + (p.ciphertextDimension + 1) * word))
        }
        return UInt64(length)
    }
}
